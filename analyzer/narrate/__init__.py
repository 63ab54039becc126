"""Text for people and agents: the same facts as the structured answer, told in order.

`render(kind, data, fmt=...)` turns a structured answer (a /query body, a correlation, a
conversation or a workspace summary) into a `narrative` (what happened, where it started, how it
spread, what to do) or a `timeline`. Every claim carries its evidence (a count, a time, a sample
line and, when Grafana is configured, an Explore link that reopens the lines). Rendering is
deterministic: nothing here reads the clock or iterates an unordered collection.
"""

from __future__ import annotations

from typing import Any

from analyzer.narrate.explore import explore_url
from analyzer.narrate.stories import KINDS, build_story
from analyzer.narrate.templating import render_story

__all__ = ["FORMATS", "KINDS", "VERBOSITIES", "explore_url", "render"]

FORMATS = ("narrative", "timeline")
VERBOSITIES = ("minimal", "standard", "detailed")


def render(
    kind: str,
    data: dict[str, Any],
    *,
    fmt: str = "narrative",
    verbosity: str = "standard",
    grafana_url: str | None = None,
    loki_uid: str | None = None,
) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    if fmt == "structured":
        import json

        return json.dumps(data, indent=2, sort_keys=True, default=str)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of structured, {', '.join(FORMATS)}")
    if verbosity not in VERBOSITIES:
        raise ValueError(f"unknown verbosity {verbosity!r}; one of {', '.join(VERBOSITIES)}")
    story = build_story(kind, data, grafana_url=grafana_url, loki_uid=loki_uid)
    return render_story(story, fmt=fmt, verbosity=verbosity)
