"""Building LogQL safely: the only place user text becomes query text.

Every string a caller supplies goes through `quote`, every regex through `validate_regex`, and
every label name through `label_name`. Time never appears in the text: it travels in Loki's
`start`/`end` parameters, so one LogQL string can be re-run over any window (and cached).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from analyzer.errors import InvalidParameter
from analyzer.model import DURATION_PATTERN, Query, Severity

SERVICE_LABEL = "service"
# Loki 3 derives `service_name` when a stream has no `service` (discover_service_name); Alloy and
# OpenTelemetry stacks often have only that one
SERVICE_LABELS = (SERVICE_LABEL, "service_name")
# Loki rejects a selector whose every matcher accepts "" (error_empty_selector.json)
ANY_SERVICE = '{service=~".+"}'

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RE2_META = set(r"\.+*?()|[]{}^$")
# Go's strconv.Unquote (which Loki uses) reads these; JSON reads them too, which tests rely on
_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """A double-quoted LogQL string literal whose value is exactly `text`.

    Backslash and quote are escaped so no input can close the literal; control characters
    become `\\uXXXX` so a newline cannot end a pipeline stage; lone surrogates (which Go
    refuses) become U+FFFD.
    """
    out = ['"']
    for char in str(text):
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def regex_escape(text: str) -> str:
    """`text` as a literal inside an RE2 regex. Unlike `re.escape`, escapes only what RE2
    treats as special: RE2 rejects escapes such as `\\ ` that Python emits."""
    return "".join(f"\\{c}" if c in _RE2_META else c for c in text)


def label_name(name: str) -> str:
    """A Prometheus-style label name, or InvalidParameter: names are not quotable in LogQL."""
    if not _LABEL_NAME.fullmatch(name or ""):
        raise InvalidParameter(
            f"{name!r} is not a valid label name",
            code="INVALID_LABEL",
            suggestion="Label names use letters, digits and underscores, e.g. service or env.",
        )
    return name


# --- regex validation -------------------------------------------------------------------------

# (?<=, (?<!, (?=, (?!, (?>, (?(, (?#, (?P= : Python/PCRE-only group kinds RE2 refuses
_UNSUPPORTED_GROUPS = {
    "=": "lookahead",
    "!": "negative lookahead",
    "<=": "lookbehind",
    "<!": "negative lookbehind",
    ">": "atomic group",
    "(": "conditional group",
    "#": "comment group",
    "P=": "named backreference",
}
_RE2_FLAGS = set("imsU-")
RE2_MAX_REPEAT = 1000  # RE2 refuses {n} and {n,m} above this
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def validate_regex(pattern: str) -> None:
    """Raise INVALID_REGEX unless both Python and RE2 (Loki's engine) accept `pattern`.

    Python's compiler catches syntax errors; the scan below catches what Python accepts but RE2
    does not, so the caller gets a clear 400 instead of Loki's parse error.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _invalid(pattern, str(exc)) from exc
    problem = _re2_problem(pattern)
    if problem:
        raise _invalid(pattern, f"{problem} is not supported by Loki's regex engine (RE2)")


def _invalid(pattern: str, why: str) -> InvalidParameter:
    return InvalidParameter(
        f"invalid regex {pattern!r}: {why}",
        code="INVALID_REGEX",
        suggestion="Use RE2 syntax: no backreferences, lookaround, atomic groups or possessive "
        "quantifiers.",
    )


def _re2_problem(pattern: str) -> str | None:
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if escaped in set("123456789"):
                return f"backreference \\{escaped}"
            if escaped == "k" and pattern[i + 2 : i + 3] in ("<", "{", "'"):
                return "named backreference \\k"
            if escaped in ("Z", "G"):
                return f"\\{escaped}"
            i += 2
            continue
        if char == "[":
            i = _skip_class(pattern, i)
            continue
        if char == "(" and pattern[i + 1 : i + 2] == "?":
            rest = pattern[i + 2 :]
            for opener, what in _UNSUPPORTED_GROUPS.items():
                if rest.startswith(opener):
                    return what
            if not rest.startswith(("P<", "<", ":")):
                flags = re.match(r"[^:)]*", rest)
                if flags and not set(flags.group(0)) <= _RE2_FLAGS:
                    return f"inline flag group (?{flags.group(0)})"
        if char in "*+?}" and pattern[i + 1 : i + 2] == "+" and _is_quantifier(pattern, i):
            return "possessive quantifier"
        if char == "{":
            repeat = _REPEAT.match(pattern, i)
            if repeat and max(int(n) for n in repeat.groups() if n) > RE2_MAX_REPEAT:
                return f"a repeat count over {RE2_MAX_REPEAT} ({repeat.group(0)})"
        i += 1
    return None


def _is_quantifier(pattern: str, i: int) -> bool:
    """`}` quantifies only as the end of `{n,m}`; `*+?` always do outside classes."""
    if pattern[i] != "}":
        return True
    return re.search(r"\{\d+(,\d*)?$", pattern[:i]) is not None


def _skip_class(pattern: str, i: int) -> int:
    """Index just after the character class starting at `i` (escapes and a leading `]` kept)."""
    j = i + 1
    if pattern[j : j + 1] == "^":
        j += 1
    if pattern[j : j + 1] == "]":
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "]":
            return j + 1
        j += 1
    return j


# --- selectors and log queries ----------------------------------------------------------------


def _matcher(name: str, value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return f"{label_name(name)}={quote(value)}"
    values = list(dict.fromkeys(value))
    if not values:
        return f'{label_name(name)}=~".+"'
    if len(values) == 1:
        return f"{label_name(name)}={quote(values[0])}"
    return f"{label_name(name)}=~{quote('|'.join(regex_escape(v) for v in values))}"


def service_label_from(labels: Iterable[str], forced: str | None = None) -> str:
    """The label that names services in a tenant whose label names are `labels`.

    `forced` (a setting) wins; otherwise `service` when streams carry it, else Loki's derived
    `service_name`, else `service` (an empty tenant).
    """
    if forced:
        return label_name(forced)
    present = set(labels)
    return next((name for name in SERVICE_LABELS if name in present), SERVICE_LABEL)


def selector(
    services: Iterable[str], *, service_label: str = SERVICE_LABEL, **labels: str | Sequence[str]
) -> str:
    """A stream selector: `{service="api"}`, `{service=~"api|worker", env="dev"}`.

    A list value means "any of these" (regex-escaped alternation). With no services and no
    labels the selector matches every stream that has a service label, which Loki accepts.
    `service_label` names the services' label (`service_name` in tenants without `service`).
    """
    matchers = []
    wanted = list(services)
    if wanted:
        matchers.append(_matcher(service_label, wanted))
    for name, value in labels.items():
        matchers.append(_matcher(name, value))
    if not matchers:
        if service_label == SERVICE_LABEL:
            return ANY_SERVICE
        return "{" + f'{label_name(service_label)}=~".+"' + "}"
    return "{" + ", ".join(matchers) + "}"


def stream_selector(labels: Mapping[str, str]) -> str:
    """The exact selector of one stream (a record's origin, a link to Grafana Explore)."""
    return "{" + ", ".join(_matcher(k, str(v)) for k, v in sorted(labels.items())) + "}"


# Level spellings as Loki's `detected_level` writes them plus what loggers put in a `level` label
LEVEL_SPELLINGS = (
    "trace", "debug", "info", "notice", "warn", "warning", "error", "err",
    "critical", "crit", "fatal", "panic", "alert", "emerg", "emergency",
)


def level_filter(threshold: Severity) -> str | None:
    """A label filter keeping lines at or above `threshold`; None when nothing is excluded.

    Two sources of truth, joined with `or`: Loki 3 writes `detected_level` (structured metadata,
    lower case) for every line it can classify, which covers JSON/logfmt lines pushed without a
    level label (the recorded fixture streams); Promtail pipelines that promote `level` to a
    stream label (and Lokis with level discovery off) only have `level`, in the logger's own
    case, hence `(?i)`. Neither needs `| json`. Below WARN nothing is filtered server-side:
    lines Loki cannot classify (`unknown`) count as info here, and the pipeline applies the
    exact threshold to the records anyway.
    """
    if threshold <= Severity.INFO:
        return None
    names = [s for s in LEVEL_SPELLINGS if Severity.parse(s) >= threshold]
    pattern = quote("(?i)" + "|".join(names))
    return f"| detected_level=~{pattern} or level=~{pattern}"


def log_query(query: Query, *, service_label: str = SERVICE_LABEL) -> str:
    """The LogQL for a Query's log lines (time goes in start/end, never here).

    Ids are structured metadata, so they are label filters after the selector, never stream
    matchers (which would create a stream per id). Line filters need no parsing, so no `| json`.
    """
    parts = [selector(query.services, service_label=service_label)]
    for name, value in query.ids().items():
        parts.append(f"| {label_name(name)}={quote(value)}")
    if query.severity_threshold is not None:
        levels = level_filter(query.severity_threshold)
        if levels:
            parts.append(levels)
    for pattern in query.exclude_patterns:
        validate_regex(pattern)
        parts.append(f"!~ {quote(pattern)}")
    return " ".join(parts)


# --- metric queries ---------------------------------------------------------------------------

RANGE_FUNCTIONS = ("count_over_time", "rate", "bytes_over_time", "bytes_rate")
UNWRAP_FUNCTIONS = (
    "sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "rate",
    "quantile_over_time", "first_over_time", "last_over_time",
)
AGGREGATIONS = ("sum", "avg", "max", "min", "count")


def _range(interval: str) -> str:
    if not re.fullmatch(DURATION_PATTERN, interval):
        raise InvalidParameter(
            f"range {interval!r} must look like 30s, 5m, 1h or 1d", code="INVALID_RANGE"
        )
    return f"[{interval}]"


def _grouping(aggregation: str, by: Sequence[str]) -> str:
    if aggregation not in AGGREGATIONS:
        raise InvalidParameter(f"unknown aggregation {aggregation!r}; use one of {AGGREGATIONS}")
    if not by:
        return aggregation
    return f"{aggregation} by ({', '.join(label_name(b) for b in by)})"


def metric_query(
    function: str,
    log_expr: str,
    interval: str,
    *,
    by: Sequence[str] = (SERVICE_LABEL,),
    aggregation: str = "sum",
) -> str:
    """`sum by (service) (count_over_time(<log_expr> [5m]))` and the like.

    `log_expr` must come from `selector`/`log_query` (already safe); `by` and `interval` are
    checked here.
    """
    if function not in RANGE_FUNCTIONS:
        raise InvalidParameter(f"unknown range function {function!r}; use one of {RANGE_FUNCTIONS}")
    return f"{_grouping(aggregation, by)} ({function}({log_expr} {_range(interval)}))"


def unwrap_query(
    function: str,
    log_expr: str,
    field: str,
    interval: str,
    *,
    by: Sequence[str] = ("model",),
    aggregation: str = "sum",
    quantile: float | None = None,
) -> str:
    """`sum by (model) (sum_over_time(<log_expr> | json | unwrap tokens_used | __error__="" [1h]))`.

    `| json` is needed here because the value lives in the line; `__error__=""` drops lines that
    are not JSON or whose value is not a number, which would otherwise fail the whole query.
    """
    if function not in UNWRAP_FUNCTIONS:
        raise InvalidParameter(
            f"unknown unwrap function {function!r}; use one of {UNWRAP_FUNCTIONS}"
        )
    head = ""
    if function == "quantile_over_time":
        if quantile is None or not 0 <= quantile <= 1:
            raise InvalidParameter("quantile_over_time needs a quantile between 0 and 1")
        head = f"{quantile:g}, "
    inner = f'{log_expr} | json | unwrap {label_name(field)} | __error__="" {_range(interval)}'
    return f"{_grouping(aggregation, by)} ({function}({head}{inner}))"


def count_by_service(
    query: Query, interval: str = "1m", *, service_label: str = SERVICE_LABEL
) -> str:
    """Lines per service per interval for a Query's filters (panels, recording rules)."""
    return metric_query(
        "count_over_time", log_query(query, service_label=service_label), interval,
        by=(service_label,),
    )


def rate_by_service(
    query: Query, interval: str = "1m", *, service_label: str = SERVICE_LABEL
) -> str:
    return metric_query(
        "rate", log_query(query, service_label=service_label), interval, by=(service_label,)
    )


def tokens_by_model(query: Query, interval: str = "1h") -> str:
    """Tokens used per model: `sum_over_time` over the `tokens_used` JSON field."""
    return unwrap_query("sum_over_time", log_query(query), "tokens_used", interval)
