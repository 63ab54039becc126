"""One builder per kind of answer; `build_story` picks it and puts the events in time order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.narrate.conversation_story import conversation_story
from analyzer.narrate.correlation_story import correlation_story
from analyzer.narrate.query_story import query_story
from analyzer.narrate.story import Linker, Story, order_key
from analyzer.narrate.workspace_story import workspace_story

_BUILDERS: dict[str, Callable[[dict[str, Any], Linker], Story]] = {
    "query": query_story,
    "correlation": correlation_story,
    "conversation": conversation_story,
    "workspace": workspace_story,
}
KINDS = tuple(_BUILDERS)


def build_story(
    kind: str, data: dict[str, Any], *, grafana_url: str | None = None, loki_uid: str | None = None
) -> Story:
    story = _BUILDERS[kind](data, Linker(grafana_url, loki_uid))
    story.events.sort(key=lambda e: (order_key(e.time), e.service, e.text))
    return story
