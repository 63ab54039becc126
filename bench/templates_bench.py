"""Template mining against Drain3 on Loghub-2k: accuracy per set, then speed and memory.

    python bench/templates_bench.py [DATA_DIR] [--messages N] [--no-speed]

DATA_DIR defaults to ../shared/datasets/loghub2k; every folder in it holding
`<Name>/<Name>_2k.log_structured.csv` is scored, so other Loghub systems can be measured by
pointing it at their folder. Both miners see only the `Content` column. Ours runs as the
`ai-logs templates` command does (stdin read in large blocks); Drain3 runs with depth 4,
similarity 0.4 and IP / hex / number masking, one `add_log_message` per line. Speed is measured
on N lines made from the HDFS sample (as is, with fresh digits, with fresh numbers of any length),
each miner in its own subprocess, started by a parent that never holds the N lines, so each
peak RSS is the miner's own; `--no-speed` (or a DATA_DIR without HDFS) measures accuracy only.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring import Scores, score  # noqa: E402

DRAIN_MASKS = (
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
)
_NUMBER = re.compile(r"\d+")


def set_names(data_dir: Path) -> list[str]:
    """The systems in `data_dir`: folders holding their own structured CSV."""
    return sorted(
        (d.name for d in data_dir.iterdir() if (d / f"{d.name}_2k.log_structured.csv").is_file()),
        key=str.lower,
    )


def load_set(data_dir: Path, name: str) -> list[dict[str, str]]:
    path = data_dir / name / f"{name}_2k.log_structured.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def drain_miner():  # type: ignore[no-untyped-def]
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.drain_depth = 4
    config.drain_sim_th = 0.4
    config.profiling_enabled = False
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN_MASKS]
    return TemplateMiner(config=config)


def run_ours(messages: list[str]) -> tuple[list[str], list[str]]:
    from analyzer.analysis.templates import TemplateMiner
    from analyzer.cli.templates_cmd import stream

    source = io.BytesIO("".join(m + "\n" for m in messages).encode("utf-8"))
    sink = io.BytesIO()
    miner = TemplateMiner()
    stream(miner, source, sink)
    ids = [line.split("\t", 1)[0] for line in sink.getvalue().decode("utf-8").splitlines()]
    final = {t.template_id: t.template for t in miner.templates()}
    return ids, [final[i] for i in ids]


def run_drain(messages: list[str]) -> tuple[list[str], list[str]]:
    miner = drain_miner()
    ids = [str(miner.add_log_message(m)["cluster_id"]) for m in messages]
    final = {str(c.cluster_id): c.get_template() for c in miner.drain.clusters}
    return ids, [final[i] for i in ids]


def accuracy(data_dir: Path) -> None:
    print(f"{'set':<12} {'GA':>6} {'FGA':>6} {'PA':>6}   {'Drain3 GA':>9} {'FGA':>6} {'PA':>6}")
    totals: dict[str, list[Scores]] = {"ours": [], "drain3": []}
    for name in set_names(data_dir):
        rows = load_set(data_dir, name)
        messages = [r["Content"] for r in rows]
        true_ids = [r["EventId"] for r in rows]
        true_templates = [r["EventTemplate"] for r in rows]
        ours = score(true_ids, true_templates, *run_ours(messages))
        drain = score(true_ids, true_templates, *run_drain(messages))
        totals["ours"].append(ours)
        totals["drain3"].append(drain)
        print(f"{name:<12} {ours.ga:6.3f} {ours.fga:6.3f} {ours.pa:6.3f}   "
              f"{drain.ga:9.3f} {drain.fga:6.3f} {drain.pa:6.3f}")

    def mean(items: list[Scores], field: str) -> float:
        return sum(getattr(s, field) for s in items) / len(items)

    o, d = totals["ours"], totals["drain3"]
    print(f"{'average':<12} {mean(o, 'ga'):6.3f} {mean(o, 'fga'):6.3f} {mean(o, 'pa'):6.3f}   "
          f"{mean(d, 'ga'):9.3f} {mean(d, 'fga'):6.3f} {mean(d, 'pa'):6.3f}")
    print(f"lowest GA: ours {min(s.ga for s in o):.3f}, Drain3 {min(s.ga for s in d):.3f}")


def worker(kind: str, path: str) -> None:
    """Mine the file in this process and print elapsed seconds and peak RSS as JSON."""
    if kind == "ours":
        from analyzer.analysis.templates import TemplateMiner
        from analyzer.cli.templates_cmd import stream

        with open(path, "rb") as source, open("/dev/null", "wb") as sink:
            started = time.perf_counter()
            stream(TemplateMiner(), source, sink)
            elapsed = time.perf_counter() - started
    else:
        miner = drain_miner()
        add = miner.add_log_message
        with open(path, encoding="utf-8") as source:
            started = time.perf_counter()
            for line in source:
                add(line.rstrip("\n"))
            elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed": elapsed, "rss_mib": _peak_rss_mib()}))


def _peak_rss_mib() -> float:
    """This process image's own peak RSS.

    `ru_maxrss` also counts the peak of the parent that forked us (Linux carries it across
    fork and exec); `VmHWM` belongs to the address space `exec` created, so use it if there is one.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _replicated(sample: list[str], n: int) -> Iterator[str]:
    for i in range(n):
        yield sample[i % len(sample)]


def _fresh_digits(sample: list[str], n: int) -> Iterator[str]:
    """The sample with every digit drawn afresh: the same templates, (almost) no repeated line,
    so an exact-message cache cannot help; numbers keep their lengths."""
    rng = random.Random(7)
    digits = "0123456789"
    for i in range(n):
        yield "".join(rng.choice(digits) if ch.isdigit() else ch for ch in sample[i % len(sample)])


def _fresh_numbers(sample: list[str], n: int) -> Iterator[str]:
    """The sample with every number redrawn at a length of 1 to 20 digits: neither the line nor
    the shape of its numbers repeats often, so most lines go through the masking."""
    rng = random.Random(8)

    def number(_: re.Match[str]) -> str:
        return str(rng.randrange(10 ** rng.randint(1, 20)))

    for i in range(n):
        yield _NUMBER.sub(number, sample[i % len(sample)])


def _write(lines: Iterator[str]) -> str:
    """Write the lines to a temporary file without holding them: a worker's peak RSS is
    measured from its own start, but the kernel carries a parent's peak across fork/exec."""
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False, encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
        return fh.name


def speed(data_dir: Path, n: int) -> None:
    sample = [r["Content"] for r in load_set(data_dir, "HDFS")]
    for title, lines in (
        (f"{n:,} HDFS messages (2k sample replicated)", _replicated(sample, n)),
        (f"{n:,} HDFS messages with fresh digits (no repeated line)", _fresh_digits(sample, n)),
        (f"{n:,} HDFS messages with fresh numbers of 1-20 digits", _fresh_numbers(sample, n)),
    ):
        path = _write(lines)
        try:
            results = {}
            for kind in ("ours", "drain3"):
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", kind, path],
                    check=True, capture_output=True, text=True,
                ).stdout
                results[kind] = json.loads(out.strip().splitlines()[-1])
        finally:
            Path(path).unlink(missing_ok=True)
        print(f"\nthroughput on {title}:")
        for kind, r in results.items():
            rate = n / r["elapsed"]
            print(f"  {kind:<7} {rate:12,.0f} msg/s  ({r['elapsed']:.2f} s)  peak RSS {r['rss_mib']:.0f} MiB")
        ratio = results["drain3"]["elapsed"] / results["ours"]["elapsed"]
        print(f"  ratio ours / Drain3: {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared/datasets/loghub2k"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--no-speed", action="store_true", help="measure accuracy only")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    data_dir = Path(args.data_dir)
    accuracy(data_dir)
    if not args.no_speed and "HDFS" in set_names(data_dir):
        speed(data_dir, args.messages)


if __name__ == "__main__":
    main()
