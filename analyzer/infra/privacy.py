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
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
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


# The analyzer's own public address (AI_LOGS_PUBLIC_URL): its host is not personal data, and
# rewriting it would break the report links the analyzer hands out.
_kept_prefixes: re.Pattern[str] | None = None
_KEPT = re.compile("\x00(\\d+)\x00")
# `alice\.secret@example\.com` in a regex or LogQL: a backslash before punctuation
_ESCAPE = re.compile(r"\\+(?=[^\w\s])")
SHORT_TEXT = 64  # strings this short repeat (levels, services, field names): remembered


def keep_url_prefixes(*prefixes: str | None) -> None:
    """Leave URLs starting with these prefixes (scheme, host, port) unmasked; None clears."""
    global _kept_prefixes
    kept = sorted({p.rstrip("/") for p in prefixes if p}, key=len, reverse=True)
    _kept_prefixes = re.compile("|".join(map(re.escape, kept))) if kept else None
    _mask_short.cache_clear()
    mask_secrets.cache_clear()


Rules = tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...]
# Credentials and addresses: what template mining must never cut into constant fragments
# (numbers, IPs, card and phone numbers carry digits, so mining makes them `<*>` whole).
_SECRET_RULES: Rules = _RULES[:6]


def _apply(text: str, rules: Rules) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _secrets(text: str, rules: Rules) -> list[tuple[str, str]]:
    """(value, placeholder) of every secret the rules find in `text`."""
    found: list[tuple[str, str]] = []
    for pattern, replacement in rules:
        for match in pattern.finditer(text):
            if callable(replacement):
                placeholder = replacement(match)
                if placeholder != match.group(0):
                    found.append((match.group(0), placeholder))
            elif pattern.groups >= 3:  # `key: value` rules keep the key
                found.append((match.group(3), TOKEN))
            else:
                found.append((match.group(0), replacement))
    return found


def _mask_escaped(text: str, rules: Rules) -> str:
    """Secrets written with backslashes before punctuation (`re.escape`, LogQL, YAML)."""
    plain = _ESCAPE.sub("", text)
    for value, placeholder in sorted(set(_secrets(plain, rules)), key=lambda f: -len(f[0])):
        tolerant = "\\\\*".join(re.escape(char) for char in value)
        text = re.sub(tolerant, placeholder, text)
    return text


def _mask(text: str, rules: Rules = _RULES) -> str:
    kept: list[str] = []
    if _kept_prefixes is not None and "://" in text:

        def keep(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        text = _kept_prefixes.sub(keep, text)
    text = _apply(text, rules)
    if "\\" in text:
        text = _mask_escaped(text, rules)
    if kept:
        text = _KEPT.sub(lambda m: kept[int(m.group(1))], text)
    return text


@lru_cache(maxsize=1 << 16)
def _mask_short(text: str) -> str:
    return _mask(text)


def mask_text(text: str) -> str:
    """The text with every recognised secret or personal datum replaced by its placeholder,
    also where it is written regex-escaped (`alice\\.secret@example\\.com`)."""
    if not text:
        return text
    if len(text) <= SHORT_TEXT:
        return _mask_short(text)
    return _mask(text)


@lru_cache(maxsize=1 << 14)
def mask_secrets(message: str) -> str:
    """Credentials and e-mail addresses masked in a log message, before it becomes a template
    or a fingerprint: so a secret never turns into constant fragments around `<*>`. What
    mining leaves constant is masked again with the answer."""
    return _mask(message, _SECRET_RULES) if message else message


def mask_messages(messages: Iterable[str]) -> Iterator[str]:
    """`mask_secrets` over a stream of log messages, each distinct message once."""
    seen: dict[str, str] = {}
    for message in messages:
        masked = seen.get(message)
        if masked is None:
            masked = seen[message] = _mask(message, _SECRET_RULES) if message else message
        yield masked


def mask(obj: Any) -> Any:
    """Mask every string inside dicts, lists and tuples: values, keys, and numbers that are
    card or phone numbers. Keys that mask to the same text are merged (numbers add up,
    lists join, otherwise the first value stays)."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            name = mask_text(key) if isinstance(key, str) else key
            masked = mask(value)
            if name in out:
                out[name] = _merge(out[name], masked)
            else:
                out[name] = masked
        return out
    if isinstance(obj, list):
        return [mask(value) for value in obj]
    if isinstance(obj, tuple):
        return tuple(mask(value) for value in obj)
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 1_000_000:
        text = str(obj)  # a card or phone number logged as a JSON number
        masked_text = mask_text(text)
        return obj if masked_text == text else masked_text
    return obj


def _merge(first: Any, second: Any) -> Any:
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (first, second)):
        return first + second
    if isinstance(first, list) and isinstance(second, list):
        return first + second
    return first


def contains_pii(text: str) -> bool:
    """True when masking would change the text: a cheap check for tests and the lint."""
    return mask_text(text) != text
