"""The digit shape is a cache key for a message's signature: equal shapes must mean equal tokens.

The Loghub messages are one per digit shape from the eight Loghub-2k systems' `Content` column.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from analyzer.analysis import template_tokens
from analyzer.analysis.template_tokens import digit_shape, tokens
from analyzer.analysis.templates import TemplateMiner

LOGHUB = Path(__file__).resolve().parents[1] / "fixtures" / "loghub2k" / "one_message_per_digit_shape.txt"
NUMBER = re.compile(r"\d+")
# pieces that exercise every branch of the masking: dates, clock times, quantities, paths, fields
PIECES = [
    "Jun", "June", "Fri", "Friday", "Dec", " ", "  ", ",", ":", ".", "-", "/", "~", "<", ">",
    "=", "(", ")", "[", "]", "'", '"', "#", "|", "+", "@", "_", "KB", "MiB", "ms", "sec",
    "seconds", "min", "user", "blk", "x", "0x", "1", "7", "12", "123", "2005", "98765", "07",
    "1234567890123", "Jun 7 ", "Fri Jun 17 ", "Mon, Dec 1, ", "07:07", "07:07:00", " 2005",
    "1.16 KB", "<1 sec", "30 ms",
]


def same_class_length(length: int, rng: random.Random) -> int:
    """Another run length the masking cannot tell from `length`: 1, 2 and 4 are kept."""
    if length in (1, 2, 4):
        return length
    return rng.choice([3, 5, 6, 9, 19])


def renumbered(message: str, rng: random.Random, keep_shape: bool = True) -> str:
    """The message with every number drawn afresh, by default of a length that keeps its shape."""
    def fresh(match: re.Match[str]) -> str:
        length = len(match.group())
        length = same_class_length(length, rng) if keep_shape else rng.randint(1, 7)
        return "".join(rng.choice("0123456789") for _ in range(length))

    return NUMBER.sub(fresh, message)


def random_messages(count: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def test_loghub_messages_renumbered_keep_their_shape_and_their_tokens() -> None:
    rng = random.Random(1)
    messages = LOGHUB.read_text(encoding="utf-8").splitlines()
    assert len(messages) > 1000
    for message in messages:
        for _ in range(3):
            variant = renumbered(message, rng)
            assert digit_shape(variant) == digit_shape(message)
            assert tokens(variant) == tokens(message), (message, variant)


def test_generated_messages_of_one_shape_have_one_signature() -> None:
    rng = random.Random(2)
    same_shape = 0
    for message in random_messages(30000, rng):
        variant = renumbered(message, rng, keep_shape=False)
        if digit_shape(variant) == digit_shape(message):
            same_shape += 1
            assert tokens(variant) == tokens(message), (message, variant)
    assert same_shape > 3000


def test_runs_of_one_two_or_four_digits_keep_distinct_shapes() -> None:
    shapes = {digit_shape(f"Jun 1 07:07 {'9' * n}") for n in range(1, 8)}
    # 1, 2 and 4 digits each their own shape; 3, 5, 6 and 7 one shape
    assert len(shapes) == 4


def test_messages_outside_ascii_are_their_own_shape() -> None:
    message = "état ١٢٣ reçu 42"
    assert digit_shape(message) == message


def test_lines_with_one_signature_get_one_template() -> None:
    rng = random.Random(3)
    messages = LOGHUB.read_text(encoding="utf-8").splitlines()
    stream = [renumbered(rng.choice(messages), rng) for _ in range(6000)]
    miner = TemplateMiner()
    ids: list[str] = []
    for start in range(0, len(stream), 500):
        ids += [line.split("\t")[0] for line in miner.add_batch_lines(stream[start : start + 500]).splitlines()]
    by_signature: dict[tuple[str, ...], set[str]] = {}
    for message, template_id in zip(stream, ids, strict=True):
        by_signature.setdefault(tokens(message), set()).add(template_id)
    assert all(len(found) == 1 for found in by_signature.values())


def test_masking_matches_the_plain_greedy_patterns() -> None:
    """The possessive quantifiers only save time: the greedy patterns mask exactly the same."""
    separators = r"\s=:,;()\[\]{}<>#|\"'"
    greedy = re.compile("|".join([
        template_tokens._DATE,
        r"[<>~]?\d+(?:\.\d+)?\s?(?:(?:[KMGTP]i?)?B|ms|us|ns|secs?|seconds?|mins?|minutes?)(?![\w.])",
        template_tokens._PATH,
        rf"[<>~]?(?:[^{separators}\d]*(?<![A-Za-z]{{2}})\d|[^{separators}\d]*\d[^{separators}\d]*\d)"
        rf"[^{separators}]*",
        r"\d",
    ]))
    rng = random.Random(4)
    messages = LOGHUB.read_text(encoding="utf-8").splitlines() + random_messages(20000, rng)
    for message in messages:
        assert template_tokens.masked(message) == greedy.sub(template_tokens.WILDCARD, message)
