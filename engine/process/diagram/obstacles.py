"""What a label placed outside its shape should not cover: flow lines and the shapes that are not
containers, filed in a coarse grid so that each question only looks at what is nearby.

A hostile file can crowd everything into one spot, so the number of geometry tests is capped: once the
budget is spent every question answers "free", and the remaining labels take their default spot.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.process.diagram.geometry import Box, Point, crosses, overlap

# Moving labels out of the way costs a geometry test per nearby line or shape; this many tests in all.
OBSTACLE_BUDGET = 100_000


class Obstacles:
    CELL = 100.0

    def __init__(self, boxes: list[Box], segments: list[tuple[Point, Point]]) -> None:
        self.grid: dict[tuple[int, int], list[Box | tuple[Point, Point]]] = {}
        self.budget = OBSTACLE_BUDGET
        for box in boxes:
            self._file(box, box)
        for p, q in segments:
            self._file((p, q), Box(min(p[0], q[0]), min(p[1], q[1]), abs(p[0] - q[0]), abs(p[1] - q[1])))

    def _cells(self, area: Box) -> Iterator[tuple[int, int]]:
        x0, x1 = int(area.x // self.CELL), int(area.right // self.CELL)
        y0, y1 = int(area.y // self.CELL), int(area.bottom // self.CELL)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > 400:
            # Far-flung items would be filed in too many cells; a diagram that big has room for labels.
            return
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                yield cx, cy

    def _file(self, item: Box | tuple[Point, Point], area: Box) -> None:
        for cell in self._cells(area):
            self.grid.setdefault(cell, []).append(item)

    def hit(self, area: Box, own: Box, *, lines: bool = True) -> bool:
        """Whether `area` overlaps a shape other than `own` (the very box object of the label's shape)
        or, when `lines` is set, crosses a flow line."""
        seen: set[int] = set()
        for cell in self._cells(area):
            for item in self.grid.get(cell, ()):
                if id(item) in seen or item is own:
                    continue
                seen.add(id(item))
                self.budget -= 1
                if self.budget < 0:
                    return False
                if isinstance(item, Box):
                    if overlap(area, item):
                        return True
                elif lines and crosses(area, *item):
                    return True
        return False
