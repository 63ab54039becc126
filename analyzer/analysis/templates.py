"""Online template mining: messages in, stable template ids and `<*>` templates out.

A `TemplateMiner` keeps every template it has found. A batch of messages goes through four
steps, cheapest first, and stops for a message at the first that answers:

1. exact messages already seen (a bounded cache: repeated lines cost one dict lookup);
2. signatures already seen (the masked token sequence, see `template_tokens`), found through
   the message's digit shape when possible, so lines that differ only in numbers skip masking;
3. existing templates that accept the signature (same constant words, `<*>` anywhere else);
4. the rest of the batch is grouped by word frequencies (`template_grouping`); a new group one
   word away from an existing template generalises that template, otherwise it is a new one.

Ids never change once given: a template may become more general (a constant turns into
`<*>`), and keeps its id. `to_state`/`from_state` carry everything needed to continue after a
restart. No I/O here: persistence lives in `analyzer.infra.template_state`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.analysis.template_grouping import Tokens, fold_key, group
from analyzer.analysis.template_tokens import WILDCARD, digit_shapes, is_variable, tokens
from analyzer.infra.privacy import mask_messages
from analyzer.model import LogRecord, format_timestamp

STATE_VERSION = 1
MAX_CONSTANT_VALUES = 3
MESSAGE_CACHE_SIZE = 1 << 17
BATCH_SIZE = 1 << 16


@dataclass(slots=True)
class TemplateMatch:
    template_id: str
    template: str
    count: int = 0


class _Template:
    """Mutable template: its tokens may generalise, its id never changes."""

    __slots__ = ("constants", "count", "id", "line", "text", "tokens")

    def __init__(self, template_id: str, template_tokens: Tokens, count: int = 0) -> None:
        self.id = template_id
        self.count = count
        self.tokens: Tokens = ()
        self.text = ""
        self.line = ""
        self.constants: tuple[str, ...] = ()
        self.set_tokens(template_tokens)

    def set_tokens(self, template_tokens: Tokens) -> None:
        self.tokens = template_tokens
        self.text = " ".join(template_tokens)
        self.line = f"{self.id}\t{self.text}\n"
        self.constants = constant_key(template_tokens)

    def accepts(self, seq: Tokens) -> bool:
        return all(t in (WILDCARD, s) for t, s in zip(self.tokens, seq, strict=True))

    def match(self) -> TemplateMatch:
        return TemplateMatch(self.id, self.text, self.count)


def constant_key(seq: Tokens) -> tuple[str, ...]:
    """The fixed words of a sequence: templates that agree on them differ only in values."""
    return tuple(t for t in seq if not is_variable(t))


class TemplateMiner:
    """Online miner with stable ids; see the module docstring for how a batch is handled."""

    def __init__(
        self,
        max_constant_values: int = MAX_CONSTANT_VALUES,
        message_cache_size: int = MESSAGE_CACHE_SIZE,
    ) -> None:
        self.max_constant_values = max_constant_values
        self.message_cache_size = message_cache_size
        self._templates: dict[str, _Template] = {}
        self._by_length: dict[int, list[_Template]] = defaultdict(list)
        self._by_constants: dict[tuple[str, ...], _Template] = {}
        self._messages: dict[str, _Template] = {}
        self._signatures: dict[Tokens, _Template] = {}
        # digit shape -> signature: a pure function, so clearing it never changes a result
        self._shapes: dict[bytes | str, Tokens] = {}

    # public surface -----------------------------------------------------------------------

    def add(self, message: str) -> TemplateMatch:
        return self._assign([message])[0].match()

    def add_batch(self, messages: Sequence[str]) -> list[TemplateMatch]:
        """Learn from a batch at once: grouping sees the whole batch, so it groups better."""
        return [t.match() for t in self._assign(messages)]

    def add_batch_lines(self, messages: Sequence[str]) -> str:
        """`<id>\\t<template>\\n` per message, with each template's text as of the batch's end."""
        return "".join([t.line for t in self._assign(messages)])

    def match(self, message: str) -> TemplateMatch | None:
        """The template a message belongs to, without learning anything from it."""
        found = self._messages.get(message)
        if found is None:
            found = self._find(tokens(message))
        return None if found is None else found.match()

    def templates(self) -> list[TemplateMatch]:
        ordered = sorted(self._templates.values(), key=lambda t: (-t.count, t.id))
        return [t.match() for t in ordered]

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "max_constant_values": self.max_constant_values,
            "templates": [
                {"id": t.id, "tokens": list(t.tokens), "count": t.count}
                for t in self._templates.values()
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TemplateMiner:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported template state version {state.get('version')!r}")
        miner = cls(max_constant_values=int(state.get("max_constant_values", MAX_CONSTANT_VALUES)))
        for item in state["templates"]:
            miner._register(_Template(str(item["id"]), tuple(item["tokens"]), int(item["count"])))
        return miner

    # the four steps -------------------------------------------------------------------------

    def _assign(self, messages: Sequence[str]) -> list[_Template]:
        found: list[_Template | None] = list(map(self._messages.get, messages))
        pending: dict[Tokens, list[int]] = {}
        signatures = self._signatures
        shapes = self._shapes
        unseen = [index for index, template in enumerate(found) if template is None]
        for index, shape in zip(unseen, digit_shapes([messages[i] for i in unseen]), strict=True):
            seq = shapes.get(shape)
            if seq is None:
                seq = shapes[shape] = tokens(messages[index])
            template = signatures.get(seq)
            if template is None:
                waiting = pending.get(seq)
                if waiting is not None:  # no template accepted it earlier in this batch
                    waiting.append(index)
                    continue
                template = self._find(seq)
            if template is None:
                pending[seq] = [index]
            else:
                found[index] = template
                signatures[seq] = template
        if pending:
            self._learn(pending, found)

        if len(self._messages) > self.message_cache_size:
            self._messages.clear()
        if len(signatures) > self.message_cache_size:
            signatures.clear()
        if len(shapes) > self.message_cache_size:
            shapes.clear()
        self._messages.update(zip(messages, found, strict=True))  # type: ignore[arg-type]
        for template, count in Counter(found).items():
            template.count += count  # type: ignore[union-attr]
        return found  # type: ignore[return-value]

    def _find(self, seq: Tokens) -> _Template | None:
        best: _Template | None = None
        best_constants = -1
        for template in self._by_length.get(len(seq), ()):
            if template.accepts(seq):
                constants = len(template.constants)
                if constants > best_constants:
                    best, best_constants = template, constants
        if best is None:
            best = self._by_constants.get(constant_key(seq))
        return best

    def _learn(self, pending: dict[Tokens, list[int]], found: list[_Template | None]) -> None:
        sequences = list(pending)
        weights = [len(pending[s]) for s in sequences]
        groups = group(sequences, weights, self.max_constant_values)
        # fold templates that differ only in how many values they carry
        folded: dict[Tokens, list[tuple[Tokens, list[int]]]] = defaultdict(list)
        for template_tokens, members in groups:
            key = fold_key(template_tokens, [sequences[i] for i in members])
            folded[key].append((template_tokens, members))
        earlier = {length: list(ts) for length, ts in self._by_length.items()}
        created: dict[Tokens, _Template] = {}
        for key, variants in folded.items():
            variants.sort(key=lambda v: -sum(weights[i] for i in v[1]))
            template_tokens = variants[0][0]
            template = created.get(key) or self._generalise(template_tokens, earlier)
            if template is None:
                template = created[key] = self._create(template_tokens)
            for _, members in variants:
                for i in members:
                    seq = sequences[i]
                    self._signatures[seq] = template
                    for index in pending[seq]:
                        found[index] = template

    def _generalise(
        self, candidate: Tokens, earlier: dict[int, list[_Template]]
    ) -> _Template | None:
        """A template of an earlier batch one word away from `candidate`, made to accept it.

        Only earlier batches: within a batch the grouping has already weighed every word.
        """
        best: _Template | None = None
        best_position = -1
        for template in earlier.get(len(candidate), ()):
            differ = [
                p for p, (t, c) in enumerate(zip(template.tokens, candidate, strict=True))
                if t not in (WILDCARD, c)
            ]
            if (
                len(differ) == 1
                and len(template.constants) >= 3
                and (best is None or template.count > best.count)
            ):
                best, best_position = template, differ[0]
        if best is not None:
            old_key = best.constants
            generalised = list(best.tokens)
            generalised[best_position] = WILDCARD
            best.set_tokens(tuple(generalised))
            if self._by_constants.get(old_key) is best:
                del self._by_constants[old_key]
            self._by_constants.setdefault(best.constants, best)
        return best

    def _create(self, template_tokens: Tokens) -> _Template:
        text = " ".join(template_tokens)
        base = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
        template_id, n = base, 1
        while template_id in self._templates:
            n += 1
            template_id = f"{base}-{n}"
        template = _Template(template_id, template_tokens)
        self._register(template)
        return template

    def _register(self, template: _Template) -> None:
        self._templates[template.id] = template
        self._by_length[len(template.tokens)].append(template)
        self._by_constants.setdefault(template.constants, template)


def mine(messages: Iterable[str], batch_size: int = BATCH_SIZE) -> list[TemplateMatch]:
    """One match per message, in order, each with its template's final text.

    Secrets and personal data are masked first: mined after masking, a key or an address
    becomes one placeholder instead of constant fragments around `<*>`."""
    miner = TemplateMiner()
    assigned: list[_Template] = []
    batch: list[str] = []
    for message in mask_messages(messages):
        batch.append(message)
        if len(batch) >= batch_size:
            assigned.extend(miner._assign(batch))
            batch = []
    if batch:
        assigned.extend(miner._assign(batch))
    return [TemplateMatch(t.id, t.text, t.count) for t in assigned]


def group_by_template(records: list[LogRecord]) -> list[dict[str, Any]]:
    """Records grouped by mined template, most frequent first (the `by_pattern` aggregation)."""
    return merge_by_template(
        [(r.message, r.service, 1, r.timestamp_ns, r.timestamp_ns, r.message) for r in records]
    )


# (text to mine, service, lines, first ns, last ns, a sample line)
Counted = tuple[str, str, int, int, int, str]


def merge_by_template(items: list[Counted]) -> list[dict[str, Any]]:
    """Counted texts (records, or message groups with their counts) merged by mined
    template, most frequent first."""
    matches = mine(item[0] for item in items)
    groups: dict[str, dict[str, Any]] = {}
    for (_, service, count, first_ns, last_ns, sample), found in zip(items, matches, strict=True):
        entry = groups.get(found.template_id)
        if entry is None:
            entry = groups[found.template_id] = {
                "template_id": found.template_id,
                "template": found.template,
                "count": 0,
                "services": set(),
                "first_ns": first_ns,
                "last_ns": last_ns,
                "sample": sample,
            }
        entry["count"] += count
        entry["services"].add(service)
        entry["first_ns"] = min(entry["first_ns"], first_ns)
        entry["last_ns"] = max(entry["last_ns"], last_ns)
    out = []
    for entry in groups.values():
        first_ns, last_ns = entry.pop("first_ns"), entry.pop("last_ns")
        entry["services"] = sorted(entry["services"])
        entry["first_seen"] = format_timestamp(first_ns)
        entry["last_seen"] = format_timestamp(last_ns)
        out.append(entry)
    out.sort(key=lambda e: (-e["count"], e["template_id"]))
    return out
