"""The small pictures inside shapes: event-definition icons (message, timer, …), task-type icons in an
activity's corner, the markers along an activity's bottom edge (loop, multi-instance, collapsed, ad hoc),
and the cross of exclusive and parallel gateways.

Event icons are drawn around a centre and scaled by `k` (1 fits an 18px radius); a throwing event's icon
is filled, a catching one's is outlined. Task icons and markers are drawn from their top-left corner.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.process.diagram.geometry import Box, Point
from engine.process.diagram.svg import circle, line, num, path, point_list, polygon, rect

EventIcon = Callable[[float, float, float, bool], str]  # (cx, cy, k, filled) -> SVG
CornerIcon = Callable[[float, float], str]  # (x, y) of the top-left corner -> SVG


def cross(cx: float, cy: float, d: float, *, diagonal: bool) -> str:
    """The bold X of an exclusive gateway (diagonal) or + of a parallel one, reaching d from the centre."""
    if diagonal:
        return line(cx - d, cy - d, cx + d, cy + d, "mark bold") + line(cx - d, cy + d, cx + d, cy - d, "mark bold")
    return line(cx, cy - d, cx, cy + d, "mark bold") + line(cx - d, cy, cx + d, cy, "mark bold")


# ---------------------------------------------------------------- event definitions


def message_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    box = Box(cx - 9 * k, cy - 6 * k, 18 * k, 12 * k)
    flap = [(box.x, box.y), (cx, cy + 1 * k), (box.right, box.y)]
    return rect(box, "solid" if filled else "mark fill") + path(f"M{point_list(flap)}", "knock" if filled else "mark")


def _timer_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    ticks = "".join(
        line(cx + 8 * k * math.cos(a), cy + 8 * k * math.sin(a), cx + 10 * k * math.cos(a), cy + 10 * k * math.sin(a))
        for a in (i * math.pi / 6 for i in range(12))
    )
    hands = path(f"M{num(cx)},{num(cy - 6 * k)} L{num(cx)},{num(cy)} L{num(cx + 4.5 * k)},{num(cy + 2 * k)}")
    return circle(cx, cy, 10 * k, "mark fill") + ticks + hands


def _polygon_icon(points: list[Point]) -> EventIcon:
    """An icon that is one polygon, given around the centre at scale 1."""

    def icon(cx: float, cy: float, k: float, filled: bool) -> str:
        scaled = [(cx + px * k, cy + py * k) for px, py in points]
        return polygon(scaled, "solid" if filled else "mark")

    return icon


def _terminate_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    return circle(cx, cy, 9 * k, "solid")


def _conditional_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    page = rect(Box(cx - 6 * k, cy - 8 * k, 12 * k, 16 * k), "mark fill")
    rows = "".join(line(cx - 3.5 * k, cy + dy * k, cx + 3.5 * k, cy + dy * k) for dy in (-4, -1, 2, 5))
    return page + rows


def _cancel_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    return cross(cx, cy, 6 * k, diagonal=True)


EVENT_ICONS: dict[str, EventIcon] = {
    "messageEventDefinition": message_icon,
    "timerEventDefinition": _timer_icon,
    "signalEventDefinition": _polygon_icon([(0, -9), (8, 5.5), (-8, 5.5)]),
    "errorEventDefinition": _polygon_icon([(-8, 8), (-3, -7), (1, 1), (8, -8), (3, 7), (-1, -1)]),
    "escalationEventDefinition": _polygon_icon([(0, -9), (7, 8), (0, 1), (-7, 8)]),
    "linkEventDefinition": _polygon_icon([(-8, -3), (1, -3), (1, -7), (8, 0), (1, 7), (1, 3), (-8, 3)]),
    "compensateEventDefinition": _polygon_icon([(-9, 0), (-1, -6), (-1, 0), (7, -6), (7, 6), (-1, 0), (-1, 6)]),
    "conditionalEventDefinition": _conditional_icon,
    "terminateEventDefinition": _terminate_icon,
    "cancelEventDefinition": _cancel_icon,
}


# ---------------------------------------------------------------- task types


def _user_icon(x: float, y: float) -> str:
    head = circle(x + 8, y + 5, 3.5, "mark fill")
    body = path(f"M{num(x + 1)},{num(y + 16)} v-2 a7 5 0 0 1 14 0 v2 z", "mark fill")
    return body + head


def _service_icon(x: float, y: float) -> str:
    cx, cy = x + 8, y + 8
    # A thick dashed ring reads as the teeth of a gear: 16 dashes on a 6px circle.
    teeth = f'<circle class="mark" cx="{num(cx)}" cy="{num(cy)}" r="6" stroke-width="3" stroke-dasharray="2.36 2.36"/>'
    return teeth + circle(cx, cy, 5, "mark fill") + circle(cx, cy, 2, "mark")


def _script_icon(x: float, y: float) -> str:
    scroll = path(f"M{num(x + 3)},{num(y)} h11 q-4 4 0 8 t0 8 h-11 q4 -4 0 -8 t0 -8 z", "mark fill")
    rows = "".join(line(x + 4 + dy / 4, y + 4 + dy, x + 11 + dy / 4, y + 4 + dy, "mark") for dy in (0, 4, 8))
    return scroll + rows


def _send_icon(x: float, y: float) -> str:
    return message_icon(x + 9, y + 8, 0.9, True)


def _receive_icon(x: float, y: float) -> str:
    return message_icon(x + 9, y + 8, 0.9, False)


def _rule_icon(x: float, y: float) -> str:
    table = rect(Box(x + 1, y + 2, 16, 12), "mark fill")
    rows = line(x + 1, y + 6, x + 17, y + 6) + line(x + 1, y + 10, x + 17, y + 10)
    return table + rows + line(x + 6, y + 6, x + 6, y + 14)


def _manual_icon(x: float, y: float) -> str:
    # A flat hand: palm with three fingers pointing right, enough to tell it from a user task.
    d = f"M{num(x + 1)},{num(y + 6)} h6 l3 -3 h6 v2 h-5 h7 v2 h-7 h6 v2 h-6 h5 v2 h-11 q-4 0 -4 -3 v-2 q0 -2 3 -2 z"
    return path(d, "mark fill")


TASK_ICONS: dict[str, CornerIcon] = {
    "userTask": _user_icon,
    "serviceTask": _service_icon,
    "scriptTask": _script_icon,
    "sendTask": _send_icon,
    "receiveTask": _receive_icon,
    "businessRuleTask": _rule_icon,
    "manualTask": _manual_icon,
}


# ---------------------------------------------------------------- activity markers (14px squares)


def loop_marker(x: float, y: float) -> str:
    arc = path(f"M{num(x + 4)},{num(y + 12)} A6 6 0 1 1 {num(x + 10)},{num(y + 12)}")
    return arc + path(f"M{num(x + 1)},{num(y + 10)} L{num(x + 4)},{num(y + 12)} L{num(x + 1)},{num(y + 14.5)}")


def parallel_marker(x: float, y: float) -> str:
    return "".join(line(x + dx, y + 1, x + dx, y + 13, "mark bold") for dx in (2, 7, 12))


def sequential_marker(x: float, y: float) -> str:
    return "".join(line(x + 1, y + dy, x + 13, y + dy, "mark bold") for dy in (2, 7, 12))


def collapsed_marker(x: float, y: float) -> str:
    plus = line(x + 7, y + 3, x + 7, y + 11) + line(x + 3, y + 7, x + 11, y + 7)
    return rect(Box(x, y, 14, 14), "mark fill") + plus


def adhoc_marker(x: float, y: float) -> str:
    return path(f"M{num(x + 1)},{num(y + 8)} q3 -4 6 0 t6 0")
