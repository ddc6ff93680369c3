"""Link events (`linkEventDefinition`): the modelers' way to tidy a large diagram — a throwing link event
jumps to the catching link event of the same name in the same process (or subprocess).

SpiffWorkflow 3.2 does not know them, so the copy of the tree SpiffWorkflow parses has each pair rewritten
into an ordinary sequence flow (dialect.spiff_view); the stored file, and so the diagram, keeps the link
events as drawn. validation/links.py refuses the names that do not pair.
"""

from __future__ import annotations

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CONTAINERS = ("process", "subProcess", "transaction")
_LINK = f"{{{BPMN_NS}}}linkEventDefinition"


def link_name(event) -> str:
    """The link name of an event: its linkEventDefinition's name (modelers write it there), else the event's."""
    definition = event.find(_LINK)
    return ((definition.get("name") if definition is not None else None) or event.get("name") or "").strip()


def link_events(container) -> tuple[dict[str, list], dict[str, list]]:
    """(throwing, catching) link events directly inside one process or subprocess, by link name."""
    throws: dict[str, list] = {}
    catches: dict[str, list] = {}
    for child in container:
        if not isinstance(child.tag, str) or child.find(_LINK) is None:
            continue
        if child.tag == f"{{{BPMN_NS}}}intermediateThrowEvent":
            throws.setdefault(link_name(child), []).append(child)
        elif child.tag == f"{{{BPMN_NS}}}intermediateCatchEvent":
            catches.setdefault(link_name(child), []).append(child)
    return throws, catches


def containers(root) -> list:
    return [el for tag in CONTAINERS for el in root.iter(f"{{{BPMN_NS}}}{tag}")]


def rewrite(root) -> None:
    """Each link throw/catch pair → a sequence flow between two pass-through events (same ids, same lines)."""
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for container in containers(root):
        throws, catches = link_events(container)
        for name, thrown in throws.items():
            caught = catches.get(name, [])
            if len(caught) != 1:
                continue  # refused at deploy (validation/links.py)
            for event in thrown:
                flow_id = _fresh(f"{event.get('id')}_link", taken)
                container.append(
                    etree.Element(
                        f"{{{BPMN_NS}}}sequenceFlow",
                        id=flow_id,
                        sourceRef=event.get("id"),
                        targetRef=caught[0].get("id"),
                    )
                )
        for event in [e for events in (*throws.values(), *catches.values()) for e in events]:
            if link_name(event) in throws and len(catches.get(link_name(event), [])) == 1:
                event.remove(event.find(_LINK))
                event.tag = f"{{{BPMN_NS}}}intermediateThrowEvent"  # a none event passes straight through


def _fresh(base: str, taken: set) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate
