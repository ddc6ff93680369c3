"""The canvas the drawing is collected on: SVG fragments sorted into paint layers, plus the area they
cover, from which the finished picture gets its viewBox.

The page embeds the SVG as is, so there is no external reference and no id that could collide with a
second diagram on the same page.
"""

from __future__ import annotations

import math

from engine.process.diagram.geometry import Box
from engine.process.diagram.style import STYLE
from engine.process.diagram.svg import escape, num
from engine.process.diagram.text import LINE_HEIGHT, text_width

MARGIN = 20

# Back to front. Containers sit under the flows that cross them; message flows cross pools, so they go
# above the shapes; labels go last so no shape or line hides them.
LAYERS = ("containers", "edges", "nodes", "boundary", "messages", "labels")


class Canvas:
    def __init__(self) -> None:
        self.layers: dict[str, list[str]] = {name: [] for name in LAYERS}
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf

    def add(self, layer: str, svg: str) -> None:
        self.layers[layer].append(svg)

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Grow the drawn area to include this rectangle."""
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)

    def cover_box(self, box: Box) -> None:
        self.cover(box.x, box.y, box.right, box.bottom)

    def text(
        self,
        lines: list[str],
        x: float,
        top: float,
        size: float,
        *,
        anchor: str = "middle",
        css: str = "",
        counted: bool = True,
    ) -> str:
        """Lines of text whose first line starts at `top`; the area counts toward the viewBox unless the
        caller transforms the text elsewhere."""
        if not lines:
            return ""
        height = size * LINE_HEIGHT
        if counted:
            widest = max(text_width(line, size) for line in lines)
            left = {"middle": x - widest / 2, "end": x - widest}.get(anchor, x)
            self.cover(left, top, left + widest, top + height * len(lines))
        spans = "".join(
            f'<tspan x="{num(x)}" y="{num(top + (i + 0.8) * height)}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        css_attr = f' class="{css}"' if css else ""
        return f'<text{css_attr} font-size="{num(size)}" text-anchor="{anchor}">{spans}</text>'

    def to_svg(self) -> str | None:
        """The finished picture, framed by a margin around everything drawn; None when nothing was."""
        if not math.isfinite(self.x0):
            return None
        x, y = self.x0 - MARGIN, self.y0 - MARGIN
        w, h = self.x1 - self.x0 + 2 * MARGIN, self.y1 - self.y0 + 2 * MARGIN
        body = "".join(f'<g class="layer-{name}">{"".join(self.layers[name])}</g>' for name in LAYERS)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="oaf-bpmn" viewBox="{num(x)} {num(y)} {num(w)} {num(h)}"'
            f' width="100%" role="img" aria-label="流程图"><style>{STYLE}</style>{body}</svg>'
        )
