"""An answer's size in tokens, and fitting an answer to a token budget.

Agents pay for every token they read, so every MCP answer is cut to `max_tokens` before it
leaves. The count is a simple, documented rule rather than one model's tokenizer (each agent
runs a different one): letters in runs of up to 8, digits in runs of up to 3, punctuation in
runs of up to 3, each run one token. On English prose it counts about 10% more than the
"4 characters per token" rule of thumb and more again on timestamps, ids and JSON, where real
tokenizers also spend the most, so a budget kept by this rule is kept in practice.

What is cut: evidence first (log lines, then supporting lists, in the order each tool names),
never the conclusion (the narrative and the structured summary). When even the conclusion at
the asked verbosity does not fit, the minimal narrative replaces it, and the answer says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN_RULE = "word-pieces-v1"
_PIECE = re.compile(r"[^\W\d_]{1,8}|\d{1,3}|[^\w\s]{1,3}|\S")


def count_tokens(text: str) -> int:
    """Tokens in `text` by the rule above (`TOKEN_RULE`)."""
    return len(_PIECE.findall(text))


def compact_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Cuttable:
    """A list (or table) an answer may shorten: kept as a prefix, so the tool orders it best
    first. A dict is cut by its first keys."""

    name: str  # what the truncation metadata calls it
    path: tuple[str, ...]  # where it sits in the structured content
    items: list[Any] | dict[str, Any]
    keep_min: int = 0  # never cut below this many (part of the conclusion)


@dataclass
class Draft:
    """Everything a tool would say with no budget, split into conclusion and evidence."""

    text: str  # the conclusion as text, at the asked verbosity
    core: dict[str, Any]  # the structured conclusion: never cut
    cuttable: list[Cuttable] = field(default_factory=list)
    short_text: Callable[[], str] | None = None  # the minimal conclusion, made only if needed
    # (list name, floor) in cut order; a list may come back with a lower floor later. Default:
    # each list once, in `cuttable` order, down to its keep_min
    order: list[tuple[str, int]] | None = None


@dataclass
class Fitted:
    text: str
    structured: dict[str, Any]
    kept: dict[str, int]  # per cuttable: items returned
    total: dict[str, int]  # per cuttable: items there were
    tokens: int
    short: bool  # the minimal conclusion replaced the asked one
    over_budget: bool  # the conclusion alone is larger than the budget


Finish = Callable[[str, dict[str, Any], dict[str, int], bool], tuple[str, dict[str, Any]]]


def fit(draft: Draft, max_tokens: int, finish: Finish) -> Fitted:
    """The largest prefix of each cuttable list, in cut order, that keeps the answer within
    `max_tokens`. `finish(text, structured, kept, short)` adds what depends on the cut (the
    truncation metadata and its line of text) and is measured with the rest."""
    texts = {False: draft.text}
    lengths = [len(c.items) for c in draft.cuttable]

    def build(kept: list[int], short: bool) -> tuple[str, dict[str, Any], int]:
        structured = _structured(draft, kept)
        counts = {c.name: n for c, n in zip(draft.cuttable, kept, strict=True)}
        text, structured = finish(texts[short], structured, counts, short)
        return text, structured, count_tokens(text) + count_tokens(compact_json(structured))

    def fits(kept: list[int], short: bool) -> bool:
        return build(kept, short)[2] <= max_tokens

    index = {c.name: i for i, c in enumerate(draft.cuttable)}
    order = draft.order or [(c.name, c.keep_min) for c in draft.cuttable]
    floors = {c.name: c.keep_min for c in draft.cuttable}

    def cut(short: bool) -> tuple[list[int], bool]:
        kept = list(lengths)
        if fits(kept, short):
            return kept, True
        for name, stage_floor in order:
            i = index[name]
            floor = min(max(stage_floor, floors[name]), kept[i])
            before, kept[i] = kept[i], floor
            if not fits(kept, short):
                continue  # even at this floor the answer is too big: go on to the next stage
            low, high = floor, before  # low fits; find the largest that does
            while low < high:
                middle = (low + high + 1) // 2
                kept[i] = middle
                if fits(kept, short):
                    low = middle
                else:
                    high = middle - 1
            kept[i] = low
            return kept, True
        return kept, False

    kept, ok = cut(False)
    short = False
    if not ok and draft.short_text is not None:
        texts[True] = draft.short_text()
        kept, ok = cut(True)
        short = True
    text, structured, tokens = build(kept, short)
    return Fitted(
        text=text,
        structured=structured,
        kept={c.name: n for c, n in zip(draft.cuttable, kept, strict=True)},
        total={c.name: n for c, n in zip(draft.cuttable, lengths, strict=True)},
        tokens=tokens,
        short=short,
        over_budget=not ok,
    )


def _structured(draft: Draft, kept: list[int]) -> dict[str, Any]:
    out = json.loads(compact_json(draft.core))  # a deep copy the cut lists can be set into
    for part, n in zip(draft.cuttable, kept, strict=True):
        node = out
        for key in part.path[:-1]:
            node = node.setdefault(key, {})
        items = part.items
        node[part.path[-1]] = dict(list(items.items())[:n]) if isinstance(items, dict) else items[:n]
    return out
