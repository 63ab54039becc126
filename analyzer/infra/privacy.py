"""PII masking for everything the API returns: prompts, responses, log lines, evidence samples.

Placeholders are stable (`<email>`, `<phone>`, `<card>`, `<token>`, `<ip>`) so masked text still
groups into the same templates and reads naturally. The patterns are deliberately tight: log lines
are full of timestamps, durations, versions, hex ids and nanosecond epochs, and masking those would
destroy the evidence an operator needs. Candidates that a regex alone cannot judge (card numbers,
IP addresses) are confirmed by a checksum or a parser before they are replaced.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

EMAIL = "<email>"
PHONE = "<phone>"
CARD = "<card>"
TOKEN = "<token>"
IP = "<ip>"

# Also the truncated two-segment form some loggers cut JWTs down to.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")

# Prefixes the big providers put on their secrets; the rest of the key is opaque.
_PREFIXED_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|glc_[A-Za-z0-9+/=_-]{20,}"
    r")"
)

# `Bearer <x>` in headers or prose; the value must look like a credential, not an English word.
_BEARER = re.compile(
    r"(?i)\b(bearer)(\s+)(?!<)((?=[A-Za-z0-9._~+/=-]*[0-9_.=-])[A-Za-z0-9._~+/=-]{8,}"
    r"|[A-Za-z0-9._~+/=-]{20,})"
)
_BASIC = re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?basic)(\s+)([A-Za-z0-9+/=]{6,})")

# `password=...`, `"api_key": "..."`, `X-API-Key: ...`: keep the key, hide the value.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9])("
    r"api[_-]?key|apikey|x-api-key|api[_-]?secret|client[_-]?secret|secret[_-]?key|secret"
    r"|password|passwd|pwd|passphrase|access[_-]?token|refresh[_-]?token|auth[_-]?token"
    r"|id[_-]?token|session[_-]?token|private[_-]?key|token"
    r")([\"']?\s*[:=]\s*[\"']?)(?![<\"'])([^\s\"',;&<>]{6,})"
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)

# Cards: 15/16 contiguous digits or the printed 4-4-4-4 / 4-6-5 groupings, network prefixes only
# (nanosecond and millisecond epochs start with 1 and so never qualify), then a Luhn check.
_CARD = re.compile(
    r"(?<![\w.-])(?:"
    r"[2-6]\d{14,15}"
    r"|[2-6]\d{3}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
    r"|3[47]\d{2}([ -])\d{6}\2\d{5}"
    r")(?![\w.-]?\d)"
)

_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)
# Candidates only; `ipaddress` decides. Clock times (10:30:00) have 3 groups and never `::`.
_IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?![\w:])")

# Phones: `+` international forms, or North American 3-3-4 with one consistent separator.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{2,5}){2,5}"
    r"|\(\d{3}\)\s?\d{3}[-. ]\d{4}"
    r"|\d{3}([-. ])\d{3}\1\d{4}"
    r")(?![\w.:-]?\d)"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD if _luhn_ok(digits) else match.group(0)


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    if not re.search(r"[0-9A-Fa-f]", text):
        return text
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return text
    return IP


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return PHONE if 7 <= len(digits) <= 15 else match.group(0)


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_JWT, TOKEN),
    (_PREFIXED_KEY, TOKEN),
    (_BEARER, rf"\1\2{TOKEN}"),
    (_BASIC, rf"\1\2{TOKEN}"),
    (_SECRET_ASSIGNMENT, rf"\1\2{TOKEN}"),
    (_EMAIL, EMAIL),
    (_CARD, _card),
    (_IPV4, IP),
    (_IPV6, _ipv6),
    (_PHONE, _phone),
)


def mask_text(text: str) -> str:
    """The text with every recognised secret or personal datum replaced by its placeholder."""
    if not text:
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def mask(obj: Any) -> Any:
    """Mask every string inside dicts, lists and tuples; keys and non-strings are kept as is."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        return {key: mask(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [mask(value) for value in obj]
    if isinstance(obj, tuple):
        return tuple(mask(value) for value in obj)
    return obj


def contains_pii(text: str) -> bool:
    """True when masking would change the text: a cheap check for tests and the lint."""
    return mask_text(text) != text
