"""External work (外部任务): service tasks that name a Java class, a connector, an expression or a topic.

Such a task cannot run here as written. It deploys, and when reached it waits (SpiffWorkflow's STARTED
state) until `POST /api/v1/instances/{id}/external/{element}` completes it — or, when a Python handler is
registered under its key through the entry point group `oaflow.service_tasks`, the handler runs in place
and the flow moves on. A handler takes the task data (a dict) and returns a dict of variables to set, or None.

    [options.entry_points]
    oaflow.service_tasks =
        org.camunda.quickstart.SendMail = mypackage.mail:send
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.process import document_distribution
from engine.process.dialect import service_handler

ENTRY_POINT_GROUP = "oaflow.service_tasks"
Handler = Callable[[dict], "dict | None"]

# The handlers the product ships: they run wherever a process names them, without an entry point.
BUILT_IN: dict[str, Handler] = {document_distribution.DISTRIBUTE: document_distribution.letters}

_registered: dict[str, Handler] = {}
_loaded: dict[str, Handler] | None = None
_lock = threading.Lock()


class HandlerFailed(Exception):
    """A registered handler raised: the command fails and nothing is stored."""


def register(key: str, handler: Handler) -> None:
    """Register a handler in code (tests, embedding); entry points are found without this."""
    _registered[key] = handler


def unregister(key: str) -> None:
    _registered.pop(key, None)


def reload_entry_points() -> None:
    """Forget the entry points read so far (after installing a package that adds handlers)."""
    global _loaded
    with _lock:
        _loaded = None


def _entry_point_handlers() -> dict[str, Handler]:
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return _loaded


def handler_for(key: str | None) -> Handler | None:
    if not key:
        return None
    if key in _registered:
        return _registered[key]
    if key in BUILT_IN:
        return BUILT_IN[key]
    found = _entry_point_handlers().get(key)
    if found is None:
        return None
    if not callable(found):  # an EntryPoint: load it once
        found = found.load()
        _entry_point_handlers()[key] = found
    return found


def handler_keys() -> list[str]:
    return sorted(set(_registered) | set(BUILT_IN) | set(_entry_point_handlers()))


class ExternalTask(ServiceTaskMixin, SpiffBpmnTask):
    """A service/send/receive task whose work happens outside: waits unless a handler is registered."""

    def __init__(self, wf_spec, bpmn_id, handler=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.handler = handler

    def _execute(self, task):
        handler = handler_for(self.handler)
        if handler is None:
            return None  # STARTED: waits for POST …/external/{element}
        try:
            result = handler(dict(task.data))
        except Exception as exc:
            raise HandlerFailed(f"服务任务 {self.bpmn_id} 的处理程序 {self.handler} 执行失败：{exc}") from exc
        if isinstance(result, dict):
            task.data.update(result)
        return True


class ExternalTaskParser(SpiffTaskParser):
    def create_task(self):
        extensions = self.parse_extensions()
        found = service_handler(self.node)
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            handler=found[1] if found else None,
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class ExternalTaskConverter(SpiffBpmnTaskConverter):
    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["handler"] = spec.handler
        return dct
