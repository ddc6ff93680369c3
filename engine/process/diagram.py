"""Server-side SVG of a BPMN process diagram (流程图), drawn from the file's diagram interchange (DI).

The page embeds the returned string as is, so there is no JavaScript and no external reference: arrowheads
are plain polygons rather than `<marker>`s (whose ids would collide when two diagrams share a page), and
every CSS rule is scoped under the root class. Names and ids come from uploaded files and are escaped;
coordinates are accepted only when they are finite numbers.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from engine.process.bpmn import ProblemError, parse_xml

Point = tuple[float, float]

MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

MARGIN = 20
NAME_SIZE = 12  # font size of names inside activities
LABEL_SIZE = 11  # font size of names outside shapes and of captions
LINE_HEIGHT = 1.25  # in ems
OUTSIDE_LABEL_WIDTH = 90  # bpmn.io wraps external labels at about this width
ICON_ROOM = 22  # the task-type icon fills the top-left corner up to this far in each direction
MAX_NAME = 500  # characters kept of a name; the rest would never fit a shape anyway
# Moving labels out of the way costs a geometry test per nearby line or shape. A hostile file can crowd
# everything into one spot, so after this many tests the remaining labels just take their default spot.
OBSTACLE_BUDGET = 100_000

EVENTS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "implicitThrowEvent",
}
THROW_EVENTS = {"endEvent", "intermediateThrowEvent", "implicitThrowEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES = SUBPROCESSES | {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
}
DATA = {"dataObjectReference", "dataObject", "dataStoreReference", "dataInput", "dataOutput"}

# Back to front. Containers sit under the flows that cross them; message flows cross pools, so they go
# above the shapes; labels go last so no shape or line hides them.
LAYERS = ("containers", "edges", "nodes", "boundary", "messages", "labels")

STYLE = (
    '.oaf-bpmn{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#333}'
    ".oaf-bpmn text{fill:#222;stroke:none}"
    ".oaf-bpmn .shape{color:#333}"
    ".oaf-bpmn .outline{fill:#fff;stroke:currentColor;stroke-width:1.5}"
    ".oaf-bpmn .lane>.outline,.oaf-bpmn .group>.outline{fill:none}"
    ".oaf-bpmn .other>.outline{stroke:#999;stroke-dasharray:4 3}"
    ".oaf-bpmn .mark{fill:none;stroke:currentColor;stroke-width:1.5;stroke-linecap:round;stroke-linejoin:round}"
    ".oaf-bpmn .mark.bold{stroke-width:3}"
    ".oaf-bpmn .mark.fill{fill:#fff}"
    ".oaf-bpmn .solid{fill:currentColor;stroke:currentColor;stroke-width:1}"
    ".oaf-bpmn .knock{fill:none;stroke:#fff;stroke-width:1.2}"
    ".oaf-bpmn .dashed{stroke-dasharray:6 4}"
    ".oaf-bpmn .dotted{stroke-dasharray:1.5 3}"
    ".oaf-bpmn .dashdot{stroke-dasharray:8 3 1.5 3}"
    ".oaf-bpmn .flow{color:#555}"
    ".oaf-bpmn .line{fill:none;stroke:currentColor;stroke-width:1.5;stroke-linejoin:round}"
    ".oaf-bpmn .arrow{fill:currentColor;stroke:currentColor;stroke-width:1;stroke-linejoin:round}"
    ".oaf-bpmn .arrow.open{fill:#fff}"
    ".oaf-bpmn .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    ".oaf-bpmn .caption{color:#555}"
    ".oaf-bpmn .caption rect{fill:#fff;stroke:currentColor;stroke-width:1}"
    ".oaf-bpmn .caption text{fill:currentColor}"
    ".oaf-bpmn .done{color:#2e7d32}"
    ".oaf-bpmn .done>.outline{fill:#e8f5e9}"
    ".oaf-bpmn .flow.done .line{stroke-width:2}"
    ".oaf-bpmn .current{color:#1565c0}"
    ".oaf-bpmn .current>.outline{fill:#e3f2fd;stroke-width:3}"
    ".oaf-bpmn .outline.thick{stroke-width:4}"
    ".oaf-bpmn .current>.outline.thick{stroke-width:5}"
)


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
    model = _index_model(root)
    plane = _find_plane(root, model, process_key)
    if plane is None:
        return None
    states = _States(done=set(done), current=set(current))
    canvas = _Canvas()
    _draw_plane(canvas, plane, model, states, labels or {})
    return canvas.to_svg()


# ---------------------------------------------------------------- reading the file

_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")


@dataclass(frozen=True)
class _Box:
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


@dataclass(frozen=True)
class _Shape:
    ref: str
    kind: str  # local name of the model element; "" when the reference points nowhere
    element: etree._Element | None
    box: _Box
    label: _Box | None
    expanded: bool
    horizontal: bool
    name: str


@dataclass(frozen=True)
class _States:
    done: set[str]
    current: set[str]

    def of(self, element_id: str) -> str:
        if element_id in self.current:
            return "current"
        return "done" if element_id in self.done else ""


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _index_model(root: etree._Element) -> dict[str, etree._Element]:
    """Every BPMN model element by id; the first wins when a (rejected-elsewhere) file repeats an id."""
    model: dict[str, etree._Element] = {}
    for el in root.iter(f"{{{MODEL_NS}}}*"):
        element_id = el.get("id")
        if element_id:
            model.setdefault(element_id, el)
    return model


def _resolve(model: dict[str, etree._Element], ref: str | None) -> etree._Element | None:
    if not ref:
        return None
    # References are QNames in the schema; a few tools write them with a prefix.
    element = model.get(ref)
    return element if element is not None else model.get(ref.rpartition(":")[2])


def _find_plane(
    root: etree._Element, model: dict[str, etree._Element], process_key: str | None
) -> etree._Element | None:
    planes = list(root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"))
    if not planes:
        return None
    if process_key is None:
        return planes[0]
    process = model.get(process_key)
    if process is None or _local(process.tag) != "process":
        return None
    wanted = {process_key}
    for participant in root.iter(f"{{{MODEL_NS}}}participant"):
        if (participant.get("processRef") or "").rpartition(":")[2] == process_key:
            wanted.add(participant.get("id"))
            collaboration = participant.getparent()
            if collaboration is not None and collaboration.get("id"):
                wanted.add(collaboration.get("id"))
    for plane in planes:
        element = _resolve(model, plane.get("bpmnElement"))
        if element is not None and element.get("id") in wanted:
            return plane
    # Some tools leave the plane's bpmnElement empty or wrong: take the plane that shows the process's nodes.
    members = {el.get("id") for el in process.iter(f"{{{MODEL_NS}}}*") if el.get("id")}
    for plane in planes:
        if any(s.get("bpmnElement") in members for s in plane.iter(f"{{{BPMNDI_NS}}}BPMNShape")):
            return plane
    return None


def _number(el: etree._Element, attr: str) -> float | None:
    try:
        value = float(el.get(attr, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _bounds(el: etree._Element | None) -> _Box | None:
    bounds = None if el is None else el.find(f"{{{DC_NS}}}Bounds")
    if bounds is None:
        return None
    x, y, w, h = (_number(bounds, a) for a in ("x", "y", "width", "height"))
    if x is None or y is None or w is None or h is None or w < 0 or h < 0:
        return None
    return _Box(x, y, w, h)


def _label_bounds(di: etree._Element) -> _Box | None:
    return _bounds(di.find(f"{{{BPMNDI_NS}}}BPMNLabel"))


def _waypoints(di: etree._Element) -> list[Point]:
    points = []
    for wp in di.iter(f"{{{DI_NS}}}waypoint"):
        x, y = _number(wp, "x"), _number(wp, "y")
        if x is not None and y is not None:
            points.append((x, y))
    return points


def _read_shape(di: etree._Element, model: dict[str, etree._Element], shown: set[str]) -> _Shape | None:
    box = _bounds(di)
    if box is None:
        return None
    element = _resolve(model, di.get("bpmnElement"))
    kind = _local(element.tag) if element is not None else ""
    expanded = False
    if kind in SUBPROCESSES:
        flag = di.get("isExpanded")
        if flag is not None:
            expanded = flag == "true"
        else:
            # Older files omit the flag; a subprocess whose children are drawn here is expanded.
            expanded = any(child.get("id") in shown for child in element)
    return _Shape(
        ref=di.get("bpmnElement") or "",
        kind=kind,
        element=element,
        box=box,
        label=_label_bounds(di),
        expanded=expanded,
        horizontal=di.get("isHorizontal") != "false",
        name=_name(element, model),
    )


def _name(element: etree._Element | None, model: dict[str, etree._Element]) -> str:
    if element is None:
        return ""
    kind = _local(element.tag)
    if kind == "textAnnotation":
        text = element.find(f"{{{MODEL_NS}}}text")
        return (text.text or "")[:MAX_NAME] if text is not None else ""
    if kind == "group":
        # A group shows the value of the category value it points to.
        value = _resolve(model, element.get("categoryValueRef"))
        return ((value.get("value") or "") if value is not None else element.get("name") or "")[:MAX_NAME]
    return (element.get("name") or "")[:MAX_NAME]


# ---------------------------------------------------------------- text


def _char_width(ch: str, size: float) -> float:
    return (13 if unicodedata.east_asian_width(ch) in ("W", "F") else 7) * size / 12


def _text_width(text: str, size: float) -> float:
    return sum(_char_width(ch, size) for ch in text)


def _tokens(paragraph: str) -> Iterator[tuple[str, bool]]:
    """Words to wrap between, each with whether a space preceded it. Every CJK character is a word."""
    word, space = "", False
    for ch in paragraph:
        if ch.isspace():
            if word:
                yield word, space
            word, space = "", True
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            if word:
                yield word, space
                space = False
            yield ch, space
            word, space = "", False
        else:
            word += ch
    if word:
        yield word, space


def _wrap(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Greedy line breaking by estimated width; the last allowed line ends in '…' when text is cut."""
    lines: list[str] = []
    max_lines = max(1, max_lines)
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for word, space in _tokens(paragraph):
            joined = f"{line} {word}" if line and space else line + word
            if _text_width(joined, size) <= width:
                line = joined
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:  # a word wider than the box breaks anywhere
                if line and _text_width(line + ch, size) > width:
                    lines.append(line)
                    line = ""
                    if len(lines) > max_lines:
                        break
                line += ch
            if len(lines) > max_lines:
                break
        if line:
            lines.append(line)
        if len(lines) > max_lines:
            break
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _text_width(last + "…", size) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _wrap_balanced(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Like _wrap, but as narrow as the same number of lines allows, so that a name does not end in a
    lone character (部门负责人审 / 批). Never narrower than the longest word, which would split it."""
    lines = _wrap(text, width, size, max_lines)
    if len(lines) < 2 or lines[-1].endswith("…"):
        return lines
    longest = max(_text_width(word, size) for word, _ in _tokens(text))
    step = size / 2
    while width - step >= max(longest, size * 2):
        trial = _wrap(text, width - step, size, max_lines)
        if len(trial) != len(lines) or trial[-1].endswith("…"):
            break
        lines, width = trial, width - step
    return lines


_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _esc(text: str) -> str:
    return html.escape(_XML_INVALID.sub("", text), quote=True)


def _n(value: float) -> str:
    text = f"{value:.1f}"
    text = text.removesuffix(".0")
    return "0" if text == "-0" else text


def _points(points: list[Point]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


# ---------------------------------------------------------------- the canvas


class _Canvas:
    def __init__(self) -> None:
        self.layers: dict[str, list[str]] = {name: [] for name in LAYERS}
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf

    def add(self, layer: str, svg: str) -> None:
        self.layers[layer].append(svg)

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)

    def cover_box(self, box: _Box) -> None:
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
            widest = max(_text_width(line, size) for line in lines)
            left = {"middle": x - widest / 2, "end": x - widest}.get(anchor, x)
            self.cover(left, top, left + widest, top + height * len(lines))
        spans = "".join(
            f'<tspan x="{_n(x)}" y="{_n(top + (i + 0.8) * height)}">{_esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        css_attr = f' class="{css}"' if css else ""
        return f'<text{css_attr} font-size="{_n(size)}" text-anchor="{anchor}">{spans}</text>'

    def to_svg(self) -> str | None:
        if not math.isfinite(self.x0):
            return None
        x, y = self.x0 - MARGIN, self.y0 - MARGIN
        w, h = self.x1 - self.x0 + 2 * MARGIN, self.y1 - self.y0 + 2 * MARGIN
        body = "".join(f'<g class="layer-{name}">{"".join(self.layers[name])}</g>' for name in LAYERS)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="oaf-bpmn" viewBox="{_n(x)} {_n(y)} {_n(w)} {_n(h)}"'
            f' width="100%" role="img" aria-label="流程图"><style>{STYLE}</style>{body}</svg>'
        )


# ---------------------------------------------------------------- the plane


def _draw_plane(
    canvas: _Canvas, plane: etree._Element, model: dict[str, etree._Element], states: _States, labels: dict[str, str]
) -> None:
    shapes_di = list(plane.iter(f"{{{BPMNDI_NS}}}BPMNShape"))
    edges_di = list(plane.iter(f"{{{BPMNDI_NS}}}BPMNEdge"))
    shown = {di.get("bpmnElement") for di in shapes_di}
    shapes = [s for s in (_read_shape(di, model, shown) for di in shapes_di) if s is not None]
    # Files list shapes in any order; containers must come parent first so a pool's fill cannot hide its
    # lanes and an outer subprocess cannot hide an inner one. sort() is stable, so the rest keep file order.
    shapes.sort(key=_paint_order)
    obstacles = _Obstacles(
        [s.box for s in shapes if _layer_of(s) != "containers"],
        [seg for di in edges_di for seg in _segments(_waypoints(di))],
    )
    for shape in shapes:
        _draw_shape(canvas, shape, states, labels.get(shape.ref), obstacles)
    for di in edges_di:
        _draw_edge(canvas, di, model, states)


def _paint_order(shape: _Shape) -> tuple[int, float]:
    if _layer_of(shape) != "containers":
        return (3, 0.0)
    rank = {"participant": 0, "lane": 1}.get(shape.kind, 2)
    return (rank, -shape.box.w * shape.box.h)


def _layer_of(shape: _Shape) -> str:
    if shape.kind in ("participant", "lane") or shape.expanded:
        return "containers"
    return "boundary" if shape.kind == "boundaryEvent" else "nodes"


def _category(shape: _Shape) -> str:
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


def _draw_shape(canvas: _Canvas, shape: _Shape, states: _States, caption: str | None, obstacles: _Obstacles) -> None:
    category = _category(shape)
    state = states.of(shape.ref)
    canvas.cover_box(shape.box)
    body = _DRAWERS[category](canvas, shape)
    title = f"<title>{_esc(shape.name)}</title>" if shape.name else ""
    css = " ".join(c for c in ("shape", category, shape.kind, state) if c)
    canvas.add(_layer_of(shape), f'<g class="{css}" data-id="{_esc(shape.ref)}">{title}{body}</g>')
    below = shape.box.bottom
    if category in ("event", "gateway", "data") and shape.name:
        below = _outside_label(canvas, shape, obstacles)
    if caption:
        _caption(canvas, caption, shape, below + 4, state, obstacles)


def _outside_label(canvas: _Canvas, shape: _Shape, obstacles: _Obstacles) -> float:
    """Name of an event, gateway or data shape: where the file's label bounds say, else in the first
    free spot around the shape. Returns the lowest y used under the shape, for a caption to go below."""
    b = shape.box
    if shape.label is not None:
        lb = shape.label
        lines = _wrap_balanced(shape.name, max(lb.w + 10, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 4)
        text = canvas.text(lines, lb.cx, lb.y, LABEL_SIZE, css="halo")
        area = _text_box(lines, lb.cx, lb.y, "middle")
        under = area.y >= b.cy and abs(area.cx - b.cx) < (b.w + area.w) / 2
    else:
        lines = _wrap_balanced(shape.name, max(b.w, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 4)
        spots = _label_spots(b, lines)
        x, top, anchor = next((spot for spot in spots if not obstacles.hit(_text_box(lines, *spot), b)), spots[0])
        text = canvas.text(lines, x, top, LABEL_SIZE, anchor=anchor, css="halo")
        area = _text_box(lines, x, top, anchor)
        under = (x, top, anchor) == spots[0]
    canvas.add("labels", f'<g class="label">{text}</g>')
    return max(area.bottom, b.bottom) if under else b.bottom


def _text_box(lines: list[str], x: float, top: float, anchor: str) -> _Box:
    width = max(_text_width(line, LABEL_SIZE) for line in lines)
    left = {"middle": x - width / 2, "end": x - width}.get(anchor, x)
    return _Box(left, top, width, len(lines) * LABEL_SIZE * LINE_HEIGHT)


def _label_spots(b: _Box, lines: list[str]) -> list[tuple[float, float, str]]:
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


class _Obstacles:
    """What an outside label should not cover: flow lines and the shapes that are not containers, filed
    in a coarse grid so that each question only looks at what is nearby."""

    CELL = 100.0

    def __init__(self, boxes: list[_Box], segments: list[tuple[Point, Point]]) -> None:
        self.grid: dict[tuple[int, int], list[_Box | tuple[Point, Point]]] = {}
        self.budget = OBSTACLE_BUDGET
        for box in boxes:
            self._file(box, box)
        for p, q in segments:
            self._file((p, q), _Box(min(p[0], q[0]), min(p[1], q[1]), abs(p[0] - q[0]), abs(p[1] - q[1])))

    def _cells(self, area: _Box) -> Iterator[tuple[int, int]]:
        x0, x1 = int(area.x // self.CELL), int(area.right // self.CELL)
        y0, y1 = int(area.y // self.CELL), int(area.bottom // self.CELL)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > 400:
            # Far-flung items would be filed in too many cells; a diagram that big has room for labels.
            return
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                yield cx, cy

    def _file(self, item: _Box | tuple[Point, Point], area: _Box) -> None:
        for cell in self._cells(area):
            self.grid.setdefault(cell, []).append(item)

    def hit(self, area: _Box, own: _Box, *, lines: bool = True) -> bool:
        seen: set[int] = set()
        for cell in self._cells(area):
            for item in self.grid.get(cell, ()):
                if id(item) in seen or item is own:
                    continue
                seen.add(id(item))
                self.budget -= 1
                if self.budget < 0:
                    return False
                if isinstance(item, _Box):
                    if _overlap(area, item):
                        return True
                elif lines and _crosses(area, *item):
                    return True
        return False


def _segments(points: list[Point]) -> list[tuple[Point, Point]]:
    return list(itertools.pairwise(points))


def _overlap(a: _Box, b: _Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _crosses(box: _Box, p: Point, q: Point) -> bool:
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


def _caption(canvas: _Canvas, text: str, shape: _Shape, top: float, state: str, obstacles: _Obstacles) -> None:
    """A small pill under the node, e.g. who holds the current task. When the next shape sits too close
    below, the pill straddles the node's bottom border instead, like a badge."""
    lines = _wrap(text, 150, LABEL_SIZE, 1)
    if not lines or not lines[0]:
        return
    width = _text_width(lines[0], LABEL_SIZE) + 12
    height = LABEL_SIZE * LINE_HEIGHT + 4
    pill = _Box(shape.box.cx - width / 2, top, width, height)
    if obstacles.hit(pill, shape.box, lines=False):
        pill = _Box(pill.x, shape.box.bottom - height / 2, width, height)
    canvas.cover_box(pill)
    rect = _rect(pill, "pill", rx=height / 2)
    label = canvas.text(lines, pill.cx, pill.y + 2, LABEL_SIZE)
    css = f"caption {state}".strip()
    canvas.add("labels", f'<g class="{css}">{rect}{label}</g>')


# ---------------------------------------------------------------- shapes by category


def _rect(box: _Box, css: str = "outline", rx: float = 0) -> str:
    corner = f' rx="{_n(rx)}"' if rx else ""
    return f'<rect class="{css}" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}"{corner}/>'


def _circle(cx: float, cy: float, r: float, css: str) -> str:
    return f'<circle class="{css}" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(max(r, 0))}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, css: str = "mark") -> str:
    return f'<line class="{css}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"/>'


def _polygon(points: list[Point], css: str) -> str:
    return f'<polygon class="{css}" points="{_points(points)}"/>'


def _path(d: str, css: str = "mark") -> str:
    return f'<path class="{css}" d="{d}"/>'


def _draw_event(canvas: _Canvas, shape: _Shape) -> str:
    b, kind, el = shape.box, shape.kind, shape.element
    r = min(b.w, b.h) / 2
    non_interrupting = el.get("cancelActivity") == "false" or el.get("isInterrupting") == "false"
    dash = " dashed" if non_interrupting else ""
    parts = [_circle(b.cx, b.cy, r, "outline" + (" thick" if kind == "endEvent" else "") + dash)]
    if kind not in ("startEvent", "endEvent"):
        parts.append(_circle(b.cx, b.cy, r - 3, "mark" + dash))
    definition = next((c for c in el if _local(c.tag).endswith("EventDefinition")), None)
    if definition is not None:
        icon = _EVENT_ICONS.get(_local(definition.tag))
        if icon:
            parts.append(icon(b.cx, b.cy, r / 18, kind in THROW_EVENTS))
    return "".join(parts)


def _message_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    box = _Box(cx - 9 * k, cy - 6 * k, 18 * k, 12 * k)
    flap = [(box.x, box.y), (cx, cy + 1 * k), (box.right, box.y)]
    return _rect(box, "solid" if filled else "mark fill") + _path(f"M{_points(flap)}", "knock" if filled else "mark")


def _timer_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    ticks = "".join(
        _line(cx + 8 * k * math.cos(a), cy + 8 * k * math.sin(a), cx + 10 * k * math.cos(a), cy + 10 * k * math.sin(a))
        for a in (i * math.pi / 6 for i in range(12))
    )
    hands = _path(f"M{_n(cx)},{_n(cy - 6 * k)} L{_n(cx)},{_n(cy)} L{_n(cx + 4.5 * k)},{_n(cy + 2 * k)}")
    return _circle(cx, cy, 10 * k, "mark fill") + ticks + hands


def _shape_icon(points: list[Point]):
    def icon(cx: float, cy: float, k: float, filled: bool) -> str:
        scaled = [(cx + px * k, cy + py * k) for px, py in points]
        return _polygon(scaled, "solid" if filled else "mark")

    return icon


def _terminate_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    return _circle(cx, cy, 9 * k, "solid")


def _conditional_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    page = _rect(_Box(cx - 6 * k, cy - 8 * k, 12 * k, 16 * k), "mark fill")
    rows = "".join(_line(cx - 3.5 * k, cy + dy * k, cx + 3.5 * k, cy + dy * k) for dy in (-4, -1, 2, 5))
    return page + rows


def _cancel_icon(cx: float, cy: float, k: float, filled: bool) -> str:
    return _cross(cx, cy, 6 * k, diagonal=True)


def _cross(cx: float, cy: float, d: float, *, diagonal: bool) -> str:
    """The bold X of an exclusive gateway (diagonal) or + of a parallel one, reaching d from the centre."""
    if diagonal:
        return _line(cx - d, cy - d, cx + d, cy + d, "mark bold") + _line(cx - d, cy + d, cx + d, cy - d, "mark bold")
    return _line(cx, cy - d, cx, cy + d, "mark bold") + _line(cx - d, cy, cx + d, cy, "mark bold")


_EVENT_ICONS = {
    "messageEventDefinition": _message_icon,
    "timerEventDefinition": _timer_icon,
    "signalEventDefinition": _shape_icon([(0, -9), (8, 5.5), (-8, 5.5)]),
    "errorEventDefinition": _shape_icon([(-8, 8), (-3, -7), (1, 1), (8, -8), (3, 7), (-1, -1)]),
    "escalationEventDefinition": _shape_icon([(0, -9), (7, 8), (0, 1), (-7, 8)]),
    "linkEventDefinition": _shape_icon([(-8, -3), (1, -3), (1, -7), (8, 0), (1, 7), (1, 3), (-8, 3)]),
    "compensateEventDefinition": _shape_icon([(-9, 0), (-1, -6), (-1, 0), (7, -6), (7, 6), (-1, 0), (-1, 6)]),
    "conditionalEventDefinition": _conditional_icon,
    "terminateEventDefinition": _terminate_icon,
    "cancelEventDefinition": _cancel_icon,
}


def _draw_gateway(canvas: _Canvas, shape: _Shape) -> str:
    b, kind = shape.box, shape.kind
    diamond = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
    parts = [_polygon(diamond, "outline")]
    s = min(b.w, b.h)
    cx, cy = b.cx, b.cy
    if kind in ("exclusiveGateway", "complexGateway"):
        parts.append(_cross(cx, cy, s * 0.17, diagonal=True))
    if kind in ("parallelGateway", "complexGateway"):
        parts.append(_cross(cx, cy, s * 0.24, diagonal=False))
    if kind == "inclusiveGateway":
        parts.append(_circle(cx, cy, s * 0.24, "mark bold"))
    if kind == "eventBasedGateway":
        parts += [_circle(cx, cy, s * 0.3, "mark"), _circle(cx, cy, s * 0.25, "mark")]
        r = s * 0.14
        pentagon = [(cx + r * math.sin(a), cy - r * math.cos(a)) for a in (i * 2 * math.pi / 5 for i in range(5))]
        parts.append(_polygon(pentagon, "mark"))
    return "".join(parts)


def _draw_activity(canvas: _Canvas, shape: _Shape) -> str:
    b, kind, el = shape.box, shape.kind, shape.element
    css = "outline"
    if kind == "callActivity":
        css += " thick"
    if el.get("triggeredByEvent") == "true":
        css += " dotted"
    parts = [_rect(b, css, rx=10)]
    if kind == "transaction":
        parts.append(_rect(_Box(b.x + 3, b.y + 3, b.w - 6, b.h - 6), "mark", rx=7))
    icon = _TASK_ICONS.get(kind)
    if icon:
        parts.append(icon(b.x + 5, b.y + 5))
    markers = _markers(shape)
    parts.append(_draw_markers(b, markers))
    if shape.expanded:
        lines = _wrap(shape.name, b.w - 16, NAME_SIZE, 2)
        parts.append(canvas.text(lines, b.cx, b.y + 6, NAME_SIZE))
    elif shape.name:
        parts.append(_activity_name(canvas, shape, icon is not None, bool(markers)))
    return "".join(parts)


def _activity_name(canvas: _Canvas, shape: _Shape, has_icon: bool, has_markers: bool) -> str:
    """The name centred in the box, kept above the bottom markers and, where room allows, lowered to
    clear the type icon in the top-left corner."""
    b, line_height = shape.box, NAME_SIZE * LINE_HEIGHT
    floor = b.bottom - (22 if has_markers else 4)
    lines = _wrap_balanced(shape.name, b.w - 8, NAME_SIZE, int((floor - b.y - 4) // line_height))
    height = len(lines) * line_height
    top = b.cy - height / 2
    if has_icon and _clashes_with_icon(b, lines, top):
        top = max(b.y + 4, min(b.y + ICON_ROOM, floor - height))
    return canvas.text(lines, b.cx, top, NAME_SIZE)


def _clashes_with_icon(b: _Box, lines: list[str], top: float) -> bool:
    line_height = NAME_SIZE * LINE_HEIGHT
    return any(
        top + i * line_height < b.y + ICON_ROOM and b.cx - _text_width(line, NAME_SIZE) / 2 < b.x + ICON_ROOM
        for i, line in enumerate(lines)
    )


def _user_icon(x: float, y: float) -> str:
    head = _circle(x + 8, y + 5, 3.5, "mark fill")
    body = _path(f"M{_n(x + 1)},{_n(y + 16)} v-2 a7 5 0 0 1 14 0 v2 z", "mark fill")
    return body + head


def _service_icon(x: float, y: float) -> str:
    cx, cy = x + 8, y + 8
    # A thick dashed ring reads as the teeth of a gear: 16 dashes on a 6px circle.
    teeth = f'<circle class="mark" cx="{_n(cx)}" cy="{_n(cy)}" r="6" stroke-width="3" stroke-dasharray="2.36 2.36"/>'
    return teeth + _circle(cx, cy, 5, "mark fill") + _circle(cx, cy, 2, "mark")


def _script_icon(x: float, y: float) -> str:
    scroll = _path(f"M{_n(x + 3)},{_n(y)} h11 q-4 4 0 8 t0 8 h-11 q4 -4 0 -8 t0 -8 z", "mark fill")
    rows = "".join(_line(x + 4 + dy / 4, y + 4 + dy, x + 11 + dy / 4, y + 4 + dy, "mark") for dy in (0, 4, 8))
    return scroll + rows


def _send_icon(x: float, y: float) -> str:
    return _message_icon(x + 9, y + 8, 0.9, True)


def _receive_icon(x: float, y: float) -> str:
    return _message_icon(x + 9, y + 8, 0.9, False)


def _rule_icon(x: float, y: float) -> str:
    table = _rect(_Box(x + 1, y + 2, 16, 12), "mark fill")
    rows = _line(x + 1, y + 6, x + 17, y + 6) + _line(x + 1, y + 10, x + 17, y + 10)
    return table + rows + _line(x + 6, y + 6, x + 6, y + 14)


def _manual_icon(x: float, y: float) -> str:
    # A flat hand: palm with three fingers pointing right, enough to tell it from a user task.
    d = f"M{_n(x + 1)},{_n(y + 6)} h6 l3 -3 h6 v2 h-5 h7 v2 h-7 h6 v2 h-6 h5 v2 h-11 q-4 0 -4 -3 v-2 q0 -2 3 -2 z"
    return _path(d, "mark fill")


_TASK_ICONS = {
    "userTask": _user_icon,
    "serviceTask": _service_icon,
    "scriptTask": _script_icon,
    "sendTask": _send_icon,
    "receiveTask": _receive_icon,
    "businessRuleTask": _rule_icon,
    "manualTask": _manual_icon,
}


def _markers(shape: _Shape) -> list:
    """Loop, multi-instance, collapsed-subprocess and ad-hoc markers, in the order BPMN lists them."""
    markers = []
    loop = next((c for c in shape.element if _local(c.tag).endswith("LoopCharacteristics")), None)
    if loop is not None:
        if _local(loop.tag) == "standardLoopCharacteristics":
            markers.append(_loop_marker)
        else:
            markers.append(_sequential_marker if loop.get("isSequential") == "true" else _parallel_marker)
    if shape.kind in SUBPROCESSES and not shape.expanded:
        markers.append(_collapsed_marker)
    if shape.kind == "adHocSubProcess":
        markers.append(_adhoc_marker)
    return markers


def _draw_markers(b: _Box, markers: list) -> str:
    size, gap = 14, 4
    left = b.cx - (len(markers) * size + (len(markers) - 1) * gap) / 2
    top = b.bottom - size - 4
    return "".join(draw(left + i * (size + gap), top) for i, draw in enumerate(markers))


def _loop_marker(x: float, y: float) -> str:
    arc = _path(f"M{_n(x + 4)},{_n(y + 12)} A6 6 0 1 1 {_n(x + 10)},{_n(y + 12)}")
    return arc + _path(f"M{_n(x + 1)},{_n(y + 10)} L{_n(x + 4)},{_n(y + 12)} L{_n(x + 1)},{_n(y + 14.5)}")


def _parallel_marker(x: float, y: float) -> str:
    return "".join(_line(x + dx, y + 1, x + dx, y + 13, "mark bold") for dx in (2, 7, 12))


def _sequential_marker(x: float, y: float) -> str:
    return "".join(_line(x + 1, y + dy, x + 13, y + dy, "mark bold") for dy in (2, 7, 12))


def _collapsed_marker(x: float, y: float) -> str:
    plus = _line(x + 7, y + 3, x + 7, y + 11) + _line(x + 3, y + 7, x + 11, y + 7)
    return _rect(_Box(x, y, 14, 14), "mark fill") + plus


def _adhoc_marker(x: float, y: float) -> str:
    return _path(f"M{_n(x + 1)},{_n(y + 8)} q3 -4 6 0 t6 0")


def _draw_pool_or_lane(canvas: _Canvas, shape: _Shape) -> str:
    """Pools and lanes carry their name in a 30px band: on the left, or on top for vertical ones."""
    b = shape.box
    band = min(30.0, b.w if shape.horizontal else b.h)
    parts = [_rect(b)]
    name = shape.name
    black_box = shape.kind == "participant" and not (shape.element.get("processRef") or "")
    if black_box:
        # A pool without a process is drawn empty; its name goes in the middle, like bpmn.io does.
        lines = _wrap(name, b.w - 20, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        return parts[0] + canvas.text(lines, b.cx, b.cy - len(lines) * height / 2, NAME_SIZE)
    if shape.horizontal:
        parts.append(_line(b.x + band, b.y, b.x + band, b.bottom, "outline"))
        lines = _wrap(name, b.h - 10, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        text = canvas.text(lines, 0, -len(lines) * height / 2, NAME_SIZE, counted=False)
        if text:
            cx, cy = b.x + band / 2, b.cy
            parts.append(f'<g transform="translate({_n(cx)},{_n(cy)}) rotate(-90)">{text}</g>')
    else:
        parts.append(_line(b.x, b.y + band, b.right, b.y + band, "outline"))
        lines = _wrap(name, b.w - 10, NAME_SIZE, 2)
        height = NAME_SIZE * LINE_HEIGHT
        parts.append(canvas.text(lines, b.cx, b.y + (band - len(lines) * height) / 2, NAME_SIZE))
    return "".join(parts)


def _draw_data(canvas: _Canvas, shape: _Shape) -> str:
    b = shape.box
    if shape.kind == "dataStoreReference":
        ry = min(b.h / 6, 8)
        body = (
            f"M{_n(b.x)},{_n(b.y + ry)} A{_n(b.w / 2)},{_n(ry)} 0 0 1 {_n(b.right)},{_n(b.y + ry)}"
            f" V{_n(b.bottom - ry)} A{_n(b.w / 2)},{_n(ry)} 0 0 1 {_n(b.x)},{_n(b.bottom - ry)} Z"
        )
        rim = f"M{_n(b.x)},{_n(b.y + ry)} A{_n(b.w / 2)},{_n(ry)} 0 0 0 {_n(b.right)},{_n(b.y + ry)}"
        return _path(body, "outline") + _path(rim)
    fold = min(10.0, b.w / 3, b.h / 3)
    page = [(b.x, b.y), (b.right - fold, b.y), (b.right, b.y + fold), (b.right, b.bottom), (b.x, b.bottom)]
    corner = f"M{_n(b.right - fold)},{_n(b.y)} V{_n(b.y + fold)} H{_n(b.right)}"
    return _polygon(page, "outline") + _path(corner)


def _draw_annotation(canvas: _Canvas, shape: _Shape) -> str:
    b = shape.box
    bracket = _path(f"M{_n(b.x + 10)},{_n(b.y)} H{_n(b.x)} V{_n(b.bottom)} H{_n(b.x + 10)}")
    height = NAME_SIZE * LINE_HEIGHT
    lines = _wrap(shape.name, max(b.w - 10, 40), NAME_SIZE, max(1, int((b.h - 4) // height)))
    return bracket + canvas.text(lines, b.x + 5, b.y + 3, NAME_SIZE, anchor="start")


def _draw_group(canvas: _Canvas, shape: _Shape) -> str:
    b = shape.box
    lines = _wrap(shape.name, max(b.w - 10, 40), LABEL_SIZE, 2)
    return _rect(b, "outline dashdot", rx=10) + canvas.text(lines, b.cx, b.y + 4, LABEL_SIZE)


def _draw_other(canvas: _Canvas, shape: _Shape) -> str:
    return _rect(shape.box, rx=4)


_DRAWERS = {
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


# ---------------------------------------------------------------- edges


def _draw_edge(canvas: _Canvas, di: etree._Element, model: dict[str, etree._Element], states: _States) -> None:
    points = _dedupe(_waypoints(di))
    if len(points) < 2:
        return
    element = _resolve(model, di.get("bpmnElement"))
    kind = _local(element.tag) if element is not None else ""
    for x, y in points:
        canvas.cover(x, y, x, y)
    source = _ref_attr(element, "sourceRef")
    target = _ref_attr(element, "targetRef")
    state = "done" if source in states.done and target in states.done else ""
    parts = _edge_lines(points, kind, element, model)
    css = " ".join(c for c in ("flow", kind, state) if c)
    ref = _esc(di.get("bpmnElement") or "")
    layer = "messages" if kind == "messageFlow" else "edges"
    canvas.add(layer, f'<g class="{css}" data-id="{ref}">{parts}</g>')
    name = _name(element, model)
    if name:
        _edge_label(canvas, points, _label_bounds(di), name)


def _ref_attr(element: etree._Element | None, attr: str) -> str:
    return "" if element is None else (element.get(attr) or "").rpartition(":")[2]


def _dedupe(points: list[Point]) -> list[Point]:
    result: list[Point] = []
    for p in points:
        if not result or math.dist(result[-1], p) > 0.01:
            result.append(p)
    return result


def _edge_lines(
    points: list[Point], kind: str, element: etree._Element | None, model: dict[str, etree._Element]
) -> str:
    if kind == "messageFlow":
        line_css, head = "line dashed", "open"
    elif kind in ("dataInputAssociation", "dataOutputAssociation"):
        line_css, head = "line dotted", "chevron"
    elif kind == "association":
        direction = element.get("associationDirection") if element is not None else None
        line_css, head = "line dotted", "chevron" if direction in ("One", "Both") else ""
    else:
        line_css, head = "line", "filled"
    tip, back = points[-1], points[-2]
    # Stop the line at the arrow's base so a dashed or thick stroke does not poke through the tip.
    trimmed = points[:-1] + [_toward(tip, back, {"open": 10, "filled": 4}.get(head, 0))]
    parts = [f'<polyline class="{line_css}" points="{_points(trimmed)}"/>']
    parts.append(_arrowhead(tip, back, head))
    if kind == "messageFlow":
        parts.append(_circle(*points[0], 4, "arrow open"))
    elif kind == "sequenceFlow":
        parts.append(_source_marker(points, element, model))
    return "".join(parts)


def _toward(p: Point, q: Point, distance: float) -> Point:
    length = math.dist(p, q)
    if length == 0 or distance == 0:
        return p
    t = min(distance, length) / length
    return p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t


def _arrowhead(tip: Point, back: Point, head: str) -> str:
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
        return f'<polyline class="line" points="{_points([left, tip, right])}"/>'
    return _polygon([tip, left, right], "arrow" + (" open" if head == "open" else ""))


def _source_marker(points: list[Point], flow: etree._Element, model: dict[str, etree._Element]) -> str:
    """Slash for a default flow, small diamond for a conditional flow leaving an activity."""
    source = _resolve(model, flow.get("sourceRef"))
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
        return _line(mx - sx, my - sy, mx + sx, my + sy, "line")
    conditional = flow.find(f"{{{MODEL_NS}}}conditionExpression") is not None
    if conditional and _local(source.tag) not in GATEWAYS:
        half = 4.0
        mid = (start[0] + ux * 8, start[1] + uy * 8)
        diamond = [
            start,
            (mid[0] - uy * half, mid[1] + ux * half),
            (start[0] + ux * 16, start[1] + uy * 16),
            (mid[0] + uy * half, mid[1] - ux * half),
        ]
        return _polygon(diamond, "arrow open")
    return ""


def _edge_label(canvas: _Canvas, points: list[Point], label: _Box | None, name: str) -> None:
    if label is not None:
        lines = _wrap(name, max(label.w + 10, OUTSIDE_LABEL_WIDTH), LABEL_SIZE, 3)
        text = canvas.text(lines, label.cx, label.y, LABEL_SIZE, css="halo")
    else:
        (x1, y1), (x2, y2) = _middle_segment(points)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        lines = _wrap(name, OUTSIDE_LABEL_WIDTH, LABEL_SIZE, 3)
        height = len(lines) * LABEL_SIZE * LINE_HEIGHT
        if abs(x2 - x1) >= abs(y2 - y1):  # horizontal: above the line
            text = canvas.text(lines, mx, my - height - 2, LABEL_SIZE, css="halo")
        else:  # vertical: to its right
            text = canvas.text(lines, mx + 5, my - height / 2, LABEL_SIZE, anchor="start", css="halo")
    canvas.add("labels", f'<g class="label">{text}</g>')


def _middle_segment(points: list[Point]) -> tuple[Point, Point]:
    """The segment holding the halfway point along the polyline."""
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(points)]
    half, walked = sum(lengths) / 2, 0.0
    for i, length in enumerate(lengths):
        walked += length
        if walked >= half:
            return points[i], points[i + 1]
    return points[-2], points[-1]
