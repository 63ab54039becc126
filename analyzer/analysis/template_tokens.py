"""Turning a raw message into the token sequence the miner compares.

Any run of characters that contains a digit, bounded by white space or punctuation that
separates fields (`=`, `:`, `,`, brackets, quotes, `#`, `|`), is written `<*>` before anything
else happens: numbers, addresses, ids, sizes and times are variables in practically every log
format, and deciding that up front lets messages of one event share one signature at once.
The separators stay, so `uid=0` becomes `uid=<*>` and `10.0.0.1:50010` becomes `<*>:<*>`.
Dates, quantities with their unit and file paths are values too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WILDCARD = "<*>"

# A quantity with its unit (`1.16 KB`, `93.0 B`, `<1 sec`, `30 ms`) is one value even across a space.
# Possessive quantifiers (`++`, `*+`) match what their greedy forms match, since nothing
# after them could take back a digit; they only spare the engine backtracking through long
# numbers and words, where masking spends its time.
_QUANTITY = (
    r"[<>~]?\d++(?:\.\d++)?\s?(?:(?:[KMGTP]i?)?B|ms|us|ns|secs?|seconds?|mins?|minutes?)"
    r"(?![\w.])"
)
# A field with a digit is a value, except a name whose only digit follows a word (`eth0`,
# `SOCKS5`, `jk2_init`): there the name is the thing and only the digit is a value, so
# `awdl0` and `en0` stay apart (`awdl<*>`, `en<*>`) while `eth0` and `eth1` meet. One letter
# before the digit is not a word (`E9` of a hex dump, `node-D4`). Either way every digit is
# masked, which `digit_shape` relies on.
_SEPARATORS = r"\s=:,;()\[\]{}<>#|\"'"
_FIELD = (
    rf"[<>~]?(?:[^{_SEPARATORS}\d]*+(?<![A-Za-z]{{2}})\d|[^{_SEPARATORS}\d]*+\d[^{_SEPARATORS}\d]*+\d)"
    rf"[^{_SEPARATORS}]*+"
)
# A calendar date with its clock time (`Fri Jun 17 07:07:00 2005`) is one value.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_DATE = (
    rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+\d{{1,2}},?\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\s+\d{4})?\b"
)
# A file path (two or more segments after a leading slash) names a thing, not an event.
_PATH = r"(?<![\w.~/])/[\w.\-~]+/[\w.\-~/]*"
_VARIABLE = re.compile(rf"{_DATE}|{_QUANTITY}|{_PATH}|{_FIELD}|\d")
# Brackets or quotes with nothing inside hold an empty value.
_EMPTY_VALUES = frozenset({"()", "[]", "{}", "''", '""', "<>"})
_DIGIT = re.compile(r"\d")
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = re.compile(rb"00000+")


def masked(message: str) -> str:
    """The message with every digit-bearing field, date and path written `<*>`."""
    if _DIGIT.search(message) is None and "/" not in message:
        return message
    return _VARIABLE.sub(WILDCARD, message)


def digit_shape(message: str) -> bytes | str:
    """The message with its numbers reduced to their shape: a cache key for `tokens`.

    Masking treats every digit alike, masks every digit, and only ever tells runs of one, two
    and four digits (day, clock field, year) from runs of other lengths. So writing each digit
    `0` and each run of five or more as `000` keeps `tokens()` unchanged, and messages that
    differ only in their numbers share one key: a lookup instead of the masking pass. Outside
    ASCII (digits of other scripts, byte lengths that are not character lengths) the message
    is its own key.
    """
    if not message.isascii():
        return message
    return _LONG_NUMBER.sub(b"000", message.encode().translate(_ZEROS))


def digit_shapes(messages: Iterable[str]) -> list[bytes | str]:
    """`digit_shape` of each message, without a function call per message."""
    shorten, zeros = _LONG_NUMBER.sub, _ZEROS
    return [
        shorten(b"000", m.encode().translate(zeros)) if m.isascii() else m for m in messages
    ]


def tokens(message: str) -> tuple[str, ...]:
    """White-space tokens of the masked message: the signature the miner groups by."""
    return tuple(masked(message).split())


def is_variable(token: str) -> bool:
    """A token with no fixed wording once its values are masked: `<*>`, `(<*>)`, `()`."""
    if WILDCARD not in token:
        return token in _EMPTY_VALUES
    return not any(ch.isalpha() for ch in token.replace(WILDCARD, ""))
