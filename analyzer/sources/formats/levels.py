"""A record's level when the line names none in a field: Loki's `detected_level`, and a little more.

Loki's distributor (`pkg/distributor/field_detection.go`) sets `detected_level` from, in order:
a level label or structured metadata field, the OTLP severity number, a level field of a JSON or
logfmt line (`level`, `log.level`, `severity`, `SeverityText`, `lvl`, `severity_text`, in any of
their usual cases), and, for any other line, the earliest of the words `trace`, `debug`, `fatal`,
`critical`, `error`, `err`, `warning`, `warn`, `info` that stands alone (left of it a space, tab,
`[ ( { " ' = |` or the line start; right of it the same or `] ) } : , !` or the end). It answers
`unknown` when nothing is found.

This module does the same, with these differences, each because a real line came out wrong:

- The field order is the same, and fields also take the numeric scales real loggers write:
  syslog numbers (journald `PRIORITY`, GELF `level`), Bunyan/pino `level` 10..60 and OpenTelemetry
  `severity_number` 1..24 (Loki reads only the last). See `numeric_level`.
- Syslog lines with a `<PRI>` take their severity from it (`pri % 8`), and access logs take it
  from the HTTP status (5xx error, 4xx warn), before any word: Loki has no such step, so a 500
  in an nginx log is `unknown` there.
- The words are looked for in the record's message, not in its header, so a host or program
  named `error-reporter` or `info-svc` does not set the level of every line it writes. On a line
  whose format is not known, the whole line is the message, as in Loki.
- More words: `notice` (info), `panic` and `emerg` (fatal), `severe` (error, java.util.logging),
  `crit` (fatal), `dbg`, `wrn`, `eror` (what some loggers abbreviate to).
- A line of no access-log format that holds a request line and its status (Django's and
  Envoy's access lines, `"GET /x HTTP/1.1" 503`; HAProxy's timers then status; an AWS load
  balancer's processing times then status) takes the status's level when no level word is
  found, as an access log does.
- When no level word is found, failure words are looked for before giving up: `exception`,
  `traceback`, `segfault`, `out of memory`, `oom-killer` and an exception or error class
  (`NullPointerException`, `ValueError`) make an error, `panic` a fatal,
  and `failed`, `failure`, `denied`, `refused`, `invalid`, `timed out`, `unable`, `cannot` and
  `could not` a warning. Loki answers `unknown` for a kernel's "Out of memory:
  Killed process" or sshd's "Failed password": here they reach the warnings and errors that
  the catalog and the error counts read. A level word wins over them ("INFO retry failed" is info).
- Lines joined into one record (a stack trace) are read line by line until one says a level:
  "Unhandled exception" over a `Traceback` is an error.
- `unknown` is `info` here: the model has no unknown level, and an unlabelled line is counted
  with the ordinary ones rather than with the failures.

Words are found by translating the text to lower case with the boundary characters turned into
spaces and splitting it: one C pass and a set test per line, so syslog files read at a few
hundred thousand lines a second.
"""

from __future__ import annotations

import re

from analyzer.model import Severity

_D, _I, _W, _E, _F = Severity.DEBUG, Severity.INFO, Severity.WARN, Severity.ERROR, Severity.FATAL

_WORDS: dict[str, Severity] = {
    # Loki's words
    "trace": _D,
    "debug": _D,
    "info": _I,
    "warn": _W,
    "warning": _W,
    "error": _E,
    "err": _E,
    "fatal": _F,
    "critical": _F,
    # and what else real loggers print as their level
    "dbg": _D,
    "notice": _I,
    "wrn": _W,
    "eror": _E,
    "severe": _E,
    "crit": _F,
    "panic": _F,
    "emerg": _F,
}
# Loki's right boundary also allows `:`, `,` and `!`, which are kept apart from the left boundary
# (`misc:error` is no level): the word with one of them after it is a word of its own here
_SUFFIXES = (":", ",", "!")

_FAILURE_WORDS: dict[str, Severity] = {
    "exception": _E,
    "traceback": _E,
    "segfault": _E,
    "oom-killer": _E,
    "failed": _W,
    "failure": _W,
    "denied": _W,
    "refused": _W,
    "invalid": _W,
    "unable": _W,
    "cannot": _W,
}
_FAILURE_PHRASES: tuple[tuple[str, Severity], ...] = (
    ("out of memory", _E),
    ("timed out", _W),
    ("could not", _W),
)

_BOUNDARY = " \t\n\r[](){}\"'=|"
# an exception or error class named in the line: NullPointerException, ValueError (not
# `libexception-perl`, a package name)
_CLASS_FAILURE = re.compile(r"[A-Za-z0-9_$](?:Exception|Error)\b")
_CLASS_FAILURE_BYTES = re.compile(_CLASS_FAILURE.pattern.encode())


def _word_table() -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for word, level in _WORDS.items():
        out[word] = level
        for suffix in _SUFFIXES:
            out[word + suffix] = level
    return out


LEVEL_WORDS = _word_table()
_LEVEL_BYTES = {k.encode(): v for k, v in LEVEL_WORDS.items()}
_LEVEL_SET = frozenset(LEVEL_WORDS)
_LEVEL_BYTES_SET = frozenset(_LEVEL_BYTES)


def _failure_table() -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for word, level in _FAILURE_WORDS.items():
        out[word] = level
        for suffix in (*_SUFFIXES, "."):
            out[word + suffix] = level
    return out


_FAILURES = _failure_table()
_FAILURE_BYTES = {k.encode(): v for k, v in _FAILURES.items()}
_FAILURE_SET = frozenset(_FAILURES)
_FAILURE_BYTES_SET = frozenset(_FAILURE_BYTES)
_PHRASE_BYTES = tuple((p.encode(), v) for p, v in _FAILURE_PHRASES)
# a phrase can be in a line only if its first word is one of the line's words
_PHRASE_TRIGGER_BYTES = frozenset(p.split()[0].encode() for p, _ in _FAILURE_PHRASES)

_STR_TABLE = str.maketrans({c: " " for c in _BOUNDARY})
_BYTES_TABLE = bytes.maketrans(
    bytes(range(256)),
    bytes(32 if chr(c) in _BOUNDARY else (c + 32 if 65 <= c <= 90 else c) for c in range(256)),
)


# a request line and its status, HAProxy's timers and its status, or an AWS load balancer's
# three processing times and its status, inside a line
_REQUEST_STATUS = re.compile(
    r'"[A-Z]+ [^"]* HTTP/[\d.]+" (\d{3})\b'
    r"|\d+/\d+/\d+/[+\d-]+/\+?\d+ (\d{3}) "
    r"| -?\d+\.\d+ -?\d+(?:\.\d+)? -?\d+(?:\.\d+)? (\d{3}) (?:\d{3}|-) "
)
_REQUEST_STATUS_BYTES = re.compile(_REQUEST_STATUS.pattern.encode())


def _request_status(match: re.Match[str] | re.Match[bytes] | None) -> Severity | None:
    if match is None:
        return None
    return status_level(int(match[1] or match[2] or match[3]))


def words_level(text: bytes) -> Severity | None:
    """The level a line's words say (bytes), None when they say none."""
    low = text.translate(_BYTES_TABLE)
    tokens = low.split()
    if not _LEVEL_BYTES_SET.isdisjoint(tokens):
        get = _LEVEL_BYTES.get
        for token in tokens:
            found = get(token)
            if found is not None:
                return found
    if b"HTTP/" in text:
        found = _request_status(_REQUEST_STATUS_BYTES.search(text))
        if found is not None:
            return found
    hits = _FAILURE_BYTES_SET.intersection(tokens)
    if hits:
        return max(_FAILURE_BYTES[t] for t in hits)
    if not _PHRASE_TRIGGER_BYTES.isdisjoint(tokens):
        for phrase, level in _PHRASE_BYTES:
            if phrase in low:
                return level
    if (b"Exception" in text or b"Error" in text) and _CLASS_FAILURE_BYTES.search(text):
        return _E
    return None


def text_level(text: str) -> Severity | None:
    """`words_level` for a str."""
    low = text.lower().translate(_STR_TABLE)
    tokens = low.split()
    if not _LEVEL_SET.isdisjoint(tokens):
        for token in tokens:
            found = LEVEL_WORDS.get(token)
            if found is not None:
                return found
    if "HTTP/" in text:
        found = _request_status(_REQUEST_STATUS.search(text))
        if found is not None:
            return found
    hits = _FAILURE_SET.intersection(tokens)
    if hits:
        return max(_FAILURES[t] for t in hits)
    for phrase, level in _FAILURE_PHRASES:
        if phrase in low:
            return level
    if ("Exception" in text or "Error" in text) and _CLASS_FAILURE.search(text):
        return _E
    return None


def joined_level(first: Severity | None, rest: list[bytes]) -> Severity | None:
    """The level of a record joined from several lines: its first line's, else the first
    continuation line that says one."""
    if first is not None:
        return first
    for line in rest:
        found = words_level(line)
        if found is not None:
            return found
    return None


def syslog_level(priority: int) -> Severity:
    """Severity of a syslog PRI (facility * 8 + severity) or of a bare severity number 0..7."""
    return Severity.parse(priority % 8)


def status_level(status: int) -> Severity:
    """An HTTP status as Loki users read access logs: 5xx error, 4xx warn, else info."""
    if status >= 500:
        return Severity.ERROR
    if status >= 400:
        return Severity.WARN
    return Severity.INFO


_BUNYAN = {10: _D, 20: _D, 30: _I, 40: _W, 50: _E, 60: _F}


def otel_level(number: int) -> Severity:
    """OpenTelemetry SeverityNumber: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error,
    21-24 fatal (the log data model); 0 and anything else is unspecified: info."""
    if 1 <= number <= 8:
        return _D
    if 13 <= number <= 16:
        return _W
    if 17 <= number <= 20:
        return _E
    if 21 <= number <= 24:
        return _F
    return _I


def numeric_level(key: str, value: int) -> Severity:
    """A number in a level field, read on the scale its key and value say: OpenTelemetry for
    `severity_number`, Bunyan/pino for 10..60 in steps of ten, syslog for 0..7."""
    lowered = key.lower()
    if "number" in lowered:
        return otel_level(value)
    if value in _BUNYAN:
        return _BUNYAN[value]
    if 0 <= value <= 7:
        return Severity.parse(value)
    return _I
