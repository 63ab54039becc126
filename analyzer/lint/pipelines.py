"""Promtail and Alloy pipelines: every stage reads a field that exists by the time it runs.

Both files are turned into one list of `Stage`s (Promtail's `pipeline_stages` entries, Alloy's
`stage.*` blocks) and walked in order with the set of names extracted so far. This finds what
`promtail -check-syntax` lets through and only a real start reports: a label read from a field
the logs do not have, a metric of unknown type, a high-cardinality id promoted to a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.lint.alloy import Block, parse_alloy
from analyzer.lint.fields import log_fields
from analyzer.lint.problems import Problem
from analyzer.lint.sourcemap import LineDict, LineList, SourceError

CHECK = "pipelines"

PROMTAIL_TOP_LEVEL = {
    "server", "client", "clients", "positions", "scrape_configs", "target_config",
    "limits_config", "options", "tracing", "global", "wal",
}
KNOWN_STAGES = {
    "docker", "cri", "regex", "json", "logfmt", "template", "pack", "replace", "multiline",
    "timestamp", "output", "labels", "labelallow", "labeldrop", "static_labels",
    "structured_metadata", "metrics", "tenant", "match", "drop", "limit", "sampling",
    "decolorize", "geoip", "eventlogmessage", "luhn",
}
METRIC_TYPES = {"counter", "gauge", "histogram"}
COUNTER_ACTIONS = {"inc", "add"}
GAUGE_ACTIONS = {"set", "inc", "dec", "add", "sub"}
NAMED_FORMATS = {
    "ANSIC", "UnixDate", "RubyDate", "RFC822", "RFC822Z", "RFC850", "RFC1123", "RFC1123Z",
    "RFC3339", "RFC3339Nano", "Unix", "UnixMs", "UnixUs", "UnixNs",
}


@dataclass
class Stage:
    kind: str
    line: int
    config: dict[str, Any]
    stages: list[Stage] = field(default_factory=list)  # for `match`


@dataclass
class Pipeline:
    path: str
    name: str
    initial_labels: set[str]
    stages: list[Stage]


# --- reading Promtail YAML -------------------------------------------------------------------


def _promtail_stages(items: Any, path: str, problems: list[Problem]) -> list[Stage]:
    stages: list[Stage] = []
    if not isinstance(items, list):
        return stages
    for index, item in enumerate(items):
        line = items.line_of(index) if isinstance(items, LineList) else 1
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(Problem(CHECK, path, line, "a stage is a mapping with one stage name"))
            continue
        kind, config = next(iter(item.items()))
        config = config if isinstance(config, dict) else {}
        stage = Stage(kind, line, config)
        if kind == "match":
            stage.stages = _promtail_stages(config.get("stages"), path, problems)
        stages.append(stage)
    return stages


def _relabel_targets(job: dict[str, Any]) -> set[str]:
    labels: set[str] = set()
    for static in job.get("static_configs") or []:
        labels |= {k for k in (static.get("labels") or {}) if not k.startswith("__")}
    for rule in job.get("relabel_configs") or []:
        target = rule.get("target_label")
        if target and not target.startswith("__"):
            labels.add(target)
    return labels


def promtail_pipelines(config: Any, path: str, problems: list[Problem]) -> list[Pipeline]:
    if not isinstance(config, LineDict):
        problems.append(Problem(CHECK, path, 1, "a Promtail config is a mapping"))
        return []
    for key in config:
        if key not in PROMTAIL_TOP_LEVEL:
            problems.append(
                Problem(CHECK, path, config.line_of(key), f"unknown top-level key `{key}`")
            )
    pipelines = []
    jobs = config.get("scrape_configs") or []
    for job in jobs:
        stages = _promtail_stages(job.get("pipeline_stages"), path, problems)
        pipelines.append(Pipeline(path, job.get("job_name", "?"), _relabel_targets(job), stages))
    return pipelines


# --- reading Alloy -----------------------------------------------------------------------------


def _alloy_stage(block: Block) -> Stage:
    kind = block.name.removeprefix("stage.")
    attrs = dict(block.attributes)
    if kind in ("labels", "structured_metadata"):
        return Stage(kind, block.line, dict(attrs.get("values") or {}))
    if kind == "metrics":
        metrics: dict[str, Any] = {}
        for metric in block.blocks:
            spec = dict(metric.attributes)
            name = spec.pop("name", f"<unnamed {metric.name}>")
            metric_type = metric.name.removeprefix("metric.")
            metrics[name] = {"type": metric_type, "source": spec.get("source"), "config": spec}
        return Stage(kind, block.line, metrics)
    stage = Stage(kind, block.line, attrs)
    if kind == "match":
        stage.stages = [_alloy_stage(b) for b in block.blocks if b.name.startswith("stage.")]
    return stage


def alloy_pipelines(text: str, path: str) -> list[Pipeline]:
    root = parse_alloy(text)
    labels: set[str] = set()
    for block in root.blocks:
        for rule in block.find("rule"):
            target = rule.attributes.get("target_label")
            if isinstance(target, str) and not target.startswith("__"):
                labels.add(target)
        static = block.attributes.get("labels")
        if isinstance(static, dict):
            labels |= set(static)
        for target in block.attributes.get("path_targets") or []:
            if isinstance(target, dict):
                labels |= {k for k in target if not k.startswith("__")}
    return [
        Pipeline(path, f"loki.process.{block.label}", set(labels),
                 [_alloy_stage(b) for b in block.blocks if b.name.startswith("stage.")])
        for block in root.find("loki.process")
    ]


# --- the walk ----------------------------------------------------------------------------------


def _json_source_field(expression: str) -> str:
    """The top-level field a JMESPath expression reads (`a.b[0]` -> `a`, `"x-y"` -> `x-y`)."""
    expression = expression.strip()
    if expression.startswith('"'):
        return expression[1:].split('"', 1)[0]
    return re.split(r"[.\[|]", expression, maxsplit=1)[0]


def _check_regex(pattern: Any, where: tuple[str, int], problems: list[Problem]) -> list[str]:
    if not isinstance(pattern, str) or not pattern:
        problems.append(Problem(CHECK, *where, "stage needs an `expression`"))
        return []
    try:
        return list(re.compile(pattern).groupindex)
    except re.error as exc:
        problems.append(Problem(CHECK, *where, f"regular expression does not compile: {exc}"))
        return []


def _walk(stages: list[Stage], known: set[str], path: str, problems: list[Problem]) -> None:
    fields = log_fields()

    def need(name: Any, stage: Stage, what: str) -> None:
        if name and name not in known:
            problems.append(Problem(
                CHECK, path, stage.line,
                f"{stage.kind} stage {what} `{name}`, which no earlier stage extracts "
                f"(extracted so far: {', '.join(sorted(known)) or 'nothing'})",
            ))

    for stage in stages:
        config, where = stage.config, (path, stage.line)
        if stage.kind not in KNOWN_STAGES:
            problems.append(Problem(CHECK, *where, f"unknown stage `{stage.kind}`"))
            continue
        if stage.kind in ("output", "tenant", "drop") and isinstance(config.get("source"), str):
            need(config["source"], stage, "reads")
        if stage.kind in ("json", "regex", "logfmt") and config.get("source"):
            need(config["source"], stage, "parses")
        if stage.kind == "json":
            for name, expression in (config.get("expressions") or {}).items():
                source = _json_source_field(expression or name)
                if source not in fields.json_fields:
                    problems.append(Problem(
                        CHECK, *where,
                        f"json stage extracts `{name}` from `{source}`, a field the logs do not "
                        f"have (known fields: analyzer/lint/log_fields.yaml)",
                    ))
                known.add(name)
        elif stage.kind == "regex":
            known.update(_check_regex(config.get("expression"), where, problems))
        elif stage.kind == "replace":
            _check_regex(config.get("expression"), where, problems)
        elif stage.kind == "template":
            known.add(config.get("source", ""))
        elif stage.kind == "labels":
            for label, source in config.items():
                if label in fields.high_cardinality:
                    problems.append(Problem(
                        CHECK, *where,
                        f"`{label}` is high-cardinality and must not be a label (one stream per "
                        f"value blows up Loki's index): move it to structured_metadata",
                    ))
                elif label not in fields.index_labels:
                    problems.append(Problem(
                        CHECK, *where,
                        f"`{label}` is not an allowed index label "
                        f"({', '.join(sorted(fields.index_labels))})",
                    ))
                need(source or label, stage, "reads")
        elif stage.kind == "structured_metadata":
            for name, source in config.items():
                need(source or name, stage, "reads")
        elif stage.kind == "timestamp":
            need(config.get("source"), stage, "reads")
            layout = config.get("format")
            if not isinstance(layout, str) or not (layout in NAMED_FORMATS or "2006" in layout
                                                   or "15" in layout):
                problems.append(Problem(
                    CHECK, *where, f"timestamp format `{layout}` is neither a named format "
                    f"(RFC3339Nano, ...) nor a Go layout",
                ))
            fallback = config.get("fallback_formats")
            if fallback is not None and not isinstance(fallback, list):
                problems.append(Problem(CHECK, *where, "fallback_formats must be a list"))
        elif stage.kind == "metrics":
            _check_metrics(stage, known, path, problems, need)
        elif stage.kind == "match":
            selector = config.get("selector")
            if not isinstance(selector, str) or not selector.strip():
                problems.append(Problem(CHECK, *where, "match stage needs a `selector`"))
            _walk(stage.stages, set(known), path, problems)


def _check_metrics(stage: Stage, known: set[str], path: str, problems: list[Problem],
                   need: Any) -> None:
    for name, spec in stage.config.items():
        if not isinstance(spec, dict):
            problems.append(Problem(CHECK, path, stage.line, f"metric `{name}` is not a mapping"))
            continue
        metric_type = str(spec.get("type", "")).lower()
        settings = spec.get("config") or {}
        if metric_type not in METRIC_TYPES:
            type_line = spec.line_of("type") if isinstance(spec, LineDict) else stage.line
            problems.append(Problem(
                CHECK, path, type_line,
                f"metric `{name}` has type `{spec.get('type')}`; it must be Counter, Gauge or "
                f"Histogram (Promtail accepts this at -check-syntax and fails at start)",
            ))
        need(spec.get("source"), stage, f"metric `{name}` reads")
        action = settings.get("action")
        if metric_type == "counter" and action not in COUNTER_ACTIONS and not settings.get(
            "match_all"
        ):
            problems.append(Problem(CHECK, path, stage.line,
                                    f"counter `{name}` needs action inc or add"))
        if metric_type == "gauge" and action not in GAUGE_ACTIONS:
            problems.append(Problem(CHECK, path, stage.line,
                                    f"gauge `{name}` needs action set, inc, dec, add or sub"))
        if metric_type == "histogram":
            buckets = settings.get("buckets")
            if not (isinstance(buckets, list) and buckets
                    and all(isinstance(b, (int, float)) for b in buckets)
                    and buckets == sorted(buckets)):
                problems.append(Problem(CHECK, path, stage.line,
                                        f"histogram `{name}` needs ascending numeric buckets"))


def check_pipeline(pipeline: Pipeline, problems: list[Problem]) -> None:
    found: list[Problem] = []
    _walk(pipeline.stages, set(pipeline.initial_labels), pipeline.path, found)
    # a stage list shared through a YAML anchor is walked once per use: report it once
    problems += [p for p in dict.fromkeys(found) if p not in problems]


def iter_match_selectors(stages: list[Stage]) -> Iterator[tuple[int, str]]:
    for stage in stages:
        if stage.kind == "match" and isinstance(stage.config.get("selector"), str):
            yield stage.line, stage.config["selector"]
            yield from iter_match_selectors(stage.stages)


def load_pipelines(repo_root: Path, promtail: list[Path], alloy: list[Path], rel: Any,
                   load: Any, problems: list[Problem]) -> list[Pipeline]:
    """Every pipeline of the repository; files that do not parse become problems."""
    pipelines: list[Pipeline] = []
    for path in promtail:
        try:
            pipelines += promtail_pipelines(load(path), rel(path), problems)
        except SourceError as exc:
            problems.append(Problem(CHECK, rel(path), exc.line, exc.message))
    for path in alloy:
        try:
            pipelines += alloy_pipelines(path.read_text(encoding="utf-8"), rel(path))
        except SourceError as exc:
            problems.append(Problem(CHECK, rel(path), exc.line, exc.message))
    return pipelines
