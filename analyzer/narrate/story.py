"""What a narrative or a timeline says: claims with their evidence, problems, sections, events.

A builder per kind of answer (`query_story`, `correlation_story`, `conversation_story`,
`workspace_story`) turns a structured answer into a `Story`; `templating` renders it. Claims are
ordered the way a responder reads: the cause first, then the order in which services failed
(the profile's onsets, never contradicting the cause), then the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.model import instant_ns
from analyzer.narrate.explore import explore_url
from analyzer.sources import logql

MINUTE_NS = 60 * 1_000_000_000


@dataclass(slots=True)
class Claim:
    """One statement with its evidence: rendered `text: `sample` (evidence). then`."""

    text: str
    evidence: str | None = None
    sample: str | None = None
    link: str | None = None
    then: str | None = None  # a second sentence that explains the first
    detail: str | None = None  # figures only detailed output shows (confidence, kind)
    time: str | None = None
    service: str | None = None
    count: int | None = None


@dataclass(slots=True)
class Problem:
    heading: str
    lead: Claim
    followers: list[Claim] = field(default_factory=list)
    action: str | None = None


@dataclass(slots=True)
class Section:
    """A titled list of claims ("Who did what", "Most frequent errors")."""

    title: str
    claims: list[Claim] = field(default_factory=list)


@dataclass(slots=True)
class Event:
    time: str  # RFC 3339, for ordering
    shown: str  # what the reader sees
    service: str
    text: str
    count: int | None = None
    link: str | None = None


@dataclass(slots=True)
class Story:
    title: str
    headline: str
    gist: str = ""
    origin: Claim | None = None
    spread: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    wide: list[Claim] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    facts: list[Claim] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class Linker:
    """Explore links when a Grafana URL is configured; None otherwise."""

    def __init__(self, grafana_url: str | None, loki_uid: str | None) -> None:
        self.grafana_url = grafana_url
        self.loki_uid = loki_uid

    def __call__(self, query: str | None, start: str | None, end: str | None = None) -> str | None:
        if not self.grafana_url or not query or not start:
            return None
        try:
            lo = instant_ns(start) - MINUTE_NS
            hi = instant_ns(end or start) + MINUTE_NS
        except ValueError:
            return None
        return explore_url(self.grafana_url, query, lo, hi, self.loki_uid)


def id_query(services: list[str], name: str, value: str) -> str:
    return f"{logql.selector(sorted(services))} | {name}={logql.quote(value)}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def order_key(stamp: str) -> int:
    try:
        return instant_ns(stamp)
    except ValueError:
        return 0
