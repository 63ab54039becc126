"""Small wording rules that make generated text read like a person wrote it.

Plurals, lists of names, confidence in words, short times (the date said once), durations and
latencies in the unit a responder would use. Pure functions over values; no clock, no locale.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from analyzer.model import instant_ns

NS_PER_S = 1_000_000_000
EN_DASH = "\u2013"  # ranges of times, as typeset text writes them
IRREGULAR = {"request failed": "requests failed", "was": "were", "is": "are", "has": "have"}


def plural(n: int | float, noun: str, many: str | None = None) -> str:
    """`1 line`, `3 lines`, `1,234 errors`; `many` for irregular nouns (`1 entry`, `2 entries`)."""
    shown = f"{n:,}" if isinstance(n, int) else f"{n:,.1f}".rstrip("0").rstrip(".")
    word = noun if n == 1 else (many or IRREGULAR.get(noun) or f"{noun}s")
    return f"{shown} {word}"


def names(items: Iterable[str], conjunction: str = "and") -> str:
    """`redis`, `api and worker`, `api, worker and browser` (order kept, duplicates dropped)."""
    unique = list(dict.fromkeys(item for item in items if item))
    if not unique:
        return ""
    if len(unique) == 1:
        return unique[0]
    return f"{', '.join(unique[:-1])} {conjunction} {unique[-1]}"


def likelihood(confidence: float) -> str:
    """Confidence in the words an incident review uses; the figure is for detailed output."""
    if confidence >= 0.8:
        return "very likely"
    if confidence >= 0.5:
        return "likely"
    return "possibly"


def percent(share: float) -> str:
    value = share * 100
    if value and value < 1:
        return "<1%"
    return f"{value:.0f}%"


def number(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def latency(ms: float | None) -> str:
    """`481 ms`, `2.3 s`, `4 min`: the unit that keeps the figure short."""
    if ms is None:
        return "?"
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms".replace(".0 ms", " ms")
    seconds = ms / 1000
    if seconds < 100:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes = seconds / 60
    return f"{minutes:.1f} min".replace(".0 min", " min")


def span(seconds: float) -> str:
    """How long something lasted: `45 seconds`, `7 minutes`, `1 h 37 min`."""
    if seconds < 90:
        return plural(max(1, round(seconds)), "second")
    minutes = round(seconds / 60)
    if minutes < 90:
        return plural(minutes, "minute")
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else plural(hours, "hour")


def money(amount: float | int | None, currency: str = "USD") -> str:
    if amount is None:
        return "?"
    if currency == "USD":
        return f"${amount:,.4f}".rstrip("0").rstrip(".") if amount < 1 else f"${amount:,.2f}"
    return f"{amount:,.4f} {currency}"


def humanize(identifier: str) -> str:
    """`connection_refused` -> `connection refused`."""
    return identifier.replace("_", " ").strip()


class Clock:
    """Times as `HH:MM:SS`, the date said once: a time on another day than the reference carries
    its date. `precise` keeps milliseconds, for a single request whose hops are ms apart."""

    def __init__(self, reference: str | None, *, precise: bool = False) -> None:
        self.date = _date(reference)
        self.precise = precise

    def time(self, stamp: str | None) -> str:
        if not stamp:
            return "?"
        moment = _moment(stamp)
        if moment is None:
            return stamp
        text = moment.strftime("%H:%M:%S")
        if self.precise:
            text += f".{moment.microsecond // 1000:03d}"
        if self.date and moment.date().isoformat() != self.date:
            return f"{moment.date().isoformat()} {text}"
        return text

    def between(self, start: str | None, end: str | None) -> str:
        """`08:11:15-08:18:42` (with an en dash), or one time when both are the same instant."""
        if not end or self.time(start) == self.time(end):
            return self.time(start)
        return f"{self.time(start)}{EN_DASH}{self.time(end)}"

    def window(self, start: str | None, end: str | None) -> str:
        """The one place the date appears: `2026-11-24 07:59:57-09:59:57 UTC`."""
        return f"{self.date or '?'} {self.between(start, end)} UTC"


def seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    try:
        return max(0.0, (instant_ns(end) - instant_ns(start)) / NS_PER_S)
    except ValueError:
        return 0.0


def _moment(stamp: str) -> datetime | None:
    try:
        ns = instant_ns(stamp)
    except ValueError:
        return None
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, tz=UTC)


def _date(stamp: str | None) -> str | None:
    moment = _moment(stamp) if stamp else None
    return moment.date().isoformat() if moment else None


def rate(count: float, seconds: float) -> str:
    """`count` per `seconds` in the unit that reads best: `3 a second`, `12 a minute`,
    `4 an hour`; two significant figures at most."""
    if seconds <= 0:
        return number(count)
    per_second = count / seconds
    for value, unit in ((per_second, "a second"), (per_second * 60, "a minute"), (per_second * 3600, "an hour")):
        if value >= 1 or unit == "an hour":
            return f"{_two_figures(value)} {unit}"
    return ""  # unreachable


def _two_figures(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 10:
        return f"{round(value, -len(str(int(value))) + 2):,.0f}"
    return f"{value:.2g}" if value >= 1 else f"{value:.1g}"
