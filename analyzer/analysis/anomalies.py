"""Novel messages: templates present now but absent from a baseline.

Two detectors over mined templates, measured in `bench/anomaly_bench.py`:
- `frequency`: a template is novel when the baseline never produced it (exact template id);
- `tfidf`: TF-IDF vectors of template texts clustered with DBSCAN (cosine); a template is
  novel when no baseline template falls in its cluster, so a reworded old message is not new.
`novel_templates` uses the one the benchmark found with fewer false alarms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from analyzer.analysis.templates import mine
from analyzer.model import LogRecord, Severity, TimeRange

DEFAULT_METHOD = "frequency"
BASELINE_FRACTION = 0.5


@dataclass(slots=True)
class Novelty:
    template_id: str
    template: str
    count: int
    first_seen_ns: int
    last_seen_ns: int
    level: Severity
    services: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


def split_point(window: TimeRange, fraction: float = BASELINE_FRACTION) -> int:
    return window.start_ns + int((window.end_ns - window.start_ns) * fraction)


def novel_templates(
    records: list[LogRecord],
    window: TimeRange,
    *,
    baseline: list[LogRecord] | None = None,
    method: str = DEFAULT_METHOD,
    min_level: Severity = Severity.WARN,
) -> list[Novelty]:
    """Templates of `records` (at or above `min_level`) never seen in `baseline`.

    Without an explicit baseline the first half of the window is the baseline and the second
    half is searched.
    """
    if baseline is None:
        cut = split_point(window)
        baseline = [r for r in records if r.timestamp_ns < cut]
        current = [r for r in records if r.timestamp_ns >= cut]
    else:
        current = records
    if not current:
        return []
    matches = mine([r.message for r in baseline] + [r.message for r in current])
    base_ids = {m.template_id for m in matches[: len(baseline)]}
    texts = {m.template_id: m.template for m in matches}
    groups: dict[str, list[LogRecord]] = defaultdict(list)
    for r, m in zip(current, matches[len(baseline) :], strict=True):
        if m.template_id not in base_ids:
            groups[m.template_id].append(r)
    if method == "tfidf":
        keep = _tfidf_novel(sorted(groups), [texts[t] for t in sorted(groups)],
                            [texts[t] for t in sorted(base_ids)])
        groups = {t: groups[t] for t in keep}
    elif method != "frequency":
        raise ValueError(f"unknown novelty method {method!r}; use frequency or tfidf")
    out = []
    for tid, members in groups.items():
        level = max(r.level for r in members)
        if level < min_level:
            continue
        out.append(
            Novelty(
                template_id=tid,
                template=texts[tid],
                count=len(members),
                first_seen_ns=members[0].timestamp_ns,
                last_seen_ns=members[-1].timestamp_ns,
                level=level,
                services=sorted({r.service for r in members}),
                samples=list(dict.fromkeys(r.message for r in members))[:3],
            )
        )
    out.sort(key=lambda n: (-n.level, n.first_seen_ns))
    return out


def _tfidf_novel(ids: list[str], texts: list[str], baseline_texts: list[str], eps: float = 0.35) -> set[str]:
    if not ids:
        return set()
    if not baseline_texts:
        return set(ids)
    try:
        from sklearn.cluster import DBSCAN
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError:
        raise ValueError(
            "the tfidf novelty method needs scikit-learn: pip install 'ai-logs-analyzer[ml]'"
        ) from None

    corpus = baseline_texts + texts
    vectors = TfidfVectorizer(token_pattern=r"[A-Za-z][A-Za-z_]{2,}").fit_transform(corpus)
    labels = DBSCAN(eps=eps, min_samples=1, metric="cosine").fit_predict(vectors)
    base_clusters = set(labels[: len(baseline_texts)])
    return {tid for tid, label in zip(ids, labels[len(baseline_texts) :], strict=True)
            if label not in base_clusters}
