"""The jinja2 environment and how verbosity shortens a story without changing its facts."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from analyzer.narrate.story import Story

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# How much of each part a verbosity shows. Verbosity changes length, never the facts: the
# headline carries the main facts at every level; samples, figures and more claims come with length.
LIMITS = {
    "minimal": {
        "spread": 1,
        "followers": 0,
        "facts": 0,
        "wide": 0,
        "actions": 1,
        "events": 8,
        "event_chars": 90,
        "samples": False,
        "detail": False,
    },
    "standard": {
        "spread": 3,
        "followers": 2,
        "facts": 3,
        "wide": 2,
        "actions": 3,
        "events": 20,
        "event_chars": 110,
        "samples": True,
        "detail": False,
    },
    "detailed": {
        "spread": 50,
        "followers": 50,
        "facts": 50,
        "wide": 50,
        "actions": 20,
        "events": 200,
        "event_chars": 200,
        "samples": True,
        "detail": True,
    },
}
SAMPLE_CHARS = 200

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    autoescape=False,  # plain text for terminals and agents, never HTML
)
_env.filters["clip"] = lambda text, n=SAMPLE_CHARS: text if len(text) <= n else text[: n - 1] + "…"


def render_story(story: Story, *, fmt: str, verbosity: str) -> str:
    template = _env.get_template(f"{fmt}.txt.j2")
    text = template.render(story=story, limit=LIMITS[verbosity])
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"
