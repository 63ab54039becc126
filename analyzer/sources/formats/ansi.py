"""Terminal colour codes out of log lines.

Programs that colour their output for a terminal (`\\x1b[31mERROR\\x1b[0m`) keep doing it when
Docker or Kubernetes captures the output to a file, and the codes hide the time and level from
every format. They are removed before a line is read (detection, scan, follow); a line without
an escape character costs one byte search.
"""

from __future__ import annotations

import re

_CSI_BYTES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
_CSI_TEXT = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def plain_bytes(raw: bytes) -> bytes:
    """`raw` without its ANSI control sequences (the same object when it holds none)."""
    return _CSI_BYTES.sub(b"", raw) if b"\x1b" in raw else raw


def plain_text(text: str) -> str:
    return _CSI_TEXT.sub("", text) if "\x1b" in text else text
