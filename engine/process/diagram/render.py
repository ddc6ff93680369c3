"""The entry point: a BPMN file in, the SVG of its process diagram out (or None when there is nothing to
draw). Parsing goes through the engine's safe parser, so a hostile file is refused the same way here as
at deployment."""

from __future__ import annotations

import re

from engine.process.bpmn import ProblemError, parse_xml
from engine.process.diagram.canvas import Canvas
from engine.process.diagram.plane import States, draw_plane
from engine.process.diagram.reading import find_plane, index_model

_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")


def render_svg(
    bpmn_xml: str | bytes,
    process_key: str | None = None,
    *,
    done: set[str] = frozenset(),
    current: set[str] = frozenset(),
    labels: dict[str, str] | None = None,
) -> str | None:
    """SVG of the process diagram, or None when the file carries no diagram interchange for it."""
    if isinstance(bpmn_xml, str):
        # The text is already decoded: an encoding named in its declaration no longer applies.
        content = _XML_DECLARATION.sub("", bpmn_xml, count=1).encode("utf-8")
    else:
        content = bpmn_xml
    try:
        root = parse_xml(content, "diagram.bpmn").getroot()
    except (ProblemError, ValueError):
        return None
    model = index_model(root)
    plane = find_plane(root, model, process_key)
    if plane is None:
        return None
    states = States(done=set(done), current=set(current))
    canvas = Canvas()
    draw_plane(canvas, plane, model, states, labels or {})
    return canvas.to_svg()
