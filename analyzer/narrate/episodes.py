"""Separate problems in one window: insights grouped by when they happened.

A two-hour window often holds several unrelated incidents. Telling them as one story misleads the
reader, so insights are grouped by overlapping time, narrowest first: narrow insights (a pattern
seen for seven minutes) seed the groups and a wider one joins the group its interval touches. One
that touches several groups ties them together when only short quiet stretches separate them (one
incident with a lull); otherwise (a burst over the whole window, a root cause blamed for three
incidents) it is a window-wide observation, told apart from the problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.model import instant_ns

NS_PER_S = 1_000_000_000
# Intervals closer than this are the same problem (bursts start on bucket bounds, a little early).
JOIN_GAP_S = 60
# An insight that spans several groups ties them into one problem when the quiet stretches
# between them are this short; longer quiet means separate problems and a window-wide insight.
MERGE_GAP_S = 180


@dataclass(slots=True)
class Episode:
    start_ns: int
    end_ns: int
    insights: list[dict[str, Any]] = field(default_factory=list)

    @property
    def start(self) -> str:
        return min(i["evidence"]["first_seen"] for i in self.insights)

    @property
    def end(self) -> str:
        return max(
            i["evidence"].get("last_seen") or i["evidence"]["first_seen"] for i in self.insights
        )

    def services(self) -> list[str]:
        """Services in the order they failed: a cascade's order when one was found, else each
        insight's own service by first sighting, then the services the insights only mention."""
        ordered: dict[str, None] = {}
        for insight in self.insights:
            if insight.get("kind") == "error_cascade":
                for step in (insight.get("evidence") or {}).get("order") or []:
                    ordered.setdefault(step["service"], None)
        by_time = sorted(self.insights, key=_start_key)
        for insight in by_time:
            if insight.get("service"):
                ordered.setdefault(insight["service"], None)
        for insight in by_time:
            for service in _services(insight):
                ordered.setdefault(service, None)
        return list(ordered)

    def touches(self, lo: int, hi: int) -> bool:
        gap = JOIN_GAP_S * NS_PER_S
        return lo <= self.end_ns + gap and self.start_ns <= hi + gap


def split(insights: list[dict[str, Any]]) -> tuple[list[Episode], list[dict[str, Any]]]:
    """(problems in time order, window-wide insights in their original rank order).

    Insights keep their rank order inside each problem. Insights without a time are window-wide.
    """
    timed: list[tuple[int, int, int, dict[str, Any]]] = []
    wide_ranks: set[int] = set()
    for rank, insight in enumerate(insights):
        interval = _interval(insight)
        if interval is None:
            wide_ranks.add(rank)
        else:
            timed.append((interval[1] - interval[0], rank, interval[0], insight))
    episodes: list[Episode] = []
    members: dict[int, list[int]] = {}
    for width, rank, lo, _insight in sorted(timed, key=lambda t: (t[0], t[1])):
        hi = lo + width
        touched = sorted((e for e in episodes if e.touches(lo, hi)), key=lambda e: e.start_ns)
        if len(touched) > 1 and _longest_quiet(touched) > MERGE_GAP_S * NS_PER_S:
            wide_ranks.add(rank)
            continue
        if touched:
            episode = touched[0]
            for other in touched[1:]:
                members.setdefault(id(episode), []).extend(members.pop(id(other), []))
                episodes.remove(other)
            episode.start_ns = min([lo] + [e.start_ns for e in touched])
            episode.end_ns = max([hi] + [e.end_ns for e in touched])
        else:
            episode = Episode(lo, hi)
            episodes.append(episode)
        members.setdefault(id(episode), []).append(rank)
    for episode in episodes:
        episode.insights = [insights[r] for r in sorted(members[id(episode)])]
    episodes.sort(key=lambda e: (e.start_ns, e.end_ns))
    return episodes, [insights[r] for r in sorted(wide_ranks)]


def _longest_quiet(touched: list[Episode]) -> int:
    """The longest stretch between consecutive groups, in ns (groups sorted by start)."""
    quiet, reach = 0, touched[0].end_ns
    for episode in touched[1:]:
        quiet = max(quiet, episode.start_ns - reach)
        reach = max(reach, episode.end_ns)
    return quiet


def _interval(insight: dict[str, Any]) -> tuple[int, int] | None:
    evidence = insight.get("evidence") or {}
    first = evidence.get("first_seen")
    if not first:
        return None
    try:
        lo = instant_ns(first)
        hi = instant_ns(evidence.get("last_seen") or first)
    except ValueError:
        return None
    return lo, max(lo, hi)


def _services(insight: dict[str, Any]) -> list[str]:
    evidence = insight.get("evidence") or {}
    listed = list(evidence.get("services") or [])
    main = insight.get("service")
    return ([main] if main else []) + [s for s in listed if s != main]


def _start_key(insight: dict[str, Any]) -> tuple[int, int]:
    interval = _interval(insight)
    return (interval[0], 0) if interval else (0, 0)
