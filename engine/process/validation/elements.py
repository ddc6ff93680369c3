"""Finding BPMN elements in a parsed file: the lookups that the structure, timer and variable checks share."""

from __future__ import annotations

from engine.process.bpmn import BPMN_NS, namespace


def bpmn_children(container) -> list:
    """The BPMN elements directly inside a process or subprocess (other namespaces and comments left out)."""
    return [c for c in container if isinstance(c.tag, str) and namespace(c.tag) == BPMN_NS]


def process_element(tree, key: str):
    """The <process> with this id, or None."""
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == key:
            return process
    return None
