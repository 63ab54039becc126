"""How the commands write for a person in a terminal: a header that names the window once with
its date, short times after it, counts with separators, one line per item, and a sentence when
there is nothing to show. `--json` output never comes through here."""

from __future__ import annotations

from typing import Any

from analyzer.narrate.phrasing import Clock, plural

MESSAGE_CHARS = 160


def window_header(title: str, window: dict[str, Any], source: str | None = None) -> list[str]:
    """`patterns · 2026-11-24 07:59:57-09:59:57 UTC` and, when given, where the logs came from."""
    clock = Clock(window.get("start"))
    lines = [f"{title} · {clock.window(window.get('start'), window.get('end'))}"]
    if source:
        lines.append(f"source: {source}")
    return lines


def clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_lines(logs: list[dict[str, Any]], clock: Clock, *, shown: int, matched: int) -> list[str]:
    """The newest matching lines, one per line: `08:11:31  api  error  message`."""
    if not logs or shown <= 0:
        return []
    picked = logs[-shown:]
    width = max(len(str(item.get("service", ""))) for item in picked)
    head = (
        f"Matching lines, the newest {len(picked)} of {matched:,}:"
        if matched > len(picked)
        else f"Matching lines ({plural(len(picked), 'line')}):"
    )
    out = [head]
    for item in picked:
        count = f" ({item['count']} times)" if item.get("count", 1) > 1 else ""
        out.append(
            f"  {clock.time(item.get('timestamp'))}  {item.get('service', '')!s:<{width}}  "
            f"{item.get('level', '')!s:<5}  {clip(item.get('message', ''))}{count}"
        )
    return out
