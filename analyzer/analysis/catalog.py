"""Named failure patterns (data in `catalog.yaml`, extendable by a user file).

A line gets at most one name: the first pattern, in file order, whose regex matches and whose
`exclude` does not. Regexes are written to be both Python- and RE2-compatible so the same text
can become a Loki ruler alert (`rule_export`). `blame` tells root-cause ranking whether a line
accuses the logging service itself, something it calls, or whoever called it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from analyzer.errors import AnalyzerError
from analyzer.model import Severity

BUILTIN_FILE = Path(__file__).with_name("catalog.yaml")
BLAME_VALUES = ("self", "upstream", "caller")
_MEMO_LIMIT = 1 << 16
_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")


class CatalogError(ValueError):
    """A catalog file is malformed; names the file and the pattern at fault."""


@dataclass(frozen=True, slots=True)
class CatalogPattern:
    name: str
    category: str
    severity: Severity
    blame: str
    regex: str
    suggestion: str
    exclude: tuple[str, ...] = ()
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    compiled: re.Pattern[str] = field(repr=False, compare=False, default=re.compile(""))
    compiled_exclude: tuple[re.Pattern[str], ...] = field(repr=False, compare=False, default=())

    def matches(self, message: str) -> bool:
        if not self.compiled.search(message):
            return False
        return not any(rx.search(message) for rx in self.compiled_exclude)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "severity": self.severity.label,
            "blame": self.blame,
            "regex": self.regex,
            "exclude": list(self.exclude),
            "suggestion": self.suggestion,
        }


class Catalog:
    """Ordered patterns with a memo: repeated messages cost one dict lookup."""

    def __init__(self, patterns: Iterable[CatalogPattern]) -> None:
        self.patterns = list(patterns)
        self.by_name = {p.name: p for p in self.patterns}
        # one combined search rejects the (usual) healthy line without trying every pattern
        self._any = re.compile(
            "|".join(f"(?:{p.regex})" for p in self.patterns) or "(?!)", re.IGNORECASE
        )
        self._memo: dict[str, CatalogPattern | None] = {}

    def __len__(self) -> int:
        return len(self.patterns)

    def __iter__(self) -> Iterator[CatalogPattern]:
        return iter(self.patterns)

    def match(self, message: str) -> CatalogPattern | None:
        try:
            return self._memo[message]
        except KeyError:
            pass
        found = None
        if self._any.search(message):
            found = next((p for p in self.patterns if p.matches(message)), None)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[message] = found
        return found

    def get(self, name: str) -> CatalogPattern | None:
        return self.by_name.get(name)


def _compile(regex: str, where: str) -> re.Pattern[str]:
    from analyzer.sources.logql import validate_regex

    try:
        validate_regex(regex)
    except AnalyzerError as exc:
        raise CatalogError(f"{where}: {exc.message}") from exc
    return re.compile(regex, re.IGNORECASE)


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_pattern(data: dict[str, Any], source: str) -> CatalogPattern:
    name = str(data.get("name") or "")
    where = f"{source}: pattern {name or '?'}"
    if not _NAME.fullmatch(name):
        raise CatalogError(f"{where}: name must be lower_snake_case")
    missing = [k for k in ("category", "severity", "regex", "suggestion") if not data.get(k)]
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    blame = str(data.get("blame") or "self")
    if blame not in BLAME_VALUES:
        raise CatalogError(f"{where}: blame must be one of {BLAME_VALUES}")
    unknown = set(data) - {
        "name", "category", "severity", "blame", "regex", "exclude", "suggestion", "examples",
    }
    if unknown:
        raise CatalogError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    try:
        severity = Severity.parse(data["severity"])
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    regex = str(data["regex"])
    exclude = _texts(data.get("exclude"))
    examples = data.get("examples") or {}
    return CatalogPattern(
        name=name,
        category=str(data["category"]),
        severity=severity,
        blame=blame,
        regex=regex,
        suggestion=str(data["suggestion"]).strip(),
        exclude=exclude,
        examples_match=_texts(examples.get("match")),
        examples_no_match=_texts(examples.get("no_match")),
        compiled=_compile(regex, where),
        compiled_exclude=tuple(_compile(x, f"{where} exclude") for x in exclude),
    )


def parse_catalog(text: str, source: str) -> list[CatalogPattern]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("patterns"), list):
        raise CatalogError(f"{source}: expected a mapping with a `patterns` list")
    patterns = [parse_pattern(item, source) for item in data["patterns"]]
    seen: set[str] = set()
    for p in patterns:
        if p.name in seen:
            raise CatalogError(f"{source}: pattern {p.name} is defined twice")
        seen.add(p.name)
    return patterns


def merge(builtin: list[CatalogPattern], user: list[CatalogPattern]) -> list[CatalogPattern]:
    """User patterns first (they are usually more specific); a same-named one replaces ours."""
    names = {p.name for p in user}
    return [*user, *(p for p in builtin if p.name not in names)]


@lru_cache(maxsize=8)
def load_catalog(user_file: str | None = None) -> Catalog:
    patterns = parse_catalog(BUILTIN_FILE.read_text(encoding="utf-8"), BUILTIN_FILE.name)
    if user_file:
        path = Path(user_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"patterns file {user_file}: {exc.strerror}") from exc
        patterns = merge(patterns, parse_catalog(text, path.name))
    return Catalog(patterns)


def default_catalog() -> Catalog:
    return load_catalog(None)
