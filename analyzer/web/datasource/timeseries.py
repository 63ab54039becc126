"""The time-series targets, one function each: `error_rate`, `pattern_occurrences`,
`token_usage` and `cost`.

Each takes the target's context and returns its frames on the panel's grid. Today they bin the
panel's records; each is the one place to change when its numbers come from a metric query
instead (counts where the logs live), without touching the other targets.
"""

from __future__ import annotations

from analyzer.analysis import series
from analyzer.web import frames
from analyzer.web.datasource.panel import TargetContext

TOP_SERIES = 10  # lines per panel (patterns, models) before the rest is dropped


def error_rate(ctx: TargetContext) -> list[frames.Frame]:
    """Share of each service's lines that are errors, per bucket."""
    rates = series.error_rate_by_service(ctx.records, ctx.grid)
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, rates, value_name="error_rate", label="service", unit="percentunit"
    )


def pattern_occurrences(ctx: TargetContext) -> list[frames.Frame]:
    """Lines per mined template per bucket, for the most frequent templates."""
    from analyzer.analysis.templates import mine

    records = ctx.records
    texts = [m.template for m in mine(r.message for r in records)]
    counts = series.occurrences_by_template(records, texts, ctx.grid, top=TOP_SERIES)
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, counts, value_name="occurrences", label="template"
    )


def token_usage(ctx: TargetContext) -> list[frames.Frame]:
    """Tokens per bucket by model or workspace (`by`), counted once per AI request."""
    label, key = ctx.split_key()
    sums = series.sums_by(
        ctx.ai_requests, ctx.grid, key, lambda q: q.total_tokens or None, at=lambda q: q.first_ns
    )
    top = {str(k): sums[k] for k in series.top_keys(sums, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="tokens", label=label, unit="short"
    )


def cost(ctx: TargetContext) -> list[frames.Frame]:
    """Cost per bucket by model or workspace, from the price table."""
    label, key = ctx.split_key()
    prices = ctx.data.prices()
    sums = series.sums_by(
        ctx.ai_requests, ctx.grid, key, lambda q: q.cost(prices), at=lambda q: q.first_ns
    )
    top = {str(k): [round(v, 6) for v in sums[k]] for k in series.top_keys(sums, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="cost", label=label, unit="currencyUSD"
    )


TARGETS = {
    "error_rate": error_rate,
    "pattern_occurrences": pattern_occurrences,
    "token_usage": token_usage,
    "cost": cost,
}
