"""The time-series targets, one function each: `error_rate`, `pattern_occurrences`,
`token_usage` and `cost`.

Each takes the target's context and returns its frames on the panel's grid. Their numbers are
counted where the logs live, for the whole window whatever its length: a metric query over Loki
(lines per service and level at the panel's step, tokens with `unwrap`), the window's one pass
over files. No raw line is binned, so a 7-day panel is as true as a 15-minute one.
"""

from __future__ import annotations

from analyzer.analysis import series
from analyzer.model import NS_PER_SECOND
from analyzer.web import frames
from analyzer.web.datasource.panel import TargetContext

TOP_SERIES = 10  # lines per panel (patterns, models) before the rest is dropped


def _step_s(ctx: TargetContext) -> int:
    return max(1, ctx.grid.step_ms // 1000)


def error_rate(ctx: TargetContext) -> list[frames.Frame]:
    """Share of each service's lines that are errors, per bucket: every line of the window,
    counted where the logs live (a metric query over Loki, the window's pass over files)."""
    query = ctx.data.counted_query(ctx.query, ctx.notices)
    counts = ctx.data.counts(query, _step_s(ctx))
    cells = series.counts_on_grid(counts, ctx.grid, ctx.data.keeps_cell)
    rates = series.error_rate_from_counts(cells, ctx.grid)
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, rates, value_name="error_rate", label="service", unit="percentunit"
    )


def pattern_occurrences(ctx: TargetContext) -> list[frames.Frame]:
    """Warning and error lines per mined template per bucket, for the most frequent templates:
    the window's message groups (exact over files; over Loki the most frequent are counted
    exactly and the rest estimated, which a notice says)."""
    from analyzer.analysis.templates import mine

    query = ctx.data.counted_query(ctx.query, ctx.notices)
    profile = ctx.data.window_read(query).profile
    groups = [g for g in profile.groups if ctx.data.keeps_cell(g.service, g.level)]
    if not profile.groups_complete:
        ctx.notices.warn("occurrences of the less frequent messages are estimated from a sample")
    if profile.group_step_ns > ctx.grid.step_ms * 1_000_000:
        ctx.notices.warn(
            f"occurrences are counted per {profile.group_step_ns // NS_PER_SECOND}s, coarser "
            "than the panel's interval"
        )
    texts = [m.template for m in mine(g.key for g in groups)]
    rows: dict[str, dict[int, float]] = {}
    for group, text in zip(groups, texts, strict=True):
        row = rows.setdefault(text, {})
        for bucket, n in group.buckets.items():
            row[bucket] = row.get(bucket, 0) + n
    counted = series.sums_on_grid(rows, profile.group_step_ns, ctx.grid)  # type: ignore[arg-type]
    top = {str(k): [int(v) for v in counted[k]] for k in series.top_keys(counted, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="occurrences", label="template"
    )


def _token_sums(ctx: TargetContext) -> tuple[str, dict[tuple[str, str], list[float]]]:
    """Tokens per (`by` value, model) on the grid, from every line of the window that carries
    them (a metric query with `unwrap tokens_used` over Loki)."""
    label, _ = ctx.split_key()
    query = ctx.data.counted_query(ctx.query, ctx.notices, keyed=("model",))
    step = _step_s(ctx)
    rows = ctx.data.sums(query, "tokens_used", label, step)
    rows = {k: v for k, v in rows.items() if ctx.data.keeps_model(k[1])}
    return label, series.sums_on_grid(rows, step * NS_PER_SECOND, ctx.grid)  # type: ignore[arg-type, return-value]


def token_usage(ctx: TargetContext) -> list[frames.Frame]:
    """Tokens per bucket by model or workspace (`by`)."""
    label, by_key = _token_sums(ctx)
    sums: dict[str, list[float]] = {}
    for (name, model), row in by_key.items():
        key = model if label == "model" else name
        target = sums.setdefault(key, [0.0] * ctx.grid.count)
        for i, v in enumerate(row):
            target[i] += v
    top = {str(k): sums[k] for k in series.top_keys(sums, TOP_SERIES)}
    return frames.time_series_frames(
        ctx.ref_id, ctx.grid, top, value_name="tokens", label=label, unit="short"
    )


def cost(ctx: TargetContext) -> list[frames.Frame]:
    """Cost per bucket by model or workspace, from the price table (tokens priced as input
    where lines give only a total, as the accounting does)."""
    from analyzer.analysis.pricing import cost as priced

    label, by_key = _token_sums(ctx)
    prices = ctx.data.prices()
    sums: dict[str, list[float]] = {}
    unpriced: set[str] = set()
    for (name, model), row in by_key.items():
        key = model if label == "model" else name
        target = sums.setdefault(key, [0.0] * ctx.grid.count)
        for i, tokens in enumerate(row):
            if not tokens:
                continue
            amount = priced(model, int(tokens), 0, prices)
            if amount is None:
                unpriced.add(model)
                continue
            target[i] += amount
    if unpriced:
        ctx.notices.warn(f"no price for {', '.join(sorted(unpriced))}: left out of the cost")
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
