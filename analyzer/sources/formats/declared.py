"""Formats a user declares: Loki's `pattern` syntax, a regex with named groups, or a built-in
format by name, each with an optional time layout, zone and service, for the files a glob
selects (`formats:` in the settings; `--log-format` / `--time-layout` on the command line).

The pattern syntax is Loki's (`<ip> - - [<ts>] "<method> <path> <_>" <status> <_>`): `<name>`
captures up to the first occurrence of the literal text after it, `<_>` skips, the pattern must
match from the line's start and need not reach its end. One difference: a space in the pattern
matches a run of spaces, as log columns are often padded (`Jul  1 09:00:55`).

What a capture means goes by its name: the time is `time`/`timestamp`/`ts`/`datetime`, joined
with spaces to any of `date`, `day`, `month`, `year`, `clock` in the order they appear
(`<date> <time>`, `<month> <day> <time>`);
`level`/`severity`/`lvl`/`loglevel`; `service`/`app`/`application`/`program`/`component`/
`container`/`job` names the service (a `[pid]` at its end is dropped); `message`/`msg`/
`content`/`text`; `status` an HTTP status; `pri` a syslog PRI. Any other capture is a field.
Without a time layout the time's shape is recognised from the first line that matches (see
`time_shapes` in `text_formats.yaml`). A line a declared format does not match continues the
record before it, or is counted as unparsed; no other format is tried on it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from analyzer.errors import AnalyzerError
from analyzer.sources.formats.context import LineContext
from analyzer.sources.formats.registry import spec_named
from analyzer.sources.formats.structured import JsonFormat, LogfmtFormat
from analyzer.sources.formats.text import LineFormat, TextSpec
from analyzer.sources.formats.times import LayoutError, compile_layout, zone

TIME_NAMES = ("time", "timestamp", "ts", "datetime")
TIME_PIECES = ("date", "day", "month", "year", "clock")
LEVEL_NAMES = ("level", "severity", "lvl", "loglevel", "log_level")
SERVICE_NAMES = (
    "service", "service_name", "app", "application", "program", "prog", "component",
    "container", "job",
)
MESSAGE_NAMES = ("message", "msg", "content", "text")
_CAPTURE = re.compile(r"<(_|[A-Za-z_][A-Za-z0-9_]*)>")


class FormatError(AnalyzerError, ValueError):
    """A declared format that cannot be used, with what to do instead."""

    code = "INVALID_LOG_FORMAT"
    suggestion = (
        "Declare a Loki pattern such as '[<time>] [<level>] <message>', a regex with named "
        "groups such as '(?P<time>\\S+) (?P<message>.*)', or a known format's name; add a time "
        "layout (strftime or Go reference time) if the time is not recognised."
    )


def pattern_regex(pattern: str) -> str:
    """Loki's pattern syntax as a Python regex (see the module docstring)."""
    parts = _CAPTURE.split(pattern)
    # parts: literal, name, literal, name, ..., literal
    names = parts[1::2]
    named = [n for n in names if n != "_"]
    if not named:
        raise FormatError(f"pattern {pattern!r} has no named capture such as <message>")
    duplicates = {n for n in named if named.count(n) > 1}
    if duplicates:
        raise FormatError(f"pattern {pattern!r} captures {', '.join(sorted(duplicates))} twice")
    out = []
    last_capture = len(names) - 1
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if i and i < len(parts) - 1 and part == "":
                raise FormatError(
                    f"pattern {pattern!r} has two captures in a row (<{parts[i - 1]}><{parts[i + 1]}>):"
                    " put the text between them in the pattern"
                )
            out.append(re.escape(part).replace("\\ ", " +"))
            continue
        final = (i - 1) // 2 == last_capture and parts[i + 1] == ""
        body = ".*" if final else ".*?"
        out.append(f"(?:{body})" if part == "_" else f"(?P<{part}>{body})")
    return "".join(out)


def spec_from_regex(name: str, regex: str, time_layout: str | None, service: str | None) -> TextSpec:
    """A `TextSpec` for a regex whose group names say their roles (see the module docstring)."""
    try:
        groups = list(re.compile(regex).groupindex)
    except re.error as exc:
        raise FormatError(f"format regex {regex!r} does not compile: {exc}") from exc
    renames: dict[str, str] = {}
    time_groups = [g for g in groups if g in TIME_NAMES or g in TIME_PIECES]
    level = "level" if "level" in groups else next((g for g in groups if g in LEVEL_NAMES), None)
    if level is not None and level != "level":
        renames[level] = "level"
    message = (
        "message" if "message" in groups else next((g for g in groups if g in MESSAGE_NAMES), None)
    )
    if message is not None and message != "message":
        renames[message] = "message"
    if "status_code" in groups and "status" not in groups:
        renames["status_code"] = "status"
    for old, new in renames.items():
        regex = re.sub(rf"\(\?P<{old}>", f"(?P<{new}>", regex)
    service_group = next((g for g in groups if g in SERVICE_NAMES), None)
    layouts: list[str] = []
    if time_layout:
        try:
            compile_layout(time_layout)
        except LayoutError as exc:
            raise FormatError(str(exc)) from exc
        layouts = [time_layout]
    spec = TextSpec(
        name=name,
        regex=regex,
        time=layouts,
        service=service_group,
        level_prefix=level is None,
        no_time=not time_groups,
        time_groups=tuple(time_groups) or ("time",),
        fixed_service=service,
    )
    spec.auto_time = not layouts  # the time's shape is recognised on the first line
    return spec


@dataclass
class Declared:
    """One declared format and the files it is for."""

    match: str = "*"
    spec: str = ""  # pattern, regex or a format's name, as the user wrote it
    kind: str = "pattern"  # pattern, regex or named
    time_layout: str | None = None
    timezone: str | None = None
    service: str | None = None
    text_spec: TextSpec | None = field(default=None, repr=False)

    def applies_to(self, path: Path, origin_name: str) -> bool:
        if self.match in ("*", "", "**"):
            return True
        return any(
            fnmatch.fnmatch(candidate, self.match)
            for candidate in (str(path), origin_name, path.name)
        )

    def bind(self, ctx: LineContext) -> LineFormat:
        if self.kind == "named" and self.text_spec is None:
            found: LineFormat = JsonFormat("json") if self.spec == "json" else LogfmtFormat(ctx)
        else:
            assert self.text_spec is not None
            found = self.text_spec.bind(ctx)
        found.strict = True
        return found

    @property
    def label(self) -> str:
        return f"declared {self.kind}: {self.spec}"


def declared(
    spec: str,
    *,
    match: str = "*",
    time_layout: str | None = None,
    timezone: str | None = None,
    service: str | None = None,
) -> Declared:
    """A declared format from what the user wrote; FormatError when it cannot be used."""
    text = spec.strip()
    if not text:
        raise FormatError("empty format")
    if timezone:
        try:
            zone(timezone)
        except LayoutError as exc:
            raise FormatError(str(exc)) from exc
    if text.lower() in ("json", "logfmt"):
        return Declared(match, text.lower(), "named", time_layout, timezone, service)
    named = spec_named(text)
    if named is not None:
        if time_layout:
            try:
                compile_layout(time_layout)
            except LayoutError as exc:
                raise FormatError(str(exc)) from exc
            named = replace(named, time=[time_layout])
        if service:
            named = replace(named, fixed_service=service)
        return Declared(match, text, "named", time_layout, timezone, service, named)
    if "(?P<" in text:
        return Declared(match, text, "regex", time_layout, timezone, service,
                        spec_from_regex("declared regex", text, time_layout, service))
    if _CAPTURE.search(text):
        regex = pattern_regex(text)
        return Declared(match, text, "pattern", time_layout, timezone, service,
                        spec_from_regex("declared pattern", regex, time_layout, service))
    from analyzer.sources.formats.registry import format_names

    raise FormatError(
        f"format {text!r} is neither a pattern (<time> <level> <message>), a regex with named "
        f"groups ((?P<time>...)), nor a known format ({', '.join(format_names())})"
    )


@dataclass
class FormatRules:
    """The declared formats (first match wins) and the zone of times that carry none."""

    rules: list[Declared] = field(default_factory=list)
    timezone: str | None = None

    def tz(self, path: Path, origin_name: str) -> tzinfo:
        rule = self.rule_for(path, origin_name)
        return zone((rule.timezone if rule else None) or self.timezone)

    def rule_for(self, path: Path, origin_name: str) -> Declared | None:
        for rule in self.rules:
            if rule.applies_to(path, origin_name):
                return rule
        return None

    @classmethod
    def from_settings(cls, value: Any) -> FormatRules:
        """From the settings' `formats` entry: a mapping with `timezone` and `files` (rules with
        `match`, one of `pattern` / `regex` / `format`, and optional `time_layout`, `timezone`,
        `service`), or a list of such rules."""
        rules: list[Declared] = []
        timezone = None
        entries: list[Any] = []
        if isinstance(value, dict):
            unknown = set(value) - {"timezone", "files"}
            if unknown:
                raise FormatError(f"unknown keys under formats: {', '.join(sorted(unknown))}"
                                  " (use timezone and files)")
            timezone = value.get("timezone")
            entries = list(value.get("files") or [])
        elif isinstance(value, list):
            entries = value
        elif value not in (None, ""):
            raise FormatError("formats must be a mapping (timezone, files) or a list of file rules")
        for entry in entries:
            rules.append(_rule(entry))
        if timezone:
            try:
                zone(timezone)
            except LayoutError as exc:
                raise FormatError(str(exc)) from exc
        return cls(rules, timezone)


_RULE_KEYS = {"match", "path", "pattern", "regex", "format", "time_layout", "timezone", "service"}


def _rule(entry: Any) -> Declared:
    if not isinstance(entry, dict):
        raise FormatError(f"a formats.files entry must be a mapping, not {entry!r}")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise FormatError(f"unknown keys in a formats.files entry: {', '.join(sorted(unknown))}")
    given = [k for k in ("pattern", "regex", "format") if entry.get(k)]
    if len(given) != 1:
        raise FormatError("each formats.files entry needs exactly one of pattern, regex or format")
    text = str(entry[given[0]])
    if given[0] == "regex" and "(?P<" not in text:
        raise FormatError(f"format regex {text!r} has no named group such as (?P<message>...)")
    return declared(
        text,
        match=str(entry.get("match") or entry.get("path") or "*"),
        time_layout=entry.get("time_layout"),
        timezone=entry.get("timezone"),
        service=entry.get("service"),
    )
