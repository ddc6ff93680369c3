"""Drawing one DI edge: the line (solid, dashed or dotted by flow kind), its arrowhead, the start marker
of default and conditional sequence flows, and its name.

Arrowheads are plain polygons rather than SVG `<marker>`s, whose ids would collide when two diagrams
share a page.
"""

from __future__ import annotations

import math

from lxml import etree

from engine.process.diagram.canvas import Canvas
from engine.process.diagram.geometry import Box, Point, dedupe, middle_segment, toward
from engine.process.diagram.reading import (
    GATEWAYS,
    MODEL_NS,
    label_bounds,
    local,
    name_of,
    ref_attr,
    resolve,
    waypoints,
)
from engine.process.diagram.svg import circle, escape, line, point_list, polygon
from engine.process.diagram.text import LABEL_SIZE, LINE_HEIGHT, OUTSIDE_LABEL_WIDTH, wrap


def draw_edge(canvas: Canvas, di: etree._Element, model: dict[str, etree._Element], done: set[str]) -> None:
    """Add the edge to the canvas; an edge with fewer than two distinct waypoints is left out."""
    points = dedupe(waypoints(di))
    if len(points) < 2:
        return
    element = resolve(model, di.get("bpmnElement"))
    kind = local(element.tag) if element is not None else ""
    for x, y in points:
        canvas.cover(x, y, x, y)
    source = ref_attr(element, "sourceRef")
    target = ref_attr(element, "targetRef")
    # A flow counts as taken only when both of its ends are done.
    state = "done" if source in done and target in done else ""
    parts = _edge_lines(points, kind, element, model)
    css = " ".join(c for c in ("flow", kind, state) if c)
    ref = escape(di.get("bpmnElement") or "")
    layer = "messages" if kind == "messageFlow" else "edges"
    canvas.add(layer, f'<g class="{css}" data-id="{ref}">{parts}</g>')
    name = name_of(element, model)
    if name:
        _edge_label(canvas, points, label_bounds(di), name)


def _edge_lines(
    points: list[Point], kind: str, element: etree._Element | None, model: dict[str, etree._Element]
) -> str:
    if kind == "messageFlow":
        line_css, head = "line dashed", "open"
    elif kind in ("dataInputAssociation", "dataOutputAssociation"):
        line_css, head = "line dotted", "chevron"
    elif kind == "association":
        direction = element.get("associationDirection")
        line_css, head = "line dotted", "chevron" if direction in ("One", "Both") else ""
    else:
        line_css, head = "line", "filled"
    tip, back = points[-1], points[-2]
    # Stop the line at the arrow's base so a dashed or thick stroke does not poke through the tip.
    trimmed = points[:-1] + [toward(tip, back, {"open": 10, "filled": 4}.get(head, 0))]
    parts = [f'<polyline class="{line_css}" points="{point_list(trimmed)}"/>']
    parts.append(_arrowhead(tip, back, head))
    if kind == "messageFlow":
        parts.append(circle(*points[0], 4, "arrow open"))
    elif kind == "sequenceFlow":
        parts.append(_source_marker(points, element, model))
    return "".join(parts)


def _arrowhead(tip: Point, back: Point, head: str) -> str:
    """A filled or open triangle, or a chevron of two strokes, pointing from `back` to `tip`."""
    if not head:
        return ""
    length, half = 11.0, 4.0
    dx, dy = tip[0] - back[0], tip[1] - back[1]
    norm = math.hypot(dx, dy)
    ux, uy = dx / norm, dy / norm
    base = (tip[0] - ux * length, tip[1] - uy * length)
    left = (base[0] - uy * half, base[1] + ux * half)
    right = (base[0] + uy * half, base[1] - ux * half)
    if head == "chevron":
        return f'<polyline class="line" points="{point_list([left, tip, right])}"/>'
    return polygon([tip, left, right], "arrow" + (" open" if head == "open" else ""))


def _source_marker(points: list[Point], flow: etree._Element, model: dict[str, etree._Element]) -> str:
    """Slash for a default flow, small diamond for a conditional flow leaving an activity."""
    source = resolve(model, flow.get("sourceRef"))
    if source is None:
        return ""
    start, nxt = points[0], points[1]
    dx, dy = nxt[0] - start[0], nxt[1] - start[1]
    norm = math.hypot(dx, dy)
    ux, uy = dx / norm, dy / norm
    if source.get("default") == flow.get("id"):
        mx, my = start[0] + ux * 10, start[1] + uy * 10
        # Rotate the direction by 45° for the slash, as in the BPMN notation.
        sx, sy = (ux - uy) * 5, (uy + ux) * 5
        return line(mx - sx, my - sy, mx + sx, my + sy, "line")
    conditional = flow.find(f"{{{MODEL_NS}}}conditionExpression") is not None
    # Flows leaving a gateway are conditional by nature; BPMN marks only those leaving an activity.
    if conditional and local(source.tag) not in GATEWAYS:
        half = 4.0
        mid = (start[0] + ux * 8, start[1] + uy * 8)
        diamond = [
            start,
            (mid[0] - uy * half, mid[1] + ux * half),
            (start[0] + ux * 16, start[1] + uy * 16),
            (mid[0] + uy * half, mid[1] - ux * half),
        ]
        return polygon(diamond, "arrow open")
    return ""


def _edge_label(canvas: Canvas, points: list[Point], label: Box | None, name: str) -> None:
    """The name where the file's label bounds say, else beside the middle of the line."""
    if label is not None:
        lines = wrap(name, max(label.w + 10, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 3)
        text = canvas.text(lines, label.cx, label.y, LABEL_SIZE, css="halo")
    else:
        (x1, y1), (x2, y2) = middle_segment(points)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        lines = wrap(name, OUTSIDE_LABEL_WIDTH, LABEL_SIZE, 3)
        height = len(lines) * LABEL_SIZE * LINE_HEIGHT
        if abs(x2 - x1) >= abs(y2 - y1):  # horizontal: above the line
            text = canvas.text(lines, mx, my - height - 2, LABEL_SIZE, css="halo")
        else:  # vertical: to its right
            text = canvas.text(lines, mx + 5, my - height / 2, LABEL_SIZE, anchor="start", css="halo")
    canvas.add("labels", f'<g class="label">{text}</g>')
