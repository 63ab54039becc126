"""Where the report's flow graph puts its nodes and labels so that none overlaps another.

Callers before callees, in layers (a cycle is drawn as the graph without its back edges, every
edge still drawn). Each node takes a box that holds its circle, the failing-hop mark above it and
its name and detail below, as wide as its longest label; layers are laid side by side (left to
right) while that fits a page, else one under another (top to bottom), and a layer's boxes never
share space. Within a layer, nodes sit in the order of their callers, which uncrosses most edges.
Each edge's label goes to the first point along the edge, on either side of it, where it touches
no node box and no other label. Sizes are in SVG units; text widths are estimated generously
from the page's fonts, so the drawing holds whatever the browser measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

RADIUS = 24
FAILING_RING = 6
NAME_PX = 8.6  # per character of a node name (13px bold)
DETAIL_PX = 6.8  # per character of a node's detail line (11px)
EDGE_PX = 7.4  # per character of an edge label (11.5px semibold)
LINE_H = 14  # a detail line
GAP_X, GAP_Y = 40, 26  # between node boxes
MARGIN = 20
MAX_DETAIL_CHARS = 24  # a longer detail is split at "; " into lines
SWEEPS = 3


@dataclass(slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: Box, pad: float = 2.0) -> bool:
        return not (
            self.x1 + pad <= other.x0 or other.x1 + pad <= self.x0
            or self.y1 + pad <= other.y0 or other.y1 + pad <= self.y0
        )


@dataclass(slots=True)
class NodeShape:
    """A node's extent around its centre: the circle, the failing mark above, labels below."""

    name: str
    detail: list[str]
    failing: bool
    width: float = 0.0
    above: float = 0.0  # centre to top
    below: float = 0.0  # centre to bottom
    x: float = 0.0
    y: float = 0.0

    def __post_init__(self) -> None:
        self.width = max(
            2 * (RADIUS + FAILING_RING),
            len(self.name) * NAME_PX,
            max((len(line) for line in self.detail), default=0) * DETAIL_PX,
            len("▼ first to fail") * DETAIL_PX if self.failing else 0,
        )
        self.above = RADIUS + FAILING_RING + (20 if self.failing else 0)
        self.below = RADIUS + 26 + LINE_H * len(self.detail)

    @property
    def height(self) -> float:
        return self.above + self.below

    def box(self) -> Box:
        return Box(self.x - self.width / 2, self.y - self.above, self.x + self.width / 2, self.y + self.below)


@dataclass(slots=True)
class Layout:
    width: float
    height: float
    nodes: dict[str, NodeShape] = field(default_factory=dict)
    edge_labels: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    direction: str = "right"  # "right": layers left to right; "down": top to bottom


def detail_lines(detail: str) -> list[str]:
    if len(detail) <= MAX_DETAIL_CHARS or "; " not in detail:
        return [detail]
    head, _, tail = detail.partition("; ")
    return [head + ";", tail]


def layout(
    nodes: list[tuple[str, str, bool]],
    edges: list[tuple[str, str, str]],
    *,
    width: int = 760,
) -> Layout:
    """`nodes`: (id, detail, failing); `edges`: (source, target, label)."""
    shapes = {name: NodeShape(name, detail_lines(detail), failing) for name, detail, failing in nodes}
    if not shapes:
        return Layout(width, 200)
    layers = _layers(list(shapes), [(s, t) for s, t, _ in edges])
    gap = max([GAP_X] + [len(label) * EDGE_PX + 16 for _, _, label in edges])  # room for a label
    across = sum(max(shapes[n].width for n in layer) for layer in layers) + gap * (len(layers) - 1)
    if across + 2 * MARGIN <= width or len(layers) <= 1:
        out = _left_to_right(shapes, layers, width, gap)
    else:
        out = _top_to_bottom(shapes, layers, width)
    _place_edge_labels(out, edges)
    return out


def _layers(names: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((s, t) for s, t in edges if s != t)
    while not nx.is_directed_acyclic_graph(graph):  # drop back edges; they are still drawn
        graph.remove_edge(*nx.find_cycle(graph)[-1][:2])
    layers = [sorted(layer) for layer in nx.topological_generations(graph)]
    # callers' order down, callees' order up, and down again last: fewer crossings
    sweeps = [(False, graph.predecessors), (True, graph.successors)] * SWEEPS + [(False, graph.predecessors)]
    for upward, neighbours in sweeps:
        position: dict[str, float] = {}
        for layer in layers[::-1] if upward else layers:
            here = {name: (i + 0.5) / len(layer) for i, name in enumerate(layer)}
            layer.sort(key=lambda name, n=neighbours, h=here: (_centre(name, n, position, h[name]), name))
            position.update({name: (i + 0.5) / len(layer) for i, name in enumerate(layer)})
    return layers


def _centre(name: str, neighbours: Any, position: dict[str, float], own: float) -> float:
    """Where a node's already placed neighbours sit, on average (0..1); its own place without."""
    placed = [position[n] for n in neighbours(name) if n in position]
    return sum(placed) / len(placed) if placed else own


def _left_to_right(
    shapes: dict[str, NodeShape], layers: list[list[str]], width: int, gap: float
) -> Layout:
    columns = [max(shapes[n].width for n in layer) for layer in layers]
    # each layer a stack of boxes, the stacks' middle circles on one line across the graph
    centres: list[list[float]] = []
    for layer in layers:
        at, row = 0.0, []
        for name in layer:
            row.append(at + shapes[name].above)
            at += shapes[name].height + GAP_Y
        centres.append(row)
    mids = [(row[0] + row[-1]) / 2 for row in centres]
    up = max(mid for mid in mids)  # the stack tops sit at 0 below their own top
    down = max(
        row[-1] + shapes[layer[-1]].below - mid for layer, row, mid in zip(layers, centres, mids, strict=True)
    )
    height = 2 * MARGIN + up + down
    needed = sum(columns) + gap * (len(layers) - 1) + 2 * MARGIN
    total_w = max(width, needed)
    spare = (total_w - needed) / (len(layers) + 1)  # spread the columns over the width
    x = MARGIN + spare
    for layer, column, row, mid in zip(layers, columns, centres, mids, strict=True):
        for name, centre in zip(layer, row, strict=True):
            shape = shapes[name]
            shape.x, shape.y = x + column / 2, MARGIN + up - mid + centre
        x += column + gap + spare
    return Layout(total_w, height, shapes, direction="right")


def _top_to_bottom(shapes: dict[str, NodeShape], layers: list[list[str]], width: int) -> Layout:
    rows = [max(shapes[n].height for n in layer) for layer in layers]
    spans = [sum(shapes[n].width for n in layer) + GAP_X * (len(layer) - 1) for layer in layers]
    total_w = max(width, max(spans) + 2 * MARGIN)
    y = MARGIN
    for layer, row, span in zip(layers, rows, spans, strict=True):
        x = (total_w - span) / 2
        top = max(shapes[n].above for n in layer)
        for name in layer:
            shape = shapes[name]
            shape.x, shape.y = x + shape.width / 2, y + top
            x += shape.width + GAP_X
        y += row + GAP_Y + 8
    return Layout(total_w, y - GAP_Y - 8 + MARGIN, shapes, direction="down")


def _place_edge_labels(out: Layout, edges: list[tuple[str, str, str]]) -> None:
    taken = [shape.box() for shape in out.nodes.values()]
    for source, target, label in edges:
        a, b = out.nodes[source], out.nodes[target]
        length = math.hypot(b.x - a.x, b.y - a.y) or 1.0
        ux, uy = (b.x - a.x) / length, (b.y - a.y) / length
        w, h = len(label) * EDGE_PX, 15.0
        best = None
        for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
            for side in (1, -1):
                for offset in (12, 26):
                    cx = a.x + (b.x - a.x) * t + uy * offset * side
                    cy = a.y + (b.y - a.y) * t - ux * offset * side
                    box = Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    if not any(box.hits(other) for other in taken):
                        best = (cx, cy, box)
                        break
                if best:
                    break
            if best:
                break
        if best is None:  # nowhere free along the edge: beside the source's box
            cx, cy = a.x, a.y + a.below + h
            best = (cx, cy, Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
            out.height = max(out.height, cy + h + MARGIN)
        taken.append(best[2])
        out.edge_labels[(source, target)] = (best[0], best[1])
