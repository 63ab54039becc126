"""Plain-text line formats: a regex with named groups and a time layout, bound to one file.

A `TextSpec` is a format as written in `text_formats.yaml` (or declared by a user); `bind` makes
the `LineFormat` that reads one file's lines, with that file's zone, year and name. Reading a
line is two steps, so that the lines nobody looks at cost little:

- `summary(raw)`: the record's time, service and level from the line's bytes (cached per time
  text and per program name), or None when the line is not one of this format's record starts;
- `fields(raw)`: the whole mapping (message with any continuation lines, the header's groups
  as fields, `key=value` pairs of the message), only when the record is asked for.

`SyslogFormat` reads RFC 3164 lines by byte positions instead of the regex (same answers,
checked by the tests); `LearnedFormat` is the format of a file no spec reads, built from where
its lines keep a time; `TimelessFormat` reads files without any time, dating each line by the
file's last change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import Severity
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.levels import (
    joined_level,
    status_level,
    syslog_level,
    words_level,
)
from analyzer.sources.formats.time_shapes import guess_reader
from analyzer.sources.formats.times import TimeReader

# group names with a role; `level2`, `thread2` ... are second spellings of the same role
TIME_GROUP = "time"
ROLE_GROUPS = frozenset({"time", "level", "pri", "status", "message", "tag"})
_SUFFIX = re.compile(r"\d+$")
_LEVEL_WORDS = (
    rb"trace|debug|dbug|dbg|verbose|info|information|notice|warn|warning|wrn|error|err|eror|"
    rb"fatal|critical|crit|panic|severe|emerg|alert"
)
# `[error]`, `ERROR:`, `<warn>`, `[core:error]`, `- ERROR -`, `E ` at the start of a message
_LEVEL_PREFIX = re.compile(
    rb"(?:-\s+)?[\[(<]?(?:[\w.-]+:)?(?P<level>" + _LEVEL_WORDS + rb")[\])>]?(?::|\s+-)?(?:\s+|$)",
    re.IGNORECASE,
)
# Python logging's `name - LEVEL - message` and `LEVEL name - message`
_NAMED_LEVEL = re.compile(
    rb"(?:-\s+)?(?P<name>\S+) - (?P<level>" + _LEVEL_WORDS + rb") - ", re.IGNORECASE
)
# `key=value` pairs inside a plain message (ids such as correlation_id=req-1)
PAIR = re.compile(r'\b([A-Za-z_][\w.]*)=("[^"]*"|[^\s,;]+)')


def level_word(text: str) -> Severity | None:
    """A level as a word (`WARNING`, `err`, `crit`, `trace3`), None when it is none."""
    try:
        return Severity.parse(text.strip().rstrip("0123456789") or text)
    except ValueError:
        return None


def leading_level(message: bytes) -> tuple[Severity | None, int]:
    """A level written at the start of a message, and where the message goes on after it."""
    named = _NAMED_LEVEL.match(message)
    if named:
        return level_word(named["level"].decode()), named.end()
    found = _LEVEL_PREFIX.match(message)
    if found:
        return level_word(found["level"].decode()), found.end()
    return None, 0


def _decode(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


@dataclass
class TextSpec:
    """One text format: see the header of `text_formats.yaml` for the fields."""

    name: str
    regex: str
    time: list[str] = field(default_factory=list)
    about: str = ""
    service: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    level_prefix: bool = False
    wraps: bool = False
    not_levels: tuple[str, ...] = ()
    no_time: bool = False
    fast: str | None = None
    time_groups: tuple[str, ...] = (TIME_GROUP,)  # declared formats may split date and clock
    fixed_service: str | None = None
    auto_time: bool = False  # no layout: the time's shape is recognised on the first line
    compiled: re.Pattern[bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = re.compile(self.regex.encode())
        names = set(self.compiled.groupindex)
        if not self.no_time and not names & set(self.time_groups):
            raise ValueError(f"format {self.name!r} has no time group")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TextSpec:
        time = data.get("time") or []
        return cls(
            name=str(data["name"]),
            regex=str(data["regex"]),
            time=[time] if isinstance(time, str) else list(time),
            about=str(data.get("about", "")),
            service=data.get("service"),
            levels={str(k): str(v) for k, v in (data.get("levels") or {}).items()},
            level_prefix=bool(data.get("level_prefix")),
            wraps=bool(data.get("wraps")),
            not_levels=tuple(data.get("not_levels") or ()),
            no_time=bool(data.get("no_time")),
            fast=data.get("fast"),
        )

    def bind(self, ctx: LineContext) -> LineFormat:
        if self.fast == "syslog":
            return SyslogFormat(self, ctx)
        return RegexFormat(self, ctx)


class LineFormat:
    """A format bound to one file (see the module docstring)."""

    name = "text"
    wraps = False  # the record must be built whole at once (its message is another line)
    timeless = False
    strict = False  # declared by the user: no other format is tried on its lines

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        raise NotImplementedError

    def fields(self, raw: bytes) -> dict[str, Any]:
        raise NotImplementedError

    def notes(self) -> list[str]:
        """What the account should say about how this format reads times."""
        return []

    def rebind(self, ctx: LineContext) -> LineFormat:
        """The same format for another reading of the file (another context)."""
        return self


_WRAPPER_OWN = frozenset({"message", "time", "tag"})  # a wrapper's groups that are no fields


class RegexFormat(LineFormat):
    def __init__(self, spec: TextSpec, ctx: LineContext) -> None:
        self.spec = spec
        self.name = spec.name
        self.wraps = spec.wraps
        self.ctx = ctx
        self.regex = spec.compiled
        groups = spec.compiled.groupindex
        self.time_groups = [g for g in spec.time_groups if g in groups]
        self.auto_time = spec.auto_time and not spec.no_time
        self.reader = (
            None if spec.no_time or self.auto_time
            else TimeReader(spec.time or ["iso"], ctx.tz, ctx.mtime_ns)
        )
        self.level_groups = [g for g in groups if _SUFFIX.sub("", g) == "level"]
        self.has_pri = "pri" in groups
        self.has_status = "status" in groups
        self.service_group = spec.service if spec.service in groups else None
        self.has_message = "message" in groups
        self.not_levels = [g for g in spec.not_levels if g in groups]
        self.levels = {k.encode(): level_word(v) for k, v in spec.levels.items()}
        self._services: dict[bytes, str] = {}
        self._level_cache: dict[bytes, Severity | None] = {}
        self.timeless = spec.no_time and not spec.wraps  # a wrapper's lines carry their own time
        # a wrapper's groups that become fields of the line it wraps
        self.wrapper_fields = tuple(
            g for g in groups if spec.wraps and g not in _WRAPPER_OWN and g != self.service_group
        )

    # -- summary ----------------------------------------------------------------------------

    def _time(self, match: re.Match[bytes]) -> int | None:
        if self.reader is None and not self.auto_time:
            return self.ctx.mtime_ns or 0
        if len(self.time_groups) == 1:
            text = match.group(self.time_groups[0])
        else:
            text = b" ".join(p for p in match.group(*self.time_groups) if p)
        if not text:
            return None
        if self.reader is None:
            self.reader = guess_reader(_decode(text), self.ctx.tz, self.ctx.mtime_ns)
            if self.reader is None:
                return None
        return self.reader.read(text)

    def _service(self, match: re.Match[bytes]) -> str:
        if self.spec.fixed_service:
            return self.spec.fixed_service
        if self.service_group is None:
            return self.ctx.stem
        value = match.group(self.service_group)
        if not value or value == b"-":
            return self.ctx.stem
        found = self._services.get(value)
        if found is None:
            found = _decode(_strip_pid(value).strip()) or self.ctx.stem
            if len(self._services) < 4096:
                self._services[value] = found
        return found

    def _named_level(self, text: bytes) -> Severity | None:
        found = self._level_cache.get(text, ...)
        if found is ...:
            found = self.levels.get(text)
            if found is None:
                found = level_word(_decode(text))
            if len(self._level_cache) < 1024:
                self._level_cache[text] = found
        return found  # type: ignore[return-value]

    def _level(self, match: re.Match[bytes], raw: bytes) -> tuple[Severity | None, int]:
        """The level, and where the message starts once a leading level is taken off."""
        start = match.start("message") if self.has_message and match.group("message") is not None else match.end()
        for group in self.level_groups:
            value = match.group(group)
            if value:
                found = self._named_level(value)
                if found is not None:
                    return found, start
        if self.has_pri and match.group("pri"):
            return syslog_level(int(match.group("pri"))), start
        if self.has_status and match.group("status"):
            return status_level(int(match.group("status"))), start
        message = raw[start : self._message_end(match, raw)]
        if self.spec.level_prefix:
            found, skip = leading_level(message)
            if found is not None:
                return found, start + skip
        return words_level(message), start

    def _message_end(self, match: re.Match[bytes], raw: bytes) -> int:
        if self.has_message and match.group("message") is not None:
            return match.end("message")
        return len(raw)

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        match = self.regex.match(raw)
        if match is None:
            return None
        for group in self.not_levels:
            value = match.group(group)
            if value and level_word(_decode(value)) is not None:
                return None
        ts = self._time(match)
        if ts is None:
            return None
        return ts, self._service(match), self._level(match, raw)[0]

    # -- the record ---------------------------------------------------------------------------

    def fields(self, raw: bytes) -> dict[str, Any]:
        first, _, rest = raw.partition(b"\n")
        match = self.regex.match(first)
        if match is None:  # cannot happen for a line `summary` read
            return {"message": _decode(raw)}
        level, start = self._level(match, first)
        data: dict[str, Any] = {}
        for name, value in match.groupdict().items():
            role = _SUFFIX.sub("", name)
            if value is None or value == b"-" or role in ROLE_GROUPS or name in self.time_groups:
                continue
            if name == self.service_group:
                continue
            data.setdefault(role, _decode(value))
        message = _decode(first[start : self._message_end(match, first)]).rstrip()
        if message and "=" in message:
            for key, value in PAIR.findall(message):
                data.setdefault(key, value.strip('"'))
        if rest:
            message = f"{message}\n{_decode(rest)}"
        if self.has_status and match.group("status"):
            data["status"] = int(match.group("status"))
        if self.has_pri and match.group("pri"):
            pri = int(match.group("pri"))
            data["facility"] = pri // 8
        data["message"] = message
        data["level"] = (level or Severity.INFO).label
        data["service"] = self._service(match)
        return data

    def rebind(self, ctx: LineContext) -> LineFormat:
        found = self.spec.bind(ctx)
        found.strict = self.strict
        return found

    def notes(self) -> list[str]:
        return self.reader.notes() if self.reader is not None else [
            "no time in its lines: dated by the file's last change"
        ]


def _strip_pid(value: bytes) -> bytes:
    """`sshd[123]` -> `sshd`."""
    if value.endswith(b"]"):
        cut = value.rfind(b"[")
        if cut > 0 and value[cut + 1 : -1].isdigit():
            return value[:cut]
    return value


class SyslogFormat(RegexFormat):
    """RFC 3164 by byte positions: `[<PRI>]Mmm dd hh:mm:ss host program[pid]: message`."""

    def __init__(self, spec: TextSpec, ctx: LineContext) -> None:
        super().__init__(spec, ctx)
        assert self.reader is not None
        self._read_time = self.reader.read
        self._times = self.reader._cache  # the reader's own cache, looked into first

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        pri = None
        line = raw
        if raw[:1] == b"<":
            close = raw.find(b">", 1, 5)
            if close < 0 or not raw[1:close].isdigit():
                return None
            pri = int(raw[1:close])
            line = raw[close + 1 :]
        key = line[:15]
        ts = self._times.get(key)
        if ts is None:
            ts = self._read_time(key)
        if ts is None or line[15:16] != b" " or line[16:17] in (b" ", b""):
            return None
        host_end = line.find(b" ", 16)
        if host_end < 0:
            return None
        start = host_end + 1
        colon = line.find(b":", start, start + 72)
        service = self.ctx.stem
        if colon > start:
            tag = line[start:colon]
            found = self._services.get(tag)
            if found is None:
                found = self._tag_service(tag)
                if len(self._services) < 4096:
                    self._services[tag] = found
            if found is not None:
                service = found
                start = colon + 2 if line[colon + 1 : colon + 2] == b" " else colon + 1
        if pri is not None:
            return ts, service, syslog_level(pri)
        return ts, service, words_level(line[start:])

    def _tag_service(self, tag: bytes) -> str | None:
        """The program a tag names (None when the text before the colon is no tag), as the
        regex's `program[pid]` groups read it."""
        program = _strip_pid(tag)
        if len(program) > 48 or program[-1:].isspace() or not program.strip():
            return None
        if b"[" in program or b"]" in program:
            return None
        return _decode(program.strip())


class LearnedFormat(RegexFormat):
    """A file no spec reads, whose lines keep a time of a known shape at the same place: the
    time is read there, the level from the line's words, the text before the time is kept as
    the `header` field and the rest is the message."""

    def __init__(self, shape: TextSpec, place: int, ctx: LineContext) -> None:
        prefix = rf"(?P<header>(?:\S+\s+){{{place}}})" if place else ""
        spec = TextSpec(
            name=f"learned ({shape.name} time at field {place + 1})",
            regex=prefix + r"[\[(<]?(?P<time>" + _boxed(shape.regex) + r")[\])>]?[\s:|,;-]*(?P<message>.*)",
            time=shape.time,
            about="a time found at the same place in every line",
        )
        super().__init__(spec, ctx)
        self.shape, self.place = shape, place

    def rebind(self, ctx: LineContext) -> LineFormat:
        return LearnedFormat(self.shape, self.place, ctx)

    def _level(self, match: re.Match[bytes], raw: bytes) -> tuple[Severity | None, int]:
        # the words of the whole line, as Loki reads a line of unknown format
        start = match.start("message")
        header = (match.group("header") or b"") if self.place else b""
        return words_level(header + raw[start:]), start


def _boxed(regex: str) -> str:
    """A time shape that must stand alone: not inside a longer number or word."""
    return r"(?<![\w.:/+-])(?:" + regex + r")(?![\w:/])"


class TimelessFormat(LineFormat):
    """A file with no time in its lines: each line that does not continue the one before is a
    record, dated by the file's last change; levels from the words."""

    timeless = True

    def __init__(self, ctx: LineContext, continuation: re.Pattern[bytes]) -> None:
        self.name = "no timestamps"
        self.ctx = ctx
        self.continuation = continuation

    def summary(self, raw: bytes) -> tuple[int, str, Severity | None] | None:
        if not raw.strip() or self.continuation.match(raw):
            return None
        return self.ctx.mtime_ns or 0, self.ctx.stem, words_level(raw)

    def fields(self, raw: bytes) -> dict[str, Any]:
        lines = raw.split(b"\n")
        level = joined_level(words_level(lines[0]), lines[1:]) or Severity.INFO
        return {"message": _decode(raw).rstrip(), "level": level.label, "service": self.ctx.stem}

    def rebind(self, ctx: LineContext) -> LineFormat:
        return TimelessFormat(ctx, self.continuation)

    def notes(self) -> list[str]:
        return ["no time in its lines: dated by the file's last change"]


def load_specs(entries: Iterable[dict[str, Any]]) -> list[TextSpec]:
    return [TextSpec.from_data(entry) for entry in entries]
