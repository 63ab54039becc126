"""FileSource over a large generated dump: first (index-building) reads, repeated reads, memory;
and the lines per second of the first read of each line format.

Usage: python bench/files_bench.py [--dir PATH] [--lines 1000000] [--repeats 7]
                                   [--formats] [--data ../shared/datasets] [--format-lines N]
`--dir` is read as it is when it holds log files; otherwise demo logs of about `--lines` lines
are generated there first (and reused on the next run). Prints, as JSON:
- the first query over the new files, twice from a fresh source: a relative "last 1h, errors"
  fetch (one pass builds the index and answers), and the service's way (`now_ns()` builds the
  index, then the absolute window is fetched), each with lines/s over the whole dump;
- repeated queries once indexed (p50/p95 over `--repeats` runs): the last hour's errors, the
  last hour at every level with the service's record limit, and a window of about 10k lines
  (every record, the newest 1000, and its warnings and errors);
- peak resident memory of the process.

`--formats` prints instead, per format, the lines per second of a first read of a file of
`--format-lines` lines (detection, every line read, the index built: what a first query over a
new file costs) as the median of `--repeats` runs (wall clock, and CPU time), beside a plain
newline count of the same file (`wc -l` in Python: 1 MiB reads, `bytes.count`) timed in the
same run, and their ratio, so a noisy shared machine shows in both. Files: the demo's JSON lines (`--dir`), Loghub-2k sets
from `--data` (OpenSSH and Linux syslog, Apache error log, HDFS and BGL whose time's place is
learned) repeated to length, and lines of the other formats made here (nginx access, klog,
logfmt, CRI, Docker json-file, pino JSON, Python logging, RFC 5424, Spring Boot).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzer.demo import generate
from analyzer.model import NS_PER_SECOND, Query, Severity
from analyzer.sources.base import FetchResult
from analyzer.sources.files import FileSource

HOURS = 6
SERVICE_LIMIT = 10_000  # what the service asks for: max(query.limit * 10, 5000)


def ensure_data(out: Path, lines: int) -> None:
    if FileSource(str(out)).files():
        return
    started = time.perf_counter()
    generate(out, duration=f"{HOURS}h", rate=lines / (HOURS * 60) / 1.05, seed=7)
    print(f"generated in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            total += sum(
                chunk.count(b"\n") for chunk in iter(lambda h=handle: h.read(1 << 20), b"")
            )
    return total


def timed(run: Callable[[], FetchResult]) -> tuple[float, FetchResult]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def repeated(run: Callable[[], FetchResult], repeats: int) -> dict[str, Any]:
    seconds = []
    result = None
    for _ in range(repeats):
        spent, result = timed(run)
        seconds.append(spent)
    assert result is not None
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000, 1),
        "records": len(result.records),
        "lines_parsed": result.stats["records_parsed"],
    }


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


# ----- per format ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
LOGHUB_FILES = {  # format -> Loghub-2k set whose raw log is repeated to length
    "syslog (OpenSSH)": "OpenSSH",
    "syslog (Linux)": "Linux",
    "apache-error (Apache)": "Apache",
    "learned time (HDFS)": "HDFS",
    "learned time (BGL)": "BGL",
}
_PROGRAMS = ("sshd", "CRON", "kernel", "systemd", "nginx", "dockerd")
_WORDS = ("GET", "POST", "user", "session", "cache", "upstream", "request", "worker")


def _made_line(kind: str, i: int, rng: random.Random) -> str:
    """One line of `kind`, the i-th of its file (times move forward, numbers vary)."""
    base = 1_764_547_200 + i // 7  # 2025-12-01, seven lines a second
    moment = datetime.fromtimestamp(base, tz=UTC)
    micros = rng.randrange(1_000_000)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"
    word, number = rng.choice(_WORDS), rng.randrange(100_000)
    level = rng.choice(("info", "info", "info", "warn", "error", "debug"))
    if kind == "nginx access":
        status = rng.choice((200, 200, 200, 301, 404, 500))
        return (
            f'203.0.113.{number % 250} - - [{moment.strftime("%d/%b/%Y:%H:%M:%S")} +0000] '
            f'"GET /api/{word}/{number} HTTP/1.1" {status} {number % 9000} "-" "curl/8.4.0"'
        )
    if kind == "klog":
        letter = level[0].upper()
        return (
            f"{letter}{moment.strftime('%m%d %H:%M:%S')}.{micros:06d}       1 "
            f"controller.go:{number % 900}] syncing {word} {number}"
        )
    if kind == "logfmt":
        return f'ts={iso} level={level} caller=main.go:{number % 500} msg="{word} {number} done"'
    if kind == "cri":
        inner = f'{{"level":"{level}","msg":"{word} {number}"}}' if i % 2 else f"{word} {number} ok"
        return f"{iso[:-1]}123Z stdout F {inner}"
    if kind == "docker json-file":
        entry = {"log": f"{word} {number} {level}\n", "stream": "stdout", "time": iso}
        return json.dumps(entry, separators=(",", ":"))
    if kind == "pino json":
        levels = {"debug": 20, "info": 30, "warn": 40, "error": 50}
        return json.dumps({"level": levels[level], "time": base * 1000 + micros // 1000, "pid": 7,
                           "hostname": "web01", "msg": f"{word} {number}"}, separators=(",", ":"))
    if kind == "python logging":
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S") + f",{micros // 1000:03d}"
        return f"{stamp} - shop.{word} - {level.upper()} - {word} {number} handled"
    if kind == "syslog rfc5424":
        return (
            f"<{rng.choice((14, 11, 12, 30))}>1 {iso} web01 {rng.choice(_PROGRAMS)} {number} - - "
            f"{word} {number} handled"
        )
    if kind == "spring-boot":
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros // 1000:03d}+00:00"
        return (
            f"{stamp} {level.upper():>5} 4242 --- [nio-8080-exec-{number % 9}] "
            f"c.e.shop.{word.title()}Controller      : {word} {number} handled"
        )
    raise ValueError(kind)


MADE_FORMATS = (
    "nginx access", "klog", "logfmt", "cri", "docker json-file", "pino json", "python logging",
    "syslog rfc5424", "spring-boot",
)


def format_files(work: Path, data: Path, demo: Path, lines: int) -> dict[str, Path]:
    """One file of about `lines` lines per format, made once under `work` and reused."""
    work.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    demo_files = sorted(demo.glob("*.jsonl"), key=lambda p: -p.stat().st_size)
    if demo_files:
        target = work / "demo-json.jsonl"
        if not target.exists():
            with target.open("wb") as out:
                written = 0
                for demo_json in demo_files:  # the services' lines one after the other
                    with demo_json.open("rb") as source:
                        for line in source:
                            if written >= lines:
                                break
                            out.write(line)
                            written += 1
        files["json lines (demo)"] = target
    for name, folder in LOGHUB_FILES.items():
        raw = data / "loghub2k" / folder / f"{folder}_2k.log"
        if not raw.exists():
            continue
        target = work / f"{folder}.log"
        if not target.exists():
            text = raw.read_bytes()
            text = text if text.endswith(b"\n") else text + b"\n"
            copies = max(1, lines // text.count(b"\n"))
            target.write_bytes(text * copies)
        files[name] = target
    for kind in MADE_FORMATS:
        target = work / (kind.replace(" ", "-") + ".log")
        if not target.exists():
            rng = random.Random(7)
            with target.open("w") as out:
                for i in range(lines):
                    out.write(_made_line(kind, i, rng) + "\n")
        files[kind] = target
    return files


def newline_count_seconds(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = count_lines([path])
    return count, time.perf_counter() - started


def first_read_seconds(path: Path) -> tuple[str, int, float, float]:
    """Detected format, lines, wall and CPU seconds of a first read of `path`."""
    started, cpu = time.perf_counter(), time.process_time()
    account = FileSource(str(path)).input_account().files[0]
    return (
        account.format,
        account.counts.lines,
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


def format_figures(files: dict[str, Path], repeats: int) -> dict[str, Any]:
    """Per format: median lines/s of a first read (wall clock, and CPU time, which a shared
    machine's other work disturbs less), and of a newline count of the same file."""
    out: dict[str, Any] = {}
    for name, path in files.items():
        ours, ours_cpu, baseline = [], [], []
        detected, lines = "", 0
        for _ in range(repeats):
            count, spent = newline_count_seconds(path)
            baseline.append(count / spent)
            detected, lines, spent, cpu = first_read_seconds(path)
            ours.append(lines / spent)
            ours_cpu.append(lines / cpu)
        median, wc = statistics.median(ours), statistics.median(baseline)
        out[name] = {
            "detected_as": detected,
            "lines": lines,
            "lines_per_s": round(median),
            "lines_per_s_min_max": [round(min(ours)), round(max(ours))],
            "lines_per_cpu_s": round(statistics.median(ours_cpu)),
            "newline_count_lines_per_s": round(wc),
            "ratio_to_newline_count": round(median / wc, 4),
        }
        print(f"{name}: {round(median):,} lines/s", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/ai-logs-files-bench", help="log files to read")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines to generate")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--formats", action="store_true", help="lines per second per format")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--format-lines", type=int, default=1_000_000)
    parser.add_argument("--work", default="/tmp/ai-logs-format-bench", help="per-format files")
    parser.add_argument("--only", nargs="*", default=[], help="formats whose name holds one of these")
    args = parser.parse_args()
    out = Path(args.dir)
    ensure_data(out, args.lines)
    if args.formats:
        files = format_files(Path(args.work), Path(args.data), out, args.format_lines)
        if args.only:
            files = {k: v for k, v in files.items() if any(w in k for w in args.only)}
        print(json.dumps(format_figures(files, args.repeats), indent=1))
        return 0
    paths = FileSource(str(out)).files()
    lines = count_lines(paths)
    figures: dict[str, Any] = {
        "lines": lines,
        "megabytes": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
    }
    errors_1h = Query(time_range="1h", severity_threshold="error")

    spent, first = timed(lambda: FileSource(str(out)).fetch(errors_1h))
    figures["first_query"] = {
        "seconds": round(spent, 2),
        "lines_per_s": round(lines / spent),
        "lines_parsed": first.stats["records_parsed"],
    }

    source = FileSource(str(out))

    def service_first() -> FetchResult:
        window = errors_1h.window(now=source.now_ns())
        absolute = errors_1h.model_copy(
            update={"start": at(window.start_ns), "end": at(window.end_ns)}
        )
        return source.fetch(absolute, limit=SERVICE_LIMIT)

    spent, first = timed(service_first)
    figures["first_query_service_path"] = {
        "seconds": round(spent, 2),
        "lines_per_s": round(lines / spent),
        "lines_parsed": first.stats["records_parsed"],
    }

    figures["repeat_1h_errors"] = repeated(lambda: source.fetch(errors_1h), args.repeats)
    figures["repeat_1h_all_levels"] = repeated(
        lambda: source.fetch(Query(time_range="1h"), limit=SERVICE_LIMIT), args.repeats
    )
    end = source.now_ns()
    span_ns = int(10_000 / lines * HOURS * 3600 * NS_PER_SECOND)
    ten_k = Query(start=at(end - span_ns), end=at(end))
    figures["repeat_10k_line_window"] = repeated(
        lambda: source.fetch(ten_k, limit=SERVICE_LIMIT), args.repeats
    )
    figures["repeat_10k_line_window_newest_1000"] = repeated(
        lambda: source.fetch(ten_k, limit=1000), args.repeats
    )
    figures["repeat_10k_line_window_warnings"] = repeated(
        lambda: source.fetch(ten_k.model_copy(update={"severity_threshold": Severity.WARN})),
        args.repeats,
    )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
