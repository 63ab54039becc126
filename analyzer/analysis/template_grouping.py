"""Grouping a batch of token sequences into templates by (position, token) frequencies.

The idea is Brain's (Yu et al., 2023): the constant words of one event occur together, so they
share one frequency in the batch. For each sequence the largest set of its words that share a
frequency is its *root*; sequences with the same root belong together. Inside a root group a
position whose words differ is a variable when it shows more distinct words than
`max_constant_values` (user names, hosts, ids) and otherwise names sub-events (`SCREEN_ON` /
`SCREEN_OFF`, `user=root` / `user=guest`), which become templates of their own; masked
values count as one word there.

Sequences of different lengths are grouped apart here; the miner folds templates that differ
only in positions that hold masked values in every member (`fold_key`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from analyzer.analysis.template_tokens import WILDCARD, is_variable

Tokens = tuple[str, ...]
# a letter right before a masked value: the number of a name (`eth<*>`), see template_tokens
_NUMBERED_NAME = re.compile(r"[A-Za-z]" + re.escape(WILDCARD))


def group(
    sequences: Sequence[Tokens], weights: Sequence[int], max_constant_values: int
) -> list[tuple[Tokens, list[int]]]:
    """(template tokens, indices of its sequences) for every template found in the batch."""
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, seq in enumerate(sequences):
        by_length[len(seq)].append(index)
    found: dict[Tokens, list[int]] = {}
    for indices in by_length.values():
        grouped = _group_same_length(sequences, weights, indices, max_constant_values)
        for template, members in grouped:
            found.setdefault(template, []).extend(members)
    return list(found.items())


def _group_same_length(
    sequences: Sequence[Tokens],
    weights: Sequence[int],
    indices: list[int],
    max_constant_values: int,
) -> list[tuple[Tokens, list[int]]]:
    frequency: Counter[tuple[int, str]] = Counter()
    for i in indices:
        w = weights[i]
        for position, token in enumerate(sequences[i]):
            frequency[(position, token)] += w

    roots: dict[tuple[tuple[int, str], ...], list[int]] = defaultdict(list)
    for i in indices:
        seq = sequences[i]
        # masked values are not words: they never make a root
        counts = {p: frequency[(p, t)] for p, t in enumerate(seq) if not is_variable(t)}
        if not counts:
            roots[()].append(i)
            continue
        shared = Counter(counts.values())
        # the largest set of words with one frequency; on a tie the more frequent set
        root_count = max(shared, key=lambda c: (shared[c], c))
        key = tuple((p, seq[p]) for p, c in counts.items() if c == root_count)
        roots[key].append(i)

    out: list[tuple[Tokens, list[int]]] = []
    for members in roots.values():
        out.extend(_split_root_group(sequences, members, max_constant_values))
    return out


def _as_values(values: set[str]) -> set[str]:
    """The column's words with every masked value, or word shaped like one, written `<*>`.

    `<*>` and `(<*>)` are both "some value"; `rhost=csnsu.nsuok.edu` is one too when the same
    column holds `rhost=<*>`: the key takes values there, whether or not they have digits.
    A name whose numbers alone are masked (`awdl<*>`, `en<*>`) is a word, not a value shape.
    An empty value marks a slot the same way: beside `()` or `rhost=`, `(host8.topspot.net)`
    and `rhost=zummit.com` fill that slot, and `rhost=` is the slot left empty.
    """
    patterns = [
        v.split(WILDCARD)
        for v in values
        if WILDCARD in v and not is_variable(v) and not _is_numbered_name(v)
    ]
    patterns += [[v[0], v[1:]] for v in values if len(v) == 2 and is_variable(v)]
    keys = [v for v in values if v.endswith("=") and len(v) > 1]
    patterns += [[key, ""] for key in keys]
    shapes = [
        re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL) for parts in patterns
    ]
    filled = {key for key in keys if any(v != key and v.startswith(key) for v in values)}
    out = set()
    for v in values:
        if is_variable(v) or v in filled or any(shape.fullmatch(v) for shape in shapes):
            out.add(WILDCARD)
        else:
            out.add(v)
    return out


def _is_numbered_name(token: str) -> bool:
    """Every masked value in `token` follows a letter: a name's number, see template_tokens."""
    return len(_NUMBERED_NAME.findall(token)) == token.count(WILDCARD)


def _split_root_group(
    sequences: Sequence[Tokens], members: list[int], max_constant_values: int
) -> list[tuple[Tokens, list[int]]]:
    length = len(sequences[members[0]])
    variable: list[bool] = []
    splitting: list[int] = []
    for position in range(length):
        values = {sequences[i][position] for i in members}
        distinct = _as_values(values)
        if len(values) == 1:
            variable.append(False)
        elif distinct == {WILDCARD} or len(distinct) > max_constant_values:
            variable.append(True)
        else:
            variable.append(False)
            splitting.append(position)

    parts: dict[Tokens, list[int]] = defaultdict(list)
    for i in members:
        parts[tuple(sequences[i][p] for p in splitting)].append(i)
    out = []
    for part in parts.values():
        seq = sequences[part[0]]
        template = tuple(WILDCARD if variable[p] else seq[p] for p in range(length))
        out.append((template, part))
    return out


def fold_key(template: Tokens, members: Sequence[Tokens]) -> Tokens:
    """The template without the positions where every member holds a masked value.

    Two templates with the same key differ only in how many values they carry (`0 bytes` against
    `1190 bytes (1.16 KB)`), so they are one event.
    """
    return tuple(
        token for position, token in enumerate(template)
        if not all(is_variable(seq[position]) for seq in members)
    )
