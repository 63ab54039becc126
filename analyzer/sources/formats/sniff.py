"""What a file found under a directory is, before reading it as a log: text, compressed text, or
something to skip, and why.

A directory such as `/var/log` holds logs without a `.log` name (`syslog`, `messages`), rotated
and compressed ones (`.1`, `.gz`, `.xz`, `.bz2`), and files that are no text log at all: the
binary login records (`wtmp`, `btmp`, `lastlog`), journald's binary journal, empty files. Each is
either read or named with the reason it is skipped; nothing is left out silently.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import lzma
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PROBE_BYTES = 8192
COMPRESSED = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open, ".lzma": lzma.open}
UNSUPPORTED = {".zst": "zstd-compressed (decompress it with zstd -d first)",
               ".zip": "a zip archive (unpack it first)",
               ".tar": "a tar archive (unpack it first)",
               ".tgz": "a tar archive (unpack it first)"}
KNOWN_BINARY = {
    "wtmp": "binary login records (read them with last)",
    "btmp": "binary failed-login records (read them with lastb)",
    "utmp": "binary login records (read them with who)",
    "lastlog": "binary last-login records (read them with lastlog)",
    "faillog": "binary failure records (read them with faillog)",
}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """`reason` is None for a file to read."""

    path: Path
    reason: str | None = None


def compression(path: Path) -> str | None:
    """The suffix of a compression the reader opens (`.gz`, `.xz`, `.bz2`), if any."""
    suffix = path.suffix.lower()
    return suffix if suffix in COMPRESSED else None


def open_log(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its name says it is compressed."""
    opener = COMPRESSED.get(path.suffix.lower())
    if opener is not None:
        return opener(path, "rb")  # type: ignore[no-any-return]
    return path.open("rb")


UTF8_BOM = b"\xef\xbb\xbf"  # Windows tools start UTF-8 text with it; it is no part of a line


def without_bom(data: bytes) -> bytes:
    """The bytes of a file's start without its UTF-8 byte-order mark."""
    return data[3:] if data.startswith(UTF8_BOM) else data


def head(path: Path, size: int) -> bytes:
    """The file's first bytes, without a UTF-8 byte-order mark."""
    with open_log(path) as handle:
        return without_bom(handle.read(size))


def sniff(path: Path) -> Sniffed:
    """Whether `path` is a text log to read, or why it is skipped."""
    name = path.name
    base = name.split(".", 1)[0]
    if base in KNOWN_BINARY:
        if _size(path) == 0:
            return Sniffed(path, "empty")
        return Sniffed(path, KNOWN_BINARY[base])
    if name.endswith(".journal") or name.endswith(".journal~"):
        return Sniffed(path, "systemd journal (binary): export it with journalctl -o json")
    for suffix, reason in UNSUPPORTED.items():
        if name.lower().endswith(suffix):
            return Sniffed(path, reason)
    if not os.access(path, os.R_OK):
        return Sniffed(path, "permission denied")
    try:
        probe = head(path, PROBE_BYTES)
    except PermissionError:
        return Sniffed(path, "permission denied")
    except (OSError, EOFError, lzma.LZMAError) as exc:
        return Sniffed(path, f"cannot be read: {exc}")
    if not probe:
        return Sniffed(path, "empty")
    if _utf16(probe):
        return Sniffed(path, "UTF-16 text (as Windows tools write it): convert it to UTF-8 first, "
                             "e.g. iconv -f UTF-16 -t UTF-8")
    nul = probe.count(b"\x00")
    if nul >= 4 and nul * 100 > len(probe):  # a stray NUL in a text log is no reason to skip it
        return Sniffed(path, "binary (not text)")
    if _undecodable(probe):
        return Sniffed(path, "binary (not UTF-8 text)")
    return Sniffed(path)


def _utf16(probe: bytes) -> bool:
    """UTF-16 by its byte-order mark, or by a NUL beside most ASCII characters."""
    if probe[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    pairs = probe[: len(probe) // 2 * 2]
    return len(pairs) >= 16 and (
        pairs[1::2].count(0) * 10 >= len(pairs) * 4 or pairs[0::2].count(0) * 10 >= len(pairs) * 4
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _undecodable(probe: bytes) -> bool:
    """Mostly bytes that are no UTF-8 text (a cut last character is allowed)."""
    try:
        probe.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(probe) - 4:
            return False
    bad = probe.decode("utf-8", errors="replace").count("\ufffd")
    return bad * 20 > len(probe)


# ----- discovery -------------------------------------------------------------------------------

LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt")
_ROTATED = re.compile(r"(?:\.\d+|[.-]\d{8}|[.-]\d{4}-\d\d-\d\d)$")


def log_named(path: Path) -> bool:
    """A name that says log: `.log`, `.jsonl`, ... (after `.1`, `-20240101`, `.gz` and the like)."""
    name = path.name
    suffix = compression(path)
    if suffix:
        name = name[: -len(suffix)]
    name = _ROTATED.sub("", name)
    return name.endswith(LOG_SUFFIXES)


@dataclass
class Discovery:
    """The files a path names: those to read, and those skipped with their reason."""

    files: list[Path]
    skipped: list[tuple[Path, str]]


_SNIFFED: dict[tuple[str, int, int, bool], Sniffed] = {}


def _sniffed(path: Path, has_time: Callable[[Path], bool], explicit: bool) -> Sniffed:
    try:
        stat = path.stat()
    except OSError as exc:
        return Sniffed(path, f"cannot be read: {exc.strerror or exc}")
    key = (str(path), stat.st_size, stat.st_mtime_ns, explicit)
    found = _SNIFFED.get(key)
    if found is None:
        found = sniff(path)
        if found.reason is None and not explicit and not log_named(path) and not has_time(path):
            found = Sniffed(path, "no timestamps in its first lines and not named like a log")
        if len(_SNIFFED) > 16_384:
            _SNIFFED.clear()
        _SNIFFED[key] = found
    return found


def discover(
    spec: str, has_time: Callable[[Path], bool], skip_names: dict[str, str]
) -> Discovery:
    """The files a file, directory (searched recursively, hidden entries left out) or glob
    names. A file named alone is read if it is text; under a directory or glob, a text file is
    read when its name says log or its first lines hold times (`has_time`); `skip_names` are
    names never read, with the reason."""
    root = Path(spec).expanduser()
    skipped: list[tuple[Path, str]] = []
    if root.is_file():
        found = _sniffed(root, has_time, explicit=True)
        return Discovery([root] if found.reason is None else [], [] if found.reason is None else [(root, found.reason)])
    candidates: list[Path] = []
    if root.is_dir():
        def refused(error: OSError) -> None:
            skipped.append((Path(error.filename or spec), f"directory cannot be read: {error.strerror}"))

        for dirpath, dirnames, filenames in os.walk(root, onerror=refused):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            candidates.extend(Path(dirpath) / f for f in filenames if not f.startswith("."))
    else:
        candidates = [Path(p) for p in glob.glob(os.path.expanduser(spec), recursive=True)]
    files = []
    for path in sorted(candidates):
        if not (path.is_file() or path.is_symlink()):
            continue
        if path.name in skip_names:
            skipped.append((path, skip_names[path.name]))
            continue
        if path.is_symlink() and not path.exists():
            skipped.append((path, "a broken symbolic link"))
            continue
        found = _sniffed(path, has_time, explicit=False)
        if found.reason is None:
            files.append(path)
        else:
            skipped.append((path, found.reason))
    return Discovery(files, sorted(skipped))
