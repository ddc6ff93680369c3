"""External work (外部任务): service tasks that name a Java class, a connector, an expression or a topic.

Such a task cannot run here as written. It deploys, and when reached it waits (SpiffWorkflow's STARTED
state) until `POST /api/v1/instances/{id}/external/{element}` completes it — or, when a Python handler is
registered under its key through the entry point group `oaflow.service_tasks`, the handler runs in place
and the flow moves on. A handler takes the task data (a dict) and returns a dict of variables to set, or None.

    [options.entry_points]
    oaflow.service_tasks =
        org.camunda.quickstart.SendMail = mypackage.mail:send

A handler that acts on the system itself (账号申请 creates an account) takes a second argument, the
`HandlerContext`: the command's connection (its transaction: what the handler writes commits or rolls back
with the step), the instance and its process. Every run of a handler on an instance is an audit event
(`service_task`: the handler's key and what it answered). A handler that raises fails the command whole
(HandlerFailed → the instance's 异常 state, engine.work.kernel.failure); an administrator retries it.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.process import document_distribution
from engine.process.dialect import service_handler

ENTRY_POINT_GROUP = "oaflow.service_tasks"
Handler = Callable[..., "dict | None"]  # (data) or (data, HandlerContext)
_CONTEXT = "oaflow_service_context"  # the attribute of the workflow the running command's context is on

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


def ship(key: str, handler: Handler) -> None:
    """A handler the product ships from a layer above this one (engine.core adds the 账号 handler)."""
    BUILT_IN[key] = handler


@dataclass(frozen=True)
class HandlerContext:
    """What a handler that acts on the system gets beside the data: the command's transaction."""

    conn: Any  # the command's sqlalchemy Connection (this module stays free of the database: oaflow validate)
    instance_id: int | None
    process_key: str
    initiator: str | None  # username
    # Records what a handler did in the application's 流转记录 (node_id, node_name, message); given by the command.
    record: Callable[[str, str, str], None] | None = None


def attach(workflow, context: HandlerContext) -> None:
    """The command about to run this workflow: its handlers act inside `context` (one per command, since a
    cached workflow outlives the transaction it last ran in)."""
    setattr(workflow, _CONTEXT, context)


def _context_of(workflow) -> HandlerContext | None:
    top = getattr(workflow, "top_workflow", None) or workflow
    return getattr(top, _CONTEXT, None)


def _takes_context(handler: Handler) -> bool:
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _summary(result) -> str:
    if isinstance(result, dict):
        said = result.get("message")
        return said if isinstance(said, str) and said else "返回 " + ("、".join(sorted(result)) or "空结果")
    return "无返回值"


class ExternalTask(ServiceTaskMixin, SpiffBpmnTask):
    """A service/send/receive task whose work happens outside: waits unless a handler is registered."""

    def __init__(self, wf_spec, bpmn_id, handler=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.handler = handler

    def _execute(self, task):
        handler = handler_for(self.handler)
        if handler is None:
            return None  # STARTED: waits for POST …/external/{element}
        context = _context_of(task.workflow)
        try:
            if _takes_context(handler):
                if context is None:
                    raise RuntimeError("该处理程序只能在已保存的申请中运行")
                result = handler(dict(task.data), context)
            else:
                result = handler(dict(task.data))
        except Exception as exc:
            raise HandlerFailed(f"服务任务 {self.bpmn_id} 的处理程序 {self.handler} 执行失败：{exc}") from exc
        if isinstance(result, dict):
            task.data.update(result)
        if context is not None and context.record is not None:
            name = getattr(self, "bpmn_name", None) or self.bpmn_id
            context.record(self.bpmn_id, name, f"服务任务执行处理程序 {self.handler}：{_summary(result)}")
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
