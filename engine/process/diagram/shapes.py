"""Drawing one shape by its category: events, gateways, activities (with their icon, markers and name),
pools and lanes, data objects and stores, annotations, groups, and anything else as a plain box.

Each drawer returns the shape's SVG; text it writes goes through the canvas so that it counts toward the
viewBox. Names outside shapes (events, gateways, data) are not drawn here but in `labels`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.process.diagram.canvas import Canvas
from engine.process.diagram.geometry import Box
from engine.process.diagram.icons import (
    EVENT_ICONS,
    TASK_ICONS,
    CornerIcon,
    adhoc_marker,
    collapsed_marker,
    cross,
    loop_marker,
    parallel_marker,
    sequential_marker,
)
from engine.process.diagram.reading import ACTIVITIES, DATA, EVENTS, GATEWAYS, SUBPROCESSES, THROW_EVENTS, Shape, local
from engine.process.diagram.svg import circle, line, num, path, polygon, rect
from engine.process.diagram.text import LABEL_SIZE, LINE_HEIGHT, NAME_SIZE, text_width, wrap, wrap_balanced

ICON_ROOM = 22  # the task-type icon fills the top-left corner up to this far in each direction


def category(shape: Shape) -> str:
    """How the shape is drawn; also its CSS class, next to the element kind."""
    kind = shape.kind
    if kind in EVENTS:
        return "event"
    if kind in GATEWAYS:
        return "gateway"
    if kind in SUBPROCESSES and shape.expanded:
        return "subprocess"
    if kind in ACTIVITIES:
        return "activity"
    if kind in DATA:
        return "data"
    if kind in ("participant", "lane", "textAnnotation", "group"):
        return {"participant": "pool", "textAnnotation": "annotation"}.get(kind, kind)
    return "other"


# Every drawer takes the canvas, even those that write no text, so that they can share one table.


def _draw_event(canvas: Canvas, shape: Shape) -> str:
    b, kind, el = shape.box, shape.kind, shape.element
    r = min(b.w, b.h) / 2
    non_interrupting = el.get("cancelActivity") == "false" or el.get("isInterrupting") == "false"
    dash = " dashed" if non_interrupting else ""
    parts = [circle(b.cx, b.cy, r, "outline" + (" thick" if kind == "endEvent" else "") + dash)]
    if kind not in ("startEvent", "endEvent"):
        parts.append(circle(b.cx, b.cy, r - 3, "mark" + dash))
    definition = next((c for c in el if local(c.tag).endswith("EventDefinition")), None)
    if definition is not None:
        icon = EVENT_ICONS.get(local(definition.tag))
        if icon:
            parts.append(icon(b.cx, b.cy, r / 18, kind in THROW_EVENTS))
    return "".join(parts)


def _draw_gateway(canvas: Canvas, shape: Shape) -> str:
    b, kind = shape.box, shape.kind
    diamond = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
    parts = [polygon(diamond, "outline")]
    s = min(b.w, b.h)
    cx, cy = b.cx, b.cy
    if kind in ("exclusiveGateway", "complexGateway"):
        parts.append(cross(cx, cy, s * 0.17, diagonal=True))
    if kind in ("parallelGateway", "complexGateway"):
        parts.append(cross(cx, cy, s * 0.24, diagonal=False))
    if kind == "inclusiveGateway":
        parts.append(circle(cx, cy, s * 0.24, "mark bold"))
    if kind == "eventBasedGateway":
        parts += [circle(cx, cy, s * 0.3, "mark"), circle(cx, cy, s * 0.25, "mark")]
        r = s * 0.14
        pentagon = [(cx + r * math.sin(a), cy - r * math.cos(a)) for a in (i * 2 * math.pi / 5 for i in range(5))]
        parts.append(polygon(pentagon, "mark"))
    return "".join(parts)


def _draw_activity(canvas: Canvas, shape: Shape) -> str:
    b, kind, el = shape.box, shape.kind, shape.element
    css = "outline"
    if kind == "callActivity":
        css += " thick"
    if el.get("triggeredByEvent") == "true":
        css += " dotted"
    parts = [rect(b, css, rx=10)]
    if kind == "transaction":
        parts.append(rect(Box(b.x + 3, b.y + 3, b.w - 6, b.h - 6), "mark", rx=7))
    icon = TASK_ICONS.get(kind)
    if icon:
        parts.append(icon(b.x + 5, b.y + 5))
    markers = _markers(shape)
    parts.append(_draw_markers(b, markers))
    if shape.expanded:
        lines = wrap(shape.name, b.w - 16, NAME_SIZE, 2)
        parts.append(canvas.text(lines, b.cx, b.y + 6, NAME_SIZE))
    elif shape.name:
        parts.append(_activity_name(canvas, shape, icon is not None, bool(markers)))
    return "".join(parts)


def _activity_name(canvas: Canvas, shape: Shape, has_icon: bool, has_markers: bool) -> str:
    """The name centred in the box, kept above the bottom markers and, where room allows, lowered to
    clear the type icon in the top-left corner."""
    b, line_height = shape.box, NAME_SIZE * LINE_HEIGHT
    floor = b.bottom - (22 if has_markers else 4)
    lines = wrap_balanced(shape.name, b.w - 8, NAME_SIZE, int((floor - b.y - 4) // line_height))
    height = len(lines) * line_height
    top = b.cy - height / 2
    if has_icon and _clashes_with_icon(b, lines, top):
        top = max(b.y + 4, min(b.y + ICON_ROOM, floor - height))
    return canvas.text(lines, b.cx, top, NAME_SIZE)


def _clashes_with_icon(b: Box, lines: list[str], top: float) -> bool:
    line_height = NAME_SIZE * LINE_HEIGHT
    return any(
        top + i * line_height < b.y + ICON_ROOM and b.cx - text_width(text, NAME_SIZE) / 2 < b.x + ICON_ROOM
        for i, text in enumerate(lines)
    )


def _markers(shape: Shape) -> list[CornerIcon]:
    """Loop, multi-instance, collapsed-subprocess and ad-hoc markers, in the order BPMN lists them."""
    markers = []
    loop = next((c for c in shape.element if local(c.tag).endswith("LoopCharacteristics")), None)
    if loop is not None:
        if local(loop.tag) == "standardLoopCharacteristics":
            markers.append(loop_marker)
        else:
            markers.append(sequential_marker if loop.get("isSequential") == "true" else parallel_marker)
    if shape.kind in SUBPROCESSES and not shape.expanded:
        markers.append(collapsed_marker)
    if shape.kind == "adHocSubProcess":
        markers.append(adhoc_marker)
    return markers


def _draw_markers(b: Box, markers: list[CornerIcon]) -> str:
    """The markers side by side, centred along the bottom edge."""
    size, gap = 14, 4
    left = b.cx - (len(markers) * size + (len(markers) - 1) * gap) / 2
    top = b.bottom - size - 4
    return "".join(draw(left + i * (size + gap), top) for i, draw in enumerate(markers))


def _draw_pool_or_lane(canvas: Canvas, shape: Shape) -> str:
    """Pools and lanes carry their name in a 30px band: on the left, or on top for vertical ones."""
    b = shape.box
    band = min(30.0, b.w if shape.horizontal else b.h)
    parts = [rect(b)]
    name = shape.name
    black_box = shape.kind == "participant" and not (shape.element.get("processRef") or "")
    if black_box:
        # A pool without a process is drawn empty; its name goes in the middle, like bpmn.io does.
        lines = wrap(name, b.w - 20, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        return parts[0] + canvas.text(lines, b.cx, b.cy - len(lines) * height / 2, NAME_SIZE)
    if shape.horizontal:
        parts.append(line(b.x + band, b.y, b.x + band, b.bottom, "outline"))
        lines = wrap(name, b.h - 10, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        # The name is written at the origin and then turned; its area would be wrong, and the band is
        # inside the pool, which already counts.
        text = canvas.text(lines, 0, -len(lines) * height / 2, NAME_SIZE, counted=False)
        if text:
            cx, cy = b.x + band / 2, b.cy
            parts.append(f'<g transform="translate({num(cx)},{num(cy)}) rotate(-90)">{text}</g>')
    else:
        parts.append(line(b.x, b.y + band, b.right, b.y + band, "outline"))
        lines = wrap(name, b.w - 10, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        parts.append(canvas.text(lines, b.cx, b.y + (band - len(lines) * height) / 2, NAME_SIZE))
    return "".join(parts)


def _draw_data(canvas: Canvas, shape: Shape) -> str:
    """A data store as a cylinder; any other data as a page with a folded corner."""
    b = shape.box
    if shape.kind == "dataStoreReference":
        ry = min(b.h / 6, 8)
        body = (
            f"M{num(b.x)},{num(b.y + ry)} A{num(b.w / 2)},{num(ry)} 0 0 1 {num(b.right)},{num(b.y + ry)}"
            f" V{num(b.bottom - ry)} A{num(b.w / 2)},{num(ry)} 0 0 1 {num(b.x)},{num(b.bottom - ry)} Z"
        )
        rim = f"M{num(b.x)},{num(b.y + ry)} A{num(b.w / 2)},{num(ry)} 0 0 0 {num(b.right)},{num(b.y + ry)}"
        return path(body, "outline") + path(rim)
    fold = min(10.0, b.w / 3, b.h / 3)
    page = [(b.x, b.y), (b.right - fold, b.y), (b.right, b.y + fold), (b.right, b.bottom), (b.x, b.bottom)]
    corner = f"M{num(b.right - fold)},{num(b.y)} V{num(b.y + fold)} H{num(b.right)}"
    return polygon(page, "outline") + path(corner)


def _draw_annotation(canvas: Canvas, shape: Shape) -> str:
    b = shape.box
    bracket = path(f"M{num(b.x + 10)},{num(b.y)} H{num(b.x)} V{num(b.bottom)} H{num(b.x + 10)}")
    height = NAME_SIZE * LINE_HEIGHT
    lines = wrap(shape.name, max(b.w - 10, 40), NAME_SIZE, max(1, int((b.h - 4) // height)))
    return bracket + canvas.text(lines, b.x + 5, b.y + 3, NAME_SIZE, anchor="start")


def _draw_group(canvas: Canvas, shape: Shape) -> str:
    b = shape.box
    lines = wrap(shape.name, max(b.w - 10, 40), LABEL_SIZE, 2)
    return rect(b, "outline dashdot", rx=10) + canvas.text(lines, b.cx, b.y + 4, LABEL_SIZE)


def _draw_other(canvas: Canvas, shape: Shape) -> str:
    return rect(shape.box, rx=4)


DRAWERS: dict[str, Callable[[Canvas, Shape], str]] = {
    "event": _draw_event,
    "gateway": _draw_gateway,
    "activity": _draw_activity,
    "subprocess": _draw_activity,
    "pool": _draw_pool_or_lane,
    "lane": _draw_pool_or_lane,
    "data": _draw_data,
    "annotation": _draw_annotation,
    "group": _draw_group,
    "other": _draw_other,
}
