"""Dependencies that write no logs of their own, named by the services that call them.

Managed Redis, a database or a SaaS API rarely logs into the same Loki as the services that use
it, yet their callers say who failed them: `Error 111 connecting to redis:6379`, `Can't reach
database server at anythingllm-db:5432`, `HTTPSConnectionPool(host='api.openai.com', port=443)`,
`POST https://api.stripe.com/v1/charges failed`, a field `upstream=billing:8443`. `peers` reads
those names from a line: hosts of `host:port`, URLs, `host=` settings and quoted server names
(`server at "orders-db"`), the values of fields
that name a callee, and a word in a call phrase (`calling anythingllm`, `billing returned 503`).
Any other bare word is never a peer: `waiting for response` names nobody.

A name is one of the window's services when the host is one, or an internal name of one
(`redis.prod.svc.cluster.local` is `redis`; `api.openai.com` is not `api`); otherwise it is a silent dependency, called by its
host name (`api.openai.com`), or `address:port` for a bare address (`10.0.0.7:5432`).
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml

# fields that name the service a line's request went to
CALLEE_KEYS = (
    "upstream",
    "upstream_service",
    "target_service",
    "target",
    "peer_service",
    "peer.service",
    "callee",
    "downstream",
    "dependency",
    "destination",
    "db.system",
    "server.address",
    "net.peer.name",
)
URL_KEYS = ("url", "http.url", "upstream_url", "target_url", "endpoint", "url.full")

_HOST = r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?"
_ADDRESS = r"\d{1,3}(?:\.\d{1,3}){3}"
HOST_PORT = re.compile(rf"(?<![\w./@:-])({_HOST}|{_ADDRESS}):(\d{{2,5}})(?![\w.:-]*[\w])", re.I)
URL = re.compile(
    r"\b[a-z][a-z0-9+.-]{1,15}://(?:[^\s/@'\"]+@)?(\[?[a-z0-9.-]+\]?)(?::(\d{2,5}))?", re.I
)
HOST_SETTING = re.compile(rf"\bhost(?:name)?\s*=\s*['\"]?({_HOST}|{_ADDRESS})['\"]?", re.I)
# psycopg2 / libpq: `connection to server at "orders-db" (10.0.3.7), port 5432 failed`
HOST_QUOTED = re.compile(rf"\b(?:server|host)\s+(?:at\s+|on\s+host\s+)?[\"']({_HOST}|{_ADDRESS})[\"']", re.I)
_WORD = r"([a-z][a-z0-9_-]*[a-z0-9])"
CALL_PHRASE = re.compile(
    r"\b(?:calling|call to|requests? to|connect(?:ing|ion)? to|timed out calling|timeout calling"
    r"|forward(?:ing|ed)? to|proxy(?:ing)? to)\s+" + _WORD + r"(?![\w.:/-])",
    re.I,
)
RETURNED = re.compile(
    r"(?<![\w./-])" + _WORD + r"\s+(?:returned|responded with|answered)\s+(?:an?\s+)?"
    r"(?:http\s+|status\s+)?[1-5]\d\d\b",
    re.I,
)


@cache
def _words() -> dict[str, frozenset[str] | tuple[str, ...]]:
    """`dependencies.yaml`: the words that are not names."""
    text = resources.files("analyzer.analysis").joinpath("dependencies.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {
        "not_hosts": frozenset(str(w).lower() for w in data["not_hosts"]),
        "generic_words": frozenset(str(w).lower() for w in data["generic_words"]),
        "local_hosts": frozenset(str(w).lower() for w in data["local_hosts"]),
        "internal_suffixes": tuple(str(w).lower() for w in data["internal_suffixes"]),
    }


def peers(message: str, fields: Mapping[str, Any] | None = None) -> list[str]:
    """Hosts a line names as peers, in the order they appear: field values first."""
    found: list[str] = []
    for key in CALLEE_KEYS + URL_KEYS:
        value = (fields or {}).get(key)
        if value not in (None, ""):
            _add(found, _host_of(str(value)))
    for match in URL.finditer(message):
        _add(found, _address(match.group(1).strip("[]"), match.group(2)))
    for pattern in (HOST_SETTING, HOST_QUOTED):
        for match in pattern.finditer(message):
            _add(found, _address(match.group(1), None))
    for match in HOST_PORT.finditer(message):
        host = match.group(1)
        if host.lower() not in _words()["not_hosts"]:
            _add(found, _address(host, match.group(2)))
    for pattern in (CALL_PHRASE, RETURNED):
        for match in pattern.finditer(message):
            word = match.group(1).lower()
            if word not in _words()["generic_words"]:
                _add(found, word)
    return found


def resolve(name: str, known: Iterable[str]) -> str:
    """The window's service a host name stands for, else the name itself."""
    lookup = {k.lower(): k for k in known}
    lowered = name.lower()
    if lowered in lookup:
        return lookup[lowered]
    first, _, rest = lowered.partition(".")
    if first in lookup and ("." + rest).endswith(_words()["internal_suffixes"]):
        return lookup[first]
    return name


def named_services(
    message: str, fields: Mapping[str, Any] | None, known: Iterable[str]
) -> list[str]:
    """`peers`, each resolved against the known services."""
    known = list(known)
    out: list[str] = []
    for peer in peers(message, fields):
        _add(out, resolve(peer, known))
    return out


def _host_of(value: str) -> str | None:
    text = value.strip()
    if "://" in text:
        parts = urlsplit(text)
        return _address(parts.hostname or "", str(parts.port) if parts.port else None)
    host, _, port = text.partition(":")
    return _address(host.strip(), port.strip() or None)


def _address(host: str, port: str | None) -> str | None:
    host = host.strip().lower().rstrip(".")
    if not host:
        return None
    if _is_address(host):
        return f"{host}:{port}" if port else None  # an address says little without its port
    return host


def _is_address(host: str) -> bool:
    return bool(re.fullmatch(_ADDRESS, host)) or host in _words()["local_hosts"]


def _add(found: list[str], name: str | None) -> None:
    if name and name not in found:
        found.append(name)
