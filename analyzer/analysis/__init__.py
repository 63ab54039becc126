"""Pure analysis over `list[LogRecord]`: no I/O anywhere below this package."""
