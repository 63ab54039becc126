"""`ai-logs templates`: raw messages on stdin, `<template id>\\t<template text>` per line out.

Reads stdin in large blocks and hands each block to the miner as one batch: grouping sees more
messages at once (better templates) and the per-line cost stays a dict lookup for repeats.
Imports only the miner, so start-up stays short. Credentials and e-mail addresses are masked
before mining, as everywhere else (`--raw` mines the text as it is, e.g. to compare miners).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import BinaryIO

READ_BLOCK = 1 << 22  # bytes per batch; a few tens of thousands of typical lines


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "templates",
        help="mine log templates: messages on stdin, '<id>\\t<template>' per line on stdout",
    )
    parser.add_argument(
        "--state",
        metavar="TARGET",
        help="file path or redis://host:port/db#name: load the miner from it, save it back after",
    )
    parser.add_argument(
        "--raw", action="store_true", help="do not mask credentials and e-mail addresses first"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.analysis.templates import TemplateMiner

    miner = TemplateMiner()
    if args.state:
        from analyzer.infra.template_state import load_state

        miner = load_state(args.state) or miner
    prepare = None
    if not args.raw:
        from analyzer.infra.privacy import mask_messages

        prepare = mask_messages
    stream(miner, sys.stdin.buffer, sys.stdout.buffer, prepare=prepare)
    if args.state:
        from analyzer.infra.template_state import save_state

        save_state(miner, args.state)
    return 0


def stream(
    miner: object,
    source: BinaryIO,
    sink: BinaryIO,
    *,
    prepare: Callable[[Iterable[str]], Iterable[str]] | None = None,
) -> None:
    """Mine `source` block by block, writing one line per message to `sink` in input order."""
    mine_lines = miner.add_batch_lines  # type: ignore[attr-defined]

    def add_batch_lines(lines: list[str]) -> str:
        return mine_lines(lines if prepare is None else list(prepare(lines)))

    rest = b""
    while True:
        block = source.read(READ_BLOCK)
        if not block:
            break
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        lines = block[:cut].decode("utf-8", "replace").split("\n")
        sink.write(add_batch_lines(_strip_cr(lines)).encode("utf-8"))
    if rest:
        sink.write(add_batch_lines(_strip_cr(rest.decode("utf-8", "replace").split("\n"))).encode())
    sink.flush()


def _strip_cr(lines: list[str]) -> list[str]:
    if lines and lines[0].endswith("\r"):
        return [line.removesuffix("\r") for line in lines]
    return lines
