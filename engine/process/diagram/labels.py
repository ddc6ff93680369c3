"""Text placed outside shapes: the names of events, gateways and data (which BPMN writes beside the
shape, not in it) and the caption pill under a node, each moved where it covers no other shape or line.
"""

from __future__ import annotations

from engine.process.diagram.canvas import Canvas
from engine.process.diagram.geometry import Box
from engine.process.diagram.obstacles import Obstacles
from engine.process.diagram.reading import Shape
from engine.process.diagram.svg import rect
from engine.process.diagram.text import (
    LABEL_SIZE,
    LINE_HEIGHT,
    OUTSIDE_LABEL_WIDTH,
    text_width,
    wrap,
    wrap_balanced,
)


def outside_label(canvas: Canvas, shape: Shape, obstacles: Obstacles) -> float:
    """Name of an event, gateway or data shape: where the file's label bounds say, else in the first
    free spot around the shape. Returns the lowest y used under the shape, for a caption to go below."""
    b = shape.box
    if shape.label is not None:
        lb = shape.label
        lines = wrap_balanced(shape.name, max(lb.w + 10, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 4)
        text = canvas.text(lines, lb.cx, lb.y, LABEL_SIZE, css="halo")
        area = _text_box(lines, lb.cx, lb.y, "middle")
        under = area.y >= b.cy and abs(area.cx - b.cx) < (b.w + area.w) / 2
    else:
        lines = wrap_balanced(shape.name, max(b.w, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 4)
        spots = _label_spots(b, lines)
        x, top, anchor = next((spot for spot in spots if not obstacles.hit(_text_box(lines, *spot), b)), spots[0])
        text = canvas.text(lines, x, top, LABEL_SIZE, anchor=anchor, css="halo")
        area = _text_box(lines, x, top, anchor)
        under = (x, top, anchor) == spots[0]
    canvas.add("labels", f'<g class="label">{text}</g>')
    return max(area.bottom, b.bottom) if under else b.bottom


def _text_box(lines: list[str], x: float, top: float, anchor: str) -> Box:
    width = max(text_width(line, LABEL_SIZE) for line in lines)
    left = {"middle": x - width / 2, "end": x - width}.get(anchor, x)
    return Box(left, top, width, len(lines) * LABEL_SIZE * LINE_HEIGHT)


def _label_spots(b: Box, lines: list[str]) -> list[tuple[float, float, str]]:
    """Where an outside label may go, best first: below (the BPMN habit), above, then the four corners."""
    height = len(lines) * LABEL_SIZE * LINE_HEIGHT
    return [
        (b.cx, b.bottom + 5, "middle"),
        (b.cx, b.y - 5 - height, "middle"),
        (b.right + 2, b.cy + 6, "start"),
        (b.right + 2, b.cy - 6 - height, "start"),
        (b.x - 2, b.cy + 6, "end"),
        (b.x - 2, b.cy - 6 - height, "end"),
    ]


def caption(canvas: Canvas, text: str, shape: Shape, top: float, state: str, obstacles: Obstacles) -> None:
    """A small pill under the node, e.g. who holds the current task. When the next shape sits too close
    below, the pill straddles the node's bottom border instead, like a badge."""
    lines = wrap(text, 150, LABEL_SIZE, 1)
    if not lines or not lines[0]:
        return
    width = text_width(lines[0], LABEL_SIZE) + 12
    height = LABEL_SIZE * LINE_HEIGHT + 4
    pill = Box(shape.box.cx - width / 2, top, width, height)
    if obstacles.hit(pill, shape.box, lines=False):
        pill = Box(pill.x, shape.box.bottom - height / 2, width, height)
    canvas.cover_box(pill)
    outline = rect(pill, "pill", rx=height / 2)
    label = canvas.text(lines, pill.cx, pill.y + 2, LABEL_SIZE)
    css = f"caption {state}".strip()
    canvas.add("labels", f'<g class="{css}">{outline}{label}</g>')
