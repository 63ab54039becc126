"""How many tokens an agent reads: the MCP troubleshoot answer against the raw lines.

For each log set (the bundled sample, then every PATH given), asks the MCP server's
troubleshoot tool through the SDK's client (in process, the answer is the same over stdio or
HTTP) about a window that covers the whole set, and prints the answer's size in tokens beside
the size of the raw lines an agent would otherwise have to read, and their ratio.

Tokens are counted with the server's own rule (`analyzer.mcp.budget.count_tokens`: letters in
runs of up to 8, digits in runs of up to 3, punctuation in runs of up to 3, one token each);
the "4 characters per token" rule of thumb is printed beside it.

    ai-logs demo generate /tmp/demo-1m --duration 3h --rate 6000    # ~1M lines, about a minute
    python bench/mcp_size_bench.py /tmp/demo-1m
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from analyzer.config import SAMPLE_LOGS_DIR, Settings
from analyzer.mcp.budget import _PIECE, compact_json, count_tokens
from analyzer.mcp.server import CALLER, Caller, build_server
from analyzer.services import build_services

LOG_SUFFIXES = (".jsonl", ".log", ".json.log", ".logfmt")
CHUNK = 1 << 22


def raw_size(source: Path) -> tuple[int, int, int]:
    """(lines, characters, tokens) of every log file of the set, read as an agent would."""
    lines = chars = tokens = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or not path.name.endswith(LOG_SUFFIXES):
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            while block := handle.read(CHUNK):
                lines += block.count("\n")
                chars += len(block)
                tokens += len(_PIECE.findall(block))
    return lines, chars, tokens


def ask(source: Path, time_range: str, max_tokens: int | None) -> tuple[Any, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(source_path=str(source), data_dir=data_dir)
        server = build_server(build_services(settings))
        arguments: dict[str, Any] = {"time_range": time_range}
        if max_tokens:
            arguments["max_tokens"] = max_tokens

        async def main() -> Any:
            CALLER.set(Caller(settings.default_tenant))
            async with Client(server) as client:
                return await client.call_tool("troubleshoot", arguments)

        started = time.perf_counter()
        answer = anyio.run(main)
        return answer, time.perf_counter() - started


def report(name: str, source: Path, time_range: str, max_tokens: int | None) -> None:
    answer, seconds = ask(source, time_range, max_tokens)
    text = answer.content[0].text
    structured = compact_json(answer.structured_content)
    answer_tokens = count_tokens(text) + count_tokens(structured)
    answer_chars = len(text) + len(structured)
    lines, chars, tokens = raw_size(source)
    cut = answer.structured_content["truncation"]
    print(f"{name}: {source}")
    print(f"  window {cut['window']['start']} .. {cut['window']['end']}; {lines:,} raw lines;"
          f" the analysis read {cut.get('lines_in_window', 0):,}"
          + (f" (coverage {cut['coverage']})" if cut.get("coverage") else ""))
    print(f"  answer: {answer_tokens:,} tokens ({answer_chars // 4:,} at 4 chars/token),"
          f" {seconds:.1f} s, narrative {cut.get('conclusion', 'standard')},"
          f" returned {cut['returned']}, source_truncated {cut['source_truncated']}")
    print(f"  raw lines: {tokens:,} tokens ({chars // 4:,} at 4 chars/token)")
    print(f"  ratio raw/answer: {tokens / answer_tokens:,.0f}x"
          f" ({(chars / 4) / (answer_chars / 4):,.0f}x at 4 chars/token);"
          f" default answer under 2,000 tokens: {answer_tokens < 2000}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="log sets, e.g. a 1M-line demo")
    parser.add_argument("--time-range", default="3h", help="window ending at the newest line")
    parser.add_argument("--max-tokens", type=int, help="the tool's budget (default: its own)")
    args = parser.parse_args()
    report("bundled sample", SAMPLE_LOGS_DIR, args.time_range, args.max_tokens)
    for path in args.paths:
        report("log set", path, args.time_range, args.max_tokens)


if __name__ == "__main__":
    main()
