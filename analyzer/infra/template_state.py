"""Saving and restoring a template miner, so template ids survive a restart.

Two backends behind one pair of functions, chosen by the target: a Redis URL
(`redis://host:port/db`, optionally `#name`, stored under `ai-logs:templates:<name>`) or a file
path (written atomically: a crash mid-save leaves the previous state intact).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from analyzer.analysis.templates import TemplateMiner

REDIS_KEY_PREFIX = "ai-logs:templates:"
DEFAULT_NAME = "default"


def redis_key(name: str = DEFAULT_NAME) -> str:
    return f"{REDIS_KEY_PREFIX}{name}"


def _is_redis(target: str) -> bool:
    return target.startswith(("redis://", "rediss://", "unix://"))


def _split_redis_target(target: str) -> tuple[str, str]:
    url, _, name = target.partition("#")
    return url, name or DEFAULT_NAME


def save_state(miner: TemplateMiner, target: str | os.PathLike[str], client: Any = None) -> None:
    """Write the miner's state to a file path or a Redis URL (`client` reuses a connection)."""
    payload = json.dumps(miner.to_state(), separators=(",", ":"), ensure_ascii=False)
    target_text = os.fspath(target)
    if client is not None or _is_redis(target_text):
        url, name = _split_redis_target(target_text)
        _redis(url, client).set(redis_key(name), payload.encode("utf-8"))
        return
    path = Path(target_text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(target: str | os.PathLike[str], client: Any = None) -> TemplateMiner | None:
    """The miner saved at `target`, or None when nothing was saved there yet."""
    target_text = os.fspath(target)
    if client is not None or _is_redis(target_text):
        url, name = _split_redis_target(target_text)
        raw = _redis(url, client).get(redis_key(name))
        if raw is None:
            return None
        return TemplateMiner.from_state(json.loads(raw))
    path = Path(target_text)
    if not path.exists():
        return None
    return TemplateMiner.from_state(json.loads(path.read_text(encoding="utf-8")))


def _redis(url: str, client: Any) -> Any:
    if client is not None:
        return client
    import redis

    return redis.Redis.from_url(url)
