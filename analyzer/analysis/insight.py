"""What an analysis tells a person: one ranked finding with its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.model import Severity, format_timestamp


@dataclass(slots=True)
class Evidence:
    count: int
    first_seen_ns: int
    last_seen_ns: int
    samples: list[str] = field(default_factory=list)  # 1-3 raw messages
    services: list[str] = field(default_factory=list)
    logql: str | None = None  # reproduces the evidence in Grafana Explore
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "count": self.count,
            "first_seen": format_timestamp(self.first_seen_ns),
            "last_seen": format_timestamp(self.last_seen_ns),
            "samples": self.samples,
            "services": self.services,
        }
        if self.logql:
            data["logql"] = self.logql
        data.update(self.extra)
        return data


@dataclass(slots=True)
class Insight:
    kind: str  # e.g. root_cause, error_cascade, burst, anomaly, pattern, error_summary
    title: str
    severity: Severity
    confidence: float  # 0..1
    evidence: Evidence
    suggestion: str
    service: str | None = None
    score: float = 0.0  # ranking key, higher first

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "severity": self.severity.label,
            "confidence": round(self.confidence, 3),
            "service": self.service,
            "evidence": self.evidence.to_dict(),
            "suggestion": self.suggestion,
        }
