"""Plain geometry for the diagram: points, boxes, and the few tests and measures the drawing needs on them.

Nothing here knows about BPMN or SVG, so the rest of the package can share it without pulling in more.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle, as the DI's `dc:Bounds` give it: top-left corner, width and height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


def segments(points: list[Point]) -> list[tuple[Point, Point]]:
    return list(itertools.pairwise(points))


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def crosses(box: Box, p: Point, q: Point) -> bool:
    """Whether segment p-q passes through the box (Liang-Barsky clipping)."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    low, high = 0.0, 1.0
    for step, room in ((-dx, p[0] - box.x), (dx, box.right - p[0]), (-dy, p[1] - box.y), (dy, box.bottom - p[1])):
        if step == 0:
            if room < 0:
                return False
            continue
        t = room / step
        if step < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def dedupe(points: list[Point]) -> list[Point]:
    """The points without repeats in a row. Later steps divide by segment lengths, so none may be zero."""
    result: list[Point] = []
    for p in points:
        if not result or math.dist(result[-1], p) > 0.01:
            result.append(p)
    return result


def toward(p: Point, q: Point, distance: float) -> Point:
    """The point `distance` along the way from p to q, stopping at q."""
    length = math.dist(p, q)
    if length == 0 or distance == 0:
        return p
    t = min(distance, length) / length
    return p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t


def middle_segment(points: list[Point]) -> tuple[Point, Point]:
    """The segment holding the halfway point along the polyline."""
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(points)]
    half, walked = sum(lengths) / 2, 0.0
    for i, length in enumerate(lengths):
        walked += length
        if walked >= half:
            return points[i], points[i + 1]
    return points[-2], points[-1]
