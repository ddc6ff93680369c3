"""Reading the BPMN file for drawing: the model elements by id, the plane to draw, and each DI shape's
bounds, label bounds, waypoints and name.

Everything read from the file is untrusted: coordinates are accepted only when they are finite numbers,
references may point nowhere or carry a namespace prefix, and names are cut to a length that could fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lxml import etree

from engine.process.bpmn import local
from engine.process.diagram.geometry import Box, Point

MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

MAX_NAME = 500  # characters kept of a name; the rest would never fit a shape anyway

# Model element kinds (local tag names), grouped the way the drawing treats them.
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


@dataclass(frozen=True)
class Shape:
    """One DI shape joined with the model element it shows."""

    ref: str
    kind: str  # local name of the model element; "" when the reference points nowhere
    element: etree._Element | None
    box: Box
    label: Box | None
    expanded: bool
    horizontal: bool
    name: str


def index_model(root: etree._Element) -> dict[str, etree._Element]:
    """Every BPMN model element by id; the first wins when a (rejected-elsewhere) file repeats an id."""
    model: dict[str, etree._Element] = {}
    for el in root.iter(f"{{{MODEL_NS}}}*"):
        element_id = el.get("id")
        if element_id:
            model.setdefault(element_id, el)
    return model


def resolve(model: dict[str, etree._Element], ref: str | None) -> etree._Element | None:
    if not ref:
        return None
    # References are QNames in the schema; a few tools write them with a prefix.
    element = model.get(ref)
    return element if element is not None else model.get(ref.rpartition(":")[2])


def ref_attr(element: etree._Element | None, attr: str) -> str:
    """The id a reference attribute names, without any namespace prefix; "" when there is none."""
    return "" if element is None else (element.get(attr) or "").rpartition(":")[2]


def find_plane(
    root: etree._Element, model: dict[str, etree._Element], process_key: str | None
) -> etree._Element | None:
    """The DI plane that shows the process (or the collaboration holding it); the first plane without a key."""
    planes = list(root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"))
    if not planes:
        return None
    if process_key is None:
        return planes[0]
    process = model.get(process_key)
    if process is None or local(process.tag) != "process":
        return None
    wanted = {process_key}
    for participant in root.iter(f"{{{MODEL_NS}}}participant"):
        if (participant.get("processRef") or "").rpartition(":")[2] == process_key:
            wanted.add(participant.get("id"))
            collaboration = participant.getparent()
            if collaboration is not None and collaboration.get("id"):
                wanted.add(collaboration.get("id"))
    for plane in planes:
        element = resolve(model, plane.get("bpmnElement"))
        if element is not None and element.get("id") in wanted:
            return plane
    # Some tools leave the plane's bpmnElement empty or wrong: take the plane that shows the process's nodes.
    members = {el.get("id") for el in process.iter(f"{{{MODEL_NS}}}*") if el.get("id")}
    for plane in planes:
        if any(s.get("bpmnElement") in members for s in plane.iter(f"{{{BPMNDI_NS}}}BPMNShape")):
            return plane
    return None


def _attr_number(el: etree._Element, attr: str) -> float | None:
    try:
        value = float(el.get(attr, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _bounds(el: etree._Element | None) -> Box | None:
    bounds = None if el is None else el.find(f"{{{DC_NS}}}Bounds")
    if bounds is None:
        return None
    x, y, w, h = (_attr_number(bounds, a) for a in ("x", "y", "width", "height"))
    if x is None or y is None or w is None or h is None or w < 0 or h < 0:
        return None
    return Box(x, y, w, h)


def label_bounds(di: etree._Element) -> Box | None:
    return _bounds(di.find(f"{{{BPMNDI_NS}}}BPMNLabel"))


def waypoints(di: etree._Element) -> list[Point]:
    points = []
    for wp in di.iter(f"{{{DI_NS}}}waypoint"):
        x, y = _attr_number(wp, "x"), _attr_number(wp, "y")
        if x is not None and y is not None:
            points.append((x, y))
    return points


def read_shape(di: etree._Element, model: dict[str, etree._Element], shown: set[str]) -> Shape | None:
    """The shape a BPMNShape describes, or None when it has no usable bounds. `shown` holds the ids of every
    element the plane draws, to tell whether a subprocess is expanded when the file does not say."""
    box = _bounds(di)
    if box is None:
        return None
    element = resolve(model, di.get("bpmnElement"))
    kind = local(element.tag) if element is not None else ""
    expanded = False
    if kind in SUBPROCESSES:
        flag = di.get("isExpanded")
        if flag is not None:
            expanded = flag == "true"
        else:
            # Older files omit the flag; a subprocess whose children are drawn here is expanded.
            expanded = any(child.get("id") in shown for child in element)
    return Shape(
        ref=di.get("bpmnElement") or "",
        kind=kind,
        element=element,
        box=box,
        label=label_bounds(di),
        expanded=expanded,
        horizontal=di.get("isHorizontal") != "false",
        name=name_of(element, model),
    )


def name_of(element: etree._Element | None, model: dict[str, etree._Element]) -> str:
    """The text shown for an element: its name, an annotation's text, or a group's category value."""
    if element is None:
        return ""
    kind = local(element.tag)
    if kind == "textAnnotation":
        text = element.find(f"{{{MODEL_NS}}}text")
        return (text.text or "")[:MAX_NAME] if text is not None else ""
    if kind == "group":
        # A group shows the value of the category value it points to.
        value = resolve(model, element.get("categoryValueRef"))
        return ((value.get("value") or "") if value is not None else element.get("name") or "")[:MAX_NAME]
    return (element.get("name") or "")[:MAX_NAME]
