"""Grafana data frames built from analysis results: the shapes panels read without transforms.

A frame is `{"name", "refId", "meta", "fields": [{"name", "type", "values", "config"}]}`. It is
the only response shape through which Grafana reads `meta` (the Node Graph panel needs
`preferredVisualisationType: "nodeGraph"`), so every answer of the datasource is a frame. Field
types are Grafana's: `time` (epoch ms), `number`, `string`, `boolean`.

Pure functions: no Flask, no I/O, so tests check the shapes directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from analyzer.analysis.series import Grid

FieldType = Literal["time", "number", "string", "boolean", "other"]
Frame = dict[str, Any]
Field = dict[str, Any]

# Grafana's Node Graph panel reads these names (lower case since Grafana 8.5; matching is
# case-insensitive in newer versions, so lower case works everywhere).
NODE_FIELDS = ("id", "title", "subtitle", "mainstat", "secondarystat", "color")
EDGE_FIELDS = ("id", "source", "target", "mainstat", "secondarystat")
ARC_PREFIX = "arc__"  # arc__<name>: a fraction of the node's circle, coloured by config.color


def field(
    name: str,
    type_: FieldType,
    values: Sequence[Any],
    *,
    config: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
) -> Field:
    out: Field = {"name": name, "type": type_, "values": list(values), "config": config or {}}
    if labels:
        out["labels"] = labels
    return out


def frame(
    ref_id: str, name: str, fields: list[Field], meta: dict[str, Any] | None = None
) -> Frame:
    lengths = {len(f["values"]) for f in fields}
    if len(lengths) > 1:
        raise ValueError(f"frame {name!r}: fields of different lengths {sorted(lengths)}")
    return {"name": name, "refId": ref_id, "meta": meta or {}, "fields": fields}


def time_series_frames(
    ref_id: str,
    grid: Grid,
    series: dict[str, Sequence[float | int | None]],
    *,
    value_name: str,
    label: str,
    unit: str | None = None,
) -> list[Frame]:
    """One frame per series (Time + value), the value field labelled `{label: series name}`.

    This is Grafana's "multi frame" time-series layout: each line is named by its labels, and a
    legend of `{{service}}` or the default display name needs no transformation.
    """
    times = grid.times_ms
    frames = []
    for name, values in series.items():
        config: dict[str, Any] = {"displayNameFromDS": name}
        if unit:
            config["unit"] = unit
        frames.append(
            frame(
                ref_id,
                name,
                [
                    field("Time", "time", times),
                    field(value_name, "number", values, config=config, labels={label: name}),
                ],
                meta={"type": "timeseries-multi", "typeVersion": [0, 1]},
            )
        )
    if not frames:
        # an empty frame still tells Grafana the query ran and had nothing to draw
        frames.append(
            frame(
                ref_id,
                value_name,
                [field("Time", "time", []), field(value_name, "number", [])],
                meta={"type": "timeseries-multi", "typeVersion": [0, 1]},
            )
        )
    return frames


def table_frame(
    ref_id: str,
    name: str,
    columns: Sequence[tuple[str, FieldType]],
    rows: Sequence[dict[str, Any]],
    *,
    units: dict[str, str] | None = None,
) -> Frame:
    """A table from row dicts; `columns` fixes order and type so an empty table keeps its shape."""
    units = units or {}
    fields = [
        field(
            col,
            type_,
            [row.get(col) for row in rows],
            config={"unit": units[col]} if col in units else None,
        )
        for col, type_ in columns
    ]
    return frame(ref_id, name, fields, meta={"preferredVisualisationType": "table"})


def text_frame(ref_id: str, name: str, text: str) -> Frame:
    """One cell: what a Table panel (or a Text panel fed by a table) shows as a paragraph."""
    return frame(
        ref_id, name, [field(name, "string", [text])], meta={"preferredVisualisationType": "table"}
    )


def node_graph_frames(
    ref_id: str, nodes_fields: list[Field], edges_fields: list[Field]
) -> list[Frame]:
    """The `nodes` and `edges` frames of Grafana's Node Graph panel."""
    meta = {"preferredVisualisationType": "nodeGraph"}
    return [
        frame(ref_id, "nodes", nodes_fields, meta=dict(meta)),
        frame(ref_id, "edges", edges_fields, meta=dict(meta)),
    ]
