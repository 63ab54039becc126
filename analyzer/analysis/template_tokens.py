"""Turning a raw message into the token sequence the miner compares.

Any run of characters that contains a digit, bounded by white space or punctuation that
separates fields (`=`, `:`, `,`, brackets, quotes, `#`, `|`), is written `<*>` before anything
else happens: numbers, addresses, ids, sizes and times are variables in practically every log
format, and deciding that up front lets messages of one event share one signature at once.
The separators stay, so `uid=0` becomes `uid=<*>` and `10.0.0.1:50010` becomes `<*>:<*>`.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

# A quantity with its unit (`1.16 KB`, `<1 sec`, `30 ms`) is one value even across a space.
_QUANTITY = (
    r"[<>~]?\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|ms|us|ns|secs?|seconds?|mins?|minutes?)"
    r"(?![\w.])"
)
_FIELD = r"[<>~]?[^\s=:,;()\[\]{}<>#|\"']*\d[^\s=:,;()\[\]{}<>#|\"']*"
_VARIABLE = re.compile(f"{_QUANTITY}|{_FIELD}")
_DIGIT = re.compile(r"\d")


def masked(message: str) -> str:
    """The message with every digit-bearing field written `<*>`."""
    if _DIGIT.search(message) is None:
        return message
    return _VARIABLE.sub(WILDCARD, message)


def tokens(message: str) -> tuple[str, ...]:
    """White-space tokens of the masked message: the signature the miner groups by."""
    return tuple(masked(message).split())


def is_variable(token: str) -> bool:
    """A token that carries no fixed wording once its variables are masked (`<*>`, `(<*>)`)."""
    if WILDCARD not in token:
        return False
    return not any(ch.isalpha() for ch in token.replace(WILDCARD, ""))
