"""Drawing a whole DI plane: its shapes in paint order (containers parent first), each shape's name and
caption, then its edges, every piece in the layer where it belongs."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.process.diagram.canvas import Canvas
from engine.process.diagram.edges import draw_edge
from engine.process.diagram.geometry import segments
from engine.process.diagram.labels import caption, outside_label
from engine.process.diagram.obstacles import Obstacles
from engine.process.diagram.reading import BPMNDI_NS, Shape, read_shape, waypoints
from engine.process.diagram.shapes import DRAWERS, category
from engine.process.diagram.svg import escape


@dataclass(frozen=True)
class States:
    """Which elements a running instance has passed through and which it is at now."""

    done: set[str]
    current: set[str]

    def of(self, element_id: str) -> str:
        """The element's state as a CSS class; current wins over done (a loop can revisit a node)."""
        if element_id in self.current:
            return "current"
        return "done" if element_id in self.done else ""


def draw_plane(
    canvas: Canvas, plane: etree._Element, model: dict[str, etree._Element], states: States, labels: dict[str, str]
) -> None:
    shapes_di = list(plane.iter(f"{{{BPMNDI_NS}}}BPMNShape"))
    edges_di = list(plane.iter(f"{{{BPMNDI_NS}}}BPMNEdge"))
    shown = {di.get("bpmnElement") for di in shapes_di}
    shapes = [s for s in (read_shape(di, model, shown) for di in shapes_di) if s is not None]
    # Files list shapes in any order; containers must come parent first so a pool's fill cannot hide its
    # lanes and an outer subprocess cannot hide an inner one. sort() is stable, so the rest keep file order.
    shapes.sort(key=_paint_order)
    obstacles = Obstacles(
        [s.box for s in shapes if _layer_of(s) != "containers"],
        [seg for di in edges_di for seg in segments(waypoints(di))],
    )
    for shape in shapes:
        _draw_shape(canvas, shape, states, labels.get(shape.ref), obstacles)
    for di in edges_di:
        draw_edge(canvas, di, model, states.done)


def _paint_order(shape: Shape) -> tuple[int, float]:
    if _layer_of(shape) != "containers":
        return (3, 0.0)
    rank = {"participant": 0, "lane": 1}.get(shape.kind, 2)
    # Among containers of one rank the larger goes first, as an outer one is larger than what it holds.
    return (rank, -shape.box.w * shape.box.h)


def _layer_of(shape: Shape) -> str:
    if shape.kind in ("participant", "lane") or shape.expanded:
        return "containers"
    return "boundary" if shape.kind == "boundaryEvent" else "nodes"


def _draw_shape(canvas: Canvas, shape: Shape, states: States, text: str | None, obstacles: Obstacles) -> None:
    """The shape in its layer, with a `<title>` for the tooltip, its outside name and its caption `text`."""
    kind = category(shape)
    state = states.of(shape.ref)
    canvas.cover_box(shape.box)
    body = DRAWERS[kind](canvas, shape)
    title = f"<title>{escape(shape.name)}</title>" if shape.name else ""
    css = " ".join(c for c in ("shape", kind, shape.kind, state) if c)
    canvas.add(_layer_of(shape), f'<g class="{css}" data-id="{escape(shape.ref)}">{title}{body}</g>')
    below = shape.box.bottom
    if kind in ("event", "gateway", "data") and shape.name:
        below = outside_label(canvas, shape, obstacles)
    if text:
        caption(canvas, text, shape, below + 4, state, obstacles)
