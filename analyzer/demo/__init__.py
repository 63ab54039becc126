"""Deterministic DocAIche-like demo logs with injected incidents and their ground truth."""

from analyzer.demo.generator import (
    DEFAULT_DURATION,
    DEFAULT_RATE,
    DEFAULT_SEED,
    DEFAULT_START,
    GROUND_TRUTH_FILE,
    SERVICES,
    GroundTruth,
    generate,
    incident_kinds,
)

__all__ = [
    "DEFAULT_DURATION",
    "DEFAULT_RATE",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "GROUND_TRUTH_FILE",
    "SERVICES",
    "GroundTruth",
    "generate",
    "incident_kinds",
]
