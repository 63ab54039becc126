"""What AI calls cost, from a price table kept as data (`analyzer/prices.yaml`, overridable).

A model the table does not know is never costed at zero: `cost` returns None and the reports list
it, so a missing price shows up instead of silently lowering a bill. Versioned names
(`gpt-4o-mini-2024-07-18`) fall back to the longest listed prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analyzer.errors import InvalidParameter

DEFAULT_PRICES_FILE = Path(__file__).resolve().parent.parent / "prices.yaml"


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input: float  # per `per_tokens` prompt tokens
    output: float  # per `per_tokens` completion tokens


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, ModelPrice]
    currency: str = "USD"
    per_tokens: int = 1000
    sources: tuple[str, ...] = ()  # files the table was read from, default first
    overridden: frozenset[str] = field(default_factory=frozenset)

    def lookup(self, model: str | None) -> tuple[str, ModelPrice] | None:
        """The listed name and price for a model, exact first, then the longest dash prefix."""
        if not model:
            return None
        name = model.strip().lower()
        if name in self.models:
            return name, self.models[name]
        candidates = [m for m in self.models if name.startswith((m + "-", m + ":"))]
        if not candidates:
            return None
        best = max(candidates, key=len)
        return best, self.models[best]

    def describe(self, models: list[str]) -> dict[str, Any]:
        """The prices a report used, for the response: which entry priced which model."""
        used: dict[str, Any] = {}
        for model in sorted(set(models)):
            found = self.lookup(model)
            if found is None:
                continue
            name, price = found
            used[model] = {
                "priced_as": name,
                "input_per_1k": price.input * 1000 / self.per_tokens,
                "output_per_1k": price.output * 1000 / self.per_tokens,
                "overridden": name in self.overridden,
            }
        return {"currency": self.currency, "models": used}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidParameter(
            f"price file {path.name} cannot be read: {exc}",
            suggestion="Point AI_LOGS_PRICES_FILE at a YAML file shaped like prices.yaml.",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("models", {}), dict):
        raise InvalidParameter(
            f"price file {path.name} needs a `models:` mapping",
            suggestion="Each entry: `model-name: {input: 0.001, output: 0.002}` per 1k tokens.",
        )
    return data


def _models(data: dict[str, Any], origin: str) -> dict[str, ModelPrice]:
    out: dict[str, ModelPrice] = {}
    for name, entry in (data.get("models") or {}).items():
        try:
            out[str(name).lower()] = ModelPrice(float(entry["input"]), float(entry["output"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParameter(
                f"price of {name!r} in {origin} needs numeric input and output",
                suggestion="Write `model: {input: 0.001, output: 0.002}` (USD per 1k tokens).",
            ) from exc
    return out


def load_prices(override_file: str | Path | None = None) -> PriceTable:
    """The packaged table, with an override file's entries replacing or adding models."""
    base = _read(DEFAULT_PRICES_FILE)
    per_tokens = int(base.get("per_tokens", 1000))
    models = _models(base, DEFAULT_PRICES_FILE.name)
    sources = [DEFAULT_PRICES_FILE.name]
    overridden: set[str] = set()
    if override_file:
        path = Path(override_file)
        extra = _read(path)
        scale = per_tokens / int(extra.get("per_tokens", per_tokens))
        for name, price in _models(extra, path.name).items():
            models[name] = ModelPrice(price.input * scale, price.output * scale)
            overridden.add(name)
        sources.append(path.name)
    return PriceTable(
        models=models,
        currency=str(base.get("currency", "USD")),
        per_tokens=per_tokens,
        sources=tuple(sources),
        overridden=frozenset(overridden),
    )


def cost(
    model: str | None, prompt_tokens: int, completion_tokens: int, prices: PriceTable
) -> float | None:
    """Cost of one call, or None when the model has no price."""
    found = prices.lookup(model)
    if found is None:
        return None
    _, price = found
    return (prompt_tokens * price.input + completion_tokens * price.output) / prices.per_tokens
