"""Reading the time of a log line: layouts, zones, and the year or date a line leaves out.

A layout is written the way its users already know it: strftime (`%d/%b/%Y:%H:%M:%S %z`), Go's
reference time as Promtail's `timestamp` stage takes it (`02/Jan/2006:15:04:05 -0700`), or a
name (`iso`, `unix`, `unix_ms`, `unix_us`, `unix_ns`). Two directives beyond strftime's: `%L`,
milliseconds as a plain number (`22:15:29:606`, `...:7`), and `%s` with an optional fraction.

Zones: a time that carries an offset (or `Z`, `UTC`, `GMT`, or a zone abbreviation with one
common meaning: `CEST`, `EST`, see `ZONE_ABBREVIATIONS`) is read in it. A time without one is
read in the file's zone: UTC unless the settings name another (`formats: {timezone: ...}`,
an IANA name or `local`), as Promtail does. Years and dates: a layout without a year (syslog,
klog) takes the year of the file's last change, and the year before when that puts the line
more than a day after the change (a file that spans New Year); a layout with only a clock
takes the date of the last change, and the day before when the clock is later than it.

Every reader caches what it has read: the lines of a file repeat their seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NS = 1_000_000_000
DAY_NS = 86_400 * NS
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_FULL_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        (
            "january", "february", "march", "april", "may", "june", "july", "august",
            "september", "october", "november", "december",
        )
    )
}
_ZONE_NAMES = {"z": 0, "utc": 0, "gmt": 0, "ut": 0}
# Zone abbreviations servers write after a time (PostgreSQL's `%m`, Java's `z`, `date`), in
# hours east of UTC. Only those with one common meaning: IST (India, Ireland, Israel) and the like
# are left out and read in the file's zone, as a time without a zone is.
ZONE_ABBREVIATIONS = {
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2,
    "EEST": 3, "MSK": 3, "SGT": 8, "HKT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5,
    "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}  # fmt: skip
_ZONE_NAMES.update({name.lower(): int(hours * 3600) for name, hours in ZONE_ABBREVIATIONS.items()})
# a regex alternative for a zone name after a time (longest first, so CEST is not read as CET)
ZONE_NAME_REGEX = "|".join(sorted(["UTC", "GMT", *ZONE_ABBREVIATIONS], key=len, reverse=True))
_MAX_CACHE = 65_536
_SCALE = tuple(10 ** (9 - n) if n <= 9 else 0 for n in range(10))
EPOCH_MIN, EPOCH_MAX = 946_684_800, 4_102_444_800  # 2000-01-01 .. 2100-01-01: a plausible epoch


class LayoutError(ValueError):
    """A time layout that cannot be read."""


# ----- zones ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """`None`/`UTC` -> UTC, `local` -> this machine's zone, else an IANA name."""
    if not name or name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if name.lower() == "local":
        local = datetime.now().astimezone().tzinfo
        return local or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LayoutError(f"unknown time zone {name!r}: use an IANA name such as "
                          "Europe/Paris, or UTC, or local") from exc


def _offset_seconds(text: str) -> int | None:
    """`Z`, `+02:00`, `-0700`, `+05`, `UTC`, `CEST`: seconds east of UTC; None when not a zone."""
    low = text.lower()
    if low in _ZONE_NAMES:
        return _ZONE_NAMES[low]
    if len(text) >= 3 and text[0] in "+-" and text[1:3].isdigit():
        digits = text[1:].replace(":", "")
        if not digits.isdigit() or len(digits) not in (2, 4):
            return None
        seconds = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) == 4 else 0)
        return -seconds if text[0] == "-" else seconds
    return None


# ----- civil time to epoch ---------------------------------------------------------------------


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def civil_seconds(
    year: int, month: int, day: int, hour: int, minute: int, second: int, tz: tzinfo
) -> int:
    """Epoch seconds of a wall-clock time in `tz`; ValueError for an impossible date."""
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        raise ValueError("no such date")
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        raise ValueError("no such date")
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError("no such time")
    second = min(second, 59)  # a leap second is read as the second before it
    naive = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    if tz is UTC:
        return naive
    wall = datetime(year, month, day, hour, minute, second)
    offset = tz.utcoffset(wall)
    return naive - int(offset.total_seconds()) if offset is not None else naive


# ----- layouts ---------------------------------------------------------------------------------

_DIRECTIVES: dict[str, str] = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "e": r" ?(?P<d>\d{1,2})",
    "H": r"(?P<H>\d{1,2})",
    "I": r"(?P<I>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
    "f": r"(?P<f>\d{1,9})",
    "L": r"(?P<L>\d{1,3})",
    "p": r"(?P<p>[AaPp][Mm])",
    "b": r"(?P<b>[A-Za-z]{3})",
    "h": r"(?P<b>[A-Za-z]{3})",
    "B": r"(?P<B>[A-Za-z]+)",
    "a": r"[A-Za-z]{3}",
    "A": r"[A-Za-z]+",
    "z": r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)",
    "Z": r"(?P<Z>[A-Za-z]{1,5}|[+-]\d{2}(?::?\d{2})?)",
    "j": r"(?P<j>\d{3})",
    "s": r"(?P<s>\d{9,10}(?:\.\d{1,9})?)",
    "T": r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})",
    "F": r"(?P<Y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
    "%": "%",
}

# Go's reference time (Mon Jan 2 15:04:05 MST 2006) -> strftime, longest tokens first
_GO_TOKENS = (
    ("January", "%B"), ("Monday", "%A"), ("Z07:00", "%z"), ("-07:00", "%z"), ("Z0700", "%z"),
    ("-0700", "%z"), (".000000000", ".%f"), (".999999999", ".%f"), (".000000", ".%f"),
    (".999999", ".%f"), (".000", ".%f"), (".999", ".%f"), (",000", ",%f"), ("2006", "%Y"),
    ("Jan", "%b"), ("Mon", "%a"), ("MST", "%Z"), ("-07", "%z"), ("_2", "%e"), ("15", "%H"),
    ("06", "%y"), ("01", "%m"), ("02", "%d"), ("03", "%I"), ("04", "%M"), ("05", "%S"),
    ("PM", "%p"),
)
_GO_HINT = re.compile(r"2006|15:04|Jan _?2|01/02|02/Jan")

NAMED_LAYOUTS = {
    "iso": "iso",
    "rfc3339": "iso",
    "rfc3339nano": "iso",
    "iso8601": "iso",
    "unix": "unix",
    "unix_s": "unix",
    "unix_ms": "unix_ms",
    "unixms": "unix_ms",
    "unix_us": "unix_us",
    "unixus": "unix_us",
    "unix_ns": "unix_ns",
    "unixns": "unix_ns",
    "rfc3164": "%b %e %H:%M:%S",
    "syslog": "%b %e %H:%M:%S",
    "common_log": "%d/%b/%Y:%H:%M:%S %z",
    "clf": "%d/%b/%Y:%H:%M:%S %z",
    "ctime": "%a %b %e %H:%M:%S %Y",
}


def go_to_strftime(layout: str) -> str:
    out = []
    i = 0
    while i < len(layout):
        for token, directive in _GO_TOKENS:
            if layout.startswith(token, i):
                out.append(directive)
                i += len(token)
                break
        else:
            char = layout[i]
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Layout:
    """A compiled layout: `pattern` matches the time text (str), the rest says what it holds."""

    source: str
    kind: str  # "strftime", "iso" or "unix..."
    pattern: re.Pattern[str] | None
    has_year: bool
    has_date: bool
    has_zone: bool


def _strftime_regex(layout: str) -> tuple[str, set[str]]:
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(layout):
        char = layout[i]
        if char == "%" and i + 1 < len(layout):
            code = layout[i + 1]
            if code not in _DIRECTIVES:
                raise LayoutError(f"time layout {layout!r}: %{code} is not supported")
            regex = _DIRECTIVES[code]
            names = set(re.findall(r"\?P<(\w+)>", regex))
            if names & seen:  # a field twice: the second must read the same, unnamed
                regex = re.sub(r"\?P<\w+>", "?:", regex)
            seen |= names
            parts.append(regex)
            i += 2
        elif char == " ":
            parts.append(" +")
            i += 1
        else:
            parts.append(re.escape(char))
            i += 1
    return "".join(parts), seen


@lru_cache(maxsize=256)
def compile_layout(layout: str) -> Layout:
    """A layout from strftime, Go reference time or a name (see the module docstring)."""
    text = layout.strip()
    if not text:
        raise LayoutError("empty time layout")
    named = NAMED_LAYOUTS.get(text.lower())
    if named in ("iso",) or (named or "").startswith("unix"):
        return Layout(text, named or "iso", None, True, True, True)
    if named:
        text = named
    elif "%" not in text and _GO_HINT.search(text):
        text = go_to_strftime(text)
    regex, fields = _strftime_regex(text)
    if not fields & {"H", "I", "s"}:
        raise LayoutError(f"time layout {layout!r} has no hours: nothing to read a time from")
    epoch = "s" in fields
    return Layout(
        layout,
        "strftime",
        re.compile(regex),
        epoch or bool(fields & {"Y", "y"}),
        epoch or bool(fields & {"d", "j"}),
        epoch or bool(fields & {"z", "Z"}),
    )


# ----- reading -------------------------------------------------------------------------------

_ISO = re.compile(
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
    r"(?:[.,](?P<f>\d{1,9})\d*)?\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?|" + ZONE_NAME_REGEX + ")?",
    re.IGNORECASE,
)


def _fraction_ns(digits: str | None) -> int:
    if not digits:
        return 0
    return int(digits[:9].ljust(9, "0"))


class TimeReader:
    """Reads times of one or more layouts (tried in order, the last that worked first) to epoch
    nanoseconds in one file's zone, with the year or date a layout leaves out taken from
    `anchor_ns` (the file's last change). `read` answers None for text no layout matches or an
    impossible time."""

    def __init__(
        self,
        layouts: list[str] | str | Layout,
        tz: tzinfo = UTC,
        anchor_ns: int | None = None,
    ) -> None:
        if isinstance(layouts, str | Layout):
            layouts = [layouts]  # type: ignore[list-item]
        self.layouts = [compile_layout(x) if isinstance(x, str) else x for x in layouts]
        self.layout = self.layouts[0]
        self.tz = tz
        self.anchor_ns = anchor_ns
        self._cache: dict[bytes, int] = {}
        self._seconds: dict[str, int] = {}
        self._anchor = datetime.fromtimestamp(anchor_ns / NS, tz=tz) if anchor_ns else None
        self._last = 0
        self.naive = False  # some time had no zone: read in `tz`
        # where the last time read kept its fraction, to read the next by its second: texts of
        # one layout usually differ only there (the same second, another fraction)
        self._fraction: tuple[int, int, int] | None = None  # (length, start, end)
        self._by_second: dict[bytes, int] = {}

    def read(self, text: bytes) -> int | None:
        """`text` as bytes, as lines are read (the usual, cached path)."""
        found = self._cache.get(text)
        if found is not None:
            return found
        place = self._fraction
        if place is not None and len(text) == place[0]:
            digits = text[place[1] : place[2]]
            if digits.isdigit():
                second = self._by_second.get(text[: place[1]] + text[place[2] :])
                if second is not None:
                    return second + int(digits) * _SCALE[len(digits)]
        try:
            found = self._parse(text.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError, OverflowError):
            return None
        if found is None:
            return None
        self._remember_fraction(text, found)
        return found

    def _remember_fraction(self, text: bytes, found: int) -> None:
        """Cache a time by its second when its last run of digits after `.` or `,` is its
        fraction (checked: the text's value changes by that much); else by its whole text."""
        cut = max(text.rfind(b"."), text.rfind(b","))
        end = cut + 1
        while end < len(text) and 48 <= text[end] <= 57:
            end += 1
        digits = text[cut + 1 : end]
        if cut > 0 and 0 < len(digits) <= 9 and found % NS == int(digits) * _SCALE[len(digits)]:
            if len(self._by_second) >= _MAX_CACHE:
                self._by_second.clear()
            self._fraction = (len(text), cut + 1, end)
            self._by_second[text[: cut + 1] + text[end:]] = found - found % NS
            return
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[text] = found

    def read_text(self, text: str) -> int | None:
        try:
            return self._parse(text.strip())
        except (ValueError, OverflowError):
            return None

    def _parse(self, text: str) -> int | None:
        order = [self._last, *(i for i in range(len(self.layouts)) if i != self._last)]
        for i in order:
            layout = self.layouts[i]
            if layout.kind == "iso":
                found = self._iso(text)
            elif layout.kind.startswith("unix"):
                found = self._unix(text, layout.kind)
            else:
                try:
                    found = self._strftime(text, layout)
                except ValueError:
                    found = None
            if found is not None:
                self._last = i
                return found
        return None

    def notes(self) -> list[str]:
        """How times were completed: what the account says about a file's times."""
        out = []
        if not any(layout.has_date for layout in self.layouts):
            out.append("no date in its times: the day of the file's last change")
        elif not any(layout.has_year for layout in self.layouts):
            year = self._anchor.year if self._anchor else "this year"
            out.append(
                f"no year in its times: {year} from the file's last change (the year before "
                "for dates after it)"
            )
        if self.naive:
            out.append(f"times without a zone read as {zone_name(self.tz)}")
        return out

    # -- the layouts ----------------------------------------------------------------------------

    def _iso(self, text: str) -> int | None:
        match = _ISO.fullmatch(text)
        if match is None:
            return None
        key = text[:19] + (match["z"] or "")
        second = self._seconds.get(key)
        if second is None:
            offset = _offset_seconds(match["z"]) if match["z"] else None
            self.naive = self.naive or offset is None
            second = civil_seconds(
                int(match["Y"]), int(match["m"]), int(match["d"]),
                int(match["H"]), int(match["M"]), int(match["S"]),
                UTC if offset is not None else self.tz,
            ) - (offset or 0)
            self._remember(key, second)
        return second * NS + _fraction_ns(match["f"])

    def _unix(self, text: str, kind: str) -> int | None:
        whole, _, fraction = text.partition(".")
        if not whole.isdigit() or (fraction and not fraction.isdigit()):
            return None
        scale = {"unix": NS, "unix_ms": 1_000_000, "unix_us": 1000, "unix_ns": 1}[kind]
        value = int(whole) * scale
        if fraction:
            value += int(fraction[:9].ljust(9, "0")) * scale // NS
        return value

    def _strftime(self, text: str, layout: Layout) -> int | None:
        assert layout.pattern is not None
        match = layout.pattern.fullmatch(text)
        if match is None:
            return None
        g = match.groupdict()
        if g.get("s"):
            whole, _, fraction = g["s"].partition(".")
            return int(whole) * NS + _fraction_ns(fraction)
        offset = None
        if g.get("z"):
            offset = _offset_seconds(g["z"])
        elif g.get("Z"):
            offset = _offset_seconds(g["Z"])  # None for an ambiguous name: the file's zone
        month = self._month(g)
        hour = int(g["H"]) if g.get("H") else int(g["I"]) % 12 + (
            12 if (g.get("p") or "").lower() == "pm" else 0
        )
        minute, second = int(g.get("M") or 0), int(g.get("S") or 0)
        fraction = _fraction_ns(g.get("f")) + (int(g["L"]) * 1_000_000 if g.get("L") else 0)
        tz = UTC if offset is not None else self.tz
        self.naive = self.naive or offset is None
        if g.get("Y") or g.get("y"):
            year = int(g["Y"]) if g.get("Y") else 2000 + int(g["y"])
            if g.get("j"):
                start = civil_seconds(year, 1, 1, hour, minute, second, tz)
                return (start + (int(g["j"]) - 1) * 86_400 - (offset or 0)) * NS + fraction
            day = int(g["d"]) if g.get("d") else 1
            return (civil_seconds(year, month, day, hour, minute, second, tz) - (offset or 0)) * NS + fraction
        anchor = self._anchor or datetime.now(tz=self.tz)
        if g.get("d") is None:
            # a clock alone: the day of the file's last change, or the day before
            seconds = civil_seconds(
                anchor.year, anchor.month, anchor.day, hour, minute, second, tz
            ) - (offset or 0)
            if self.anchor_ns is not None and seconds * NS > self.anchor_ns + 60 * NS:
                before = anchor - timedelta(days=1)
                seconds = civil_seconds(
                    before.year, before.month, before.day, hour, minute, second, tz
                ) - (offset or 0)
            return seconds * NS + fraction
        day = int(g["d"])
        year = anchor.year
        try:
            seconds = civil_seconds(year, month, day, hour, minute, second, tz) - (offset or 0)
        except ValueError:  # 29 Feb in a year without it: the year before had it, maybe
            seconds = None
        if seconds is None or (self.anchor_ns is not None and seconds * NS > self.anchor_ns + DAY_NS):
            seconds = civil_seconds(year - 1, month, day, hour, minute, second, tz) - (offset or 0)
        return seconds * NS + fraction

    @staticmethod
    def _month(g: dict[str, str | None]) -> int:
        if g.get("m"):
            return int(g["m"])  # type: ignore[arg-type]
        if g.get("b"):
            month = MONTHS.get(g["b"].lower())  # type: ignore[union-attr]
            if month is None:
                raise ValueError("no such month")
            return month
        if g.get("B"):
            month = _FULL_MONTHS.get(g["B"].lower())  # type: ignore[union-attr]
            if month is None:
                raise ValueError("no such month")
            return month
        return 1

    def _remember(self, key: str, second: int) -> None:
        if len(self._seconds) >= _MAX_CACHE:
            self._seconds.clear()
        self._seconds[key] = second


def zone_name(tz: tzinfo) -> str:
    return "UTC" if tz is UTC else str(getattr(tz, "key", None) or tz)


def epoch_plausible(seconds: float) -> bool:
    return EPOCH_MIN <= seconds < EPOCH_MAX
