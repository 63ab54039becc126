"""Seeded personal data and credentials that the demo logs leak on purpose.

Every value that reaches a line is recorded, so the ground truth can list exactly what a
masking layer must hide.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_FIRST = (
    "maria",
    "james",
    "aiko",
    "omar",
    "lena",
    "carlos",
    "priya",
    "tom",
    "sofia",
    "noah",
    "fatima",
    "lukas",
    "chen",
    "amara",
    "diego",
    "hannah",
)
_LAST = (
    "garcia",
    "smith",
    "tanaka",
    "haddad",
    "muller",
    "silva",
    "patel",
    "baker",
    "rossi",
    "okafor",
    "kim",
    "novak",
)
_DOMAINS = ("acme-corp.com", "example.org", "docaiche.io")


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    email: str
    phone: str
    ip: str


def _luhn_complete(digits: list[int]) -> list[int]:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return [*digits, (10 - total % 10) % 10]


class SecretBook:
    def __init__(self, rng: random.Random, users: int = 24) -> None:
        self._rng = rng
        self._used: dict[str, str] = {}  # value -> kind, in first-use order
        names: list[str] = []
        while len(names) < users:
            name = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}"
            if name not in names:
                names.append(name)
        self.users = [
            User(
                user_id=f"u-{1001 + i}",
                email=f"{name}@{rng.choice(_DOMAINS)}",
                phone=f"+1-{rng.randint(201, 989)}-555-{rng.randint(100, 199):04d}",
                ip=f"198.51.100.{rng.randint(2, 250)}",
            )
            for i, name in enumerate(names)
        ]
        card = _luhn_complete([4, *[rng.randint(0, 9) for _ in range(14)]])
        text = "".join(map(str, card))
        self.card = " ".join(text[i : i + 4] for i in range(0, 16, 4))
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        self.api_key = "sk-live-" + "".join(rng.choice(alphabet) for _ in range(32))
        self.bearer = "eyJhbGciOiJIUzI1NiJ9." + "".join(rng.choice(alphabet) for _ in range(40))
        self.attacker_ip = f"203.0.113.{rng.randint(2, 250)}"

    def use(self, kind: str, value: str) -> str:
        self._used.setdefault(value, kind)
        return value

    def values(self) -> list[str]:
        return list(self._used)

    def by_kind(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for value, kind in self._used.items():
            out.setdefault(kind, []).append(value)
        return dict(sorted(out.items()))
