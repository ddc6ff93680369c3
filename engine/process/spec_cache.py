"""Compiled definitions kept in memory per process, keyed by content hash: a command never parses BPMN."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import orjson
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, SequentialMultiInstanceTask
from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.process import bpmn, timer_values
from engine.process.model import ProcessModel
from engine.store.tables import definition


@dataclass
class Compiled:
    """What a command needs from a definition: the SpiffWorkflow specs, our node model and the forms."""

    definition_id: int
    content_hash: str
    spec: object
    subprocess_specs: dict
    model: ProcessModel
    forms: dict[str, dict]
    has_timers: bool = True  # any timer event: instances may have an instance_timer row

    def form(self, name: str | None) -> dict | None:
        return self.forms.get(name) if name else None


class SpecCache:
    """In-process cache of compiled definitions keyed by content hash (never parse BPMN per request)."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[str, Compiled] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self.misses = 0

    def get(self, conn: Connection, definition_id: int) -> Compiled:
        by_id = self._by_id(definition_id)
        if by_id is not None:
            return by_id
        row = conn.execute(select(definition).where(definition.c.id == definition_id)).first()
        if row is None:
            raise NotFound(f"流程定义 {definition_id} 不存在")
        return self.from_row(row)

    def _by_id(self, definition_id: int) -> Compiled | None:
        with self._lock:
            for item in self._items.values():
                if item.definition_id == definition_id:
                    return item
        return None

    def from_row(self, row) -> Compiled:
        with self._lock:
            hit = self._items.get(row.content_hash)
            if hit is not None and hit.definition_id == row.id:
                self._items.move_to_end(row.content_hash)
                return hit
        self.misses += 1
        stored = orjson.loads(row.bundle)
        trees = {name: bpmn.parse_xml(text.encode("utf-8"), name) for name, text in stored["files"].items()}
        spec, subprocess_specs = bpmn.spiff_specs(trees, row.process_key)
        _connect_multi_instance(spec, subprocess_specs)
        compiled = Compiled(
            definition_id=row.id,
            content_hash=row.content_hash,
            spec=spec,
            subprocess_specs=subprocess_specs,
            model=ProcessModel.from_json(orjson.loads(row.meta)),
            forms=stored["forms"],
            has_timers=_has_timers(spec, subprocess_specs),
        )
        with self._lock:
            self._items[row.content_hash] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled


def _connect_multi_instance(spec, subprocess_specs: dict) -> None:
    """A multi-instance node learns that a child finished through an event the library connects only when
    it creates a child: an instance restored from the database (after a restart, or migrated to another
    version) has children made by another spec object, and would wait for ever. Connect them up front."""
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            child = process.task_specs.get(getattr(task_spec, "task_spec", None) or "")
            if isinstance(task_spec, MultiInstanceTask) and child is not None:
                item = _sequential_input_item(task_spec)
                if item is not None and not child.completed_event.is_connected(_forget_input_item):
                    child.completed_event.connect(_forget_input_item, item)  # before the merge, so first
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)


def _sequential_input_item(task_spec) -> str | None:
    """The input item (elementVariable) of a sequential multi-instance node that collects no output into it.
    The library merges each finished child's data into the node, input item included, then refuses to
    create the next child because that item "already exists": the second signer of a sequential 会签 over a
    collection would never be reached."""
    if not isinstance(task_spec, SequentialMultiInstanceTask) or task_spec.input_item is None:
        return None
    name = task_spec.input_item.bpmn_id
    return None if task_spec.output_item is not None and task_spec.output_item.bpmn_id == name else name


def _forget_input_item(workflow, child, name: str) -> None:
    child.data.pop(name, None)


def _has_timers(spec, subprocess_specs: dict) -> bool:
    return any(
        timer_values.has_timer(getattr(task_spec, "event_definition", None))
        for process in (spec, *subprocess_specs.values())
        for task_spec in process.task_specs.values()
    )
