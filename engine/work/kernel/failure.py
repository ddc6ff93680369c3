"""When the engine cannot move an instance on: one error type naming the BPMN element, and the `error`
state (状态 异常) an instance enters when that happens after its start.

`run_engine` is the one way commands run SpiffWorkflow's engine steps: it charges every step and timer
firing to the command's budget (engine.process.limits) and turns whatever the library raises — a condition
that fails, a script over its budget, a gateway with no way out — into `WorkflowFailed` with the element's
id and name. Starting an instance answers that error to the initiator (422, nothing stored). Any later
command that fails so — an approver's decision completing a node, a timer firing, a message arriving —
is rolled back whole, and `enter_error` then marks the instance 异常 in a transaction of its own: the
administrators see it (engine.work.recovery), fix the cause and retry it; nothing is left half done.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select, update

from engine.errors import OaflowError
from engine.notify import outbox
from engine.process.expressions import ExpressionError
from engine.process.limits import Budget, BudgetExceeded
from engine.store import audit
from engine.store.tables import instance, utcnow, work_item
from engine.work import assignment
from engine.work.kernel.engine_messages import in_chinese

log = logging.getLogger("oaflow.work")

ERROR_SUFFIX = "。您的操作未生效，申请已转入“异常”状态并通知管理员；管理员处理后可重新办理"


class WorkflowFailed(OaflowError):
    """The engine could not move the instance on at `element` (a BPMN id; None when unknown)."""

    status = 422

    def __init__(self, message: str, element: str | None = None, element_name: str | None = None):
        super().__init__(message)
        self.element = element
        self.element_name = element_name
        self.reason = message


def failed_at(reason: str, element: str | None, element_name: str | None = None) -> WorkflowFailed:
    """WorkflowFailed with a message that names the element: 流程在“经理审批”（Task_manager）执行失败：…"""
    if element:
        where = f"“{element_name}”（{element}）" if element_name and element_name != element else f"“{element}”"
        message = f"流程在{where}执行失败：{reason}"
    else:
        message = f"流程执行失败：{reason}"
    failed = WorkflowFailed(message, element, element_name)
    failed.reason = reason
    return failed


def _element(task_spec) -> tuple[str | None, str | None]:
    if task_spec is None:
        return None, None
    ident = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", None)
    return ident, getattr(task_spec, "bpmn_name", None) or ident


def _reason(exc: BaseException) -> str:
    """Why it failed, in Chinese (engine_messages): never the library's English text."""
    if isinstance(exc, (ExpressionError, BudgetExceeded)):
        return str(exc)
    cause = exc.__context__
    if isinstance(cause, (ExpressionError, BudgetExceeded)):
        return str(cause)
    message = getattr(exc, "message", None) or str(exc)
    return in_chinese(message.splitlines()[0] if message else "", type(exc).__name__)


def _is_timer(task_spec) -> bool:
    return isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)


def run_engine(workflow: BpmnWorkflow, budget: Budget | None = None) -> None:
    """SpiffWorkflow's engine steps, within the command's budget; WorkflowFailed naming the element."""
    budget = budget if budget is not None else Budget()
    running = []  # the task being run, to name when a failure does not say where it happened

    def charge(task) -> None:
        ident, _name = _element(task.task_spec)
        if _is_timer(task.task_spec):
            budget.timer_fired(ident)
        elif task.parent is not None and _is_timer(task.parent.task_spec):  # the step a timer released
            budget.timer_fired(_element(task.parent.task_spec)[0])
        budget.step(ident)

    with _translated(workflow, running):
        workflow.do_engine_steps(will_complete_task=running.append, did_complete_task=charge)


def run_task(task, budget: Budget) -> None:
    """Run one task the engine does not run by itself (a user task completed by its decisions, a manual
    task passed through): what it sets off — a multi-instance completion condition, a post-script — fails
    the same way as an engine step."""
    with _translated(task.workflow, [task]):
        budget.step(_element(task.task_spec)[0])  # over the budget: a located failure too, never a bare error
        task.run()


@contextlib.contextmanager
def _translated(workflow: BpmnWorkflow, running: list) -> Iterator[None]:
    try:
        yield
    except BudgetExceeded as exc:
        spec = workflow.spec.task_specs.get(exc.element) if exc.element else None
        raise failed_at(exc.what, *(_element(spec) if spec is not None else (exc.element, None))) from None
    except RecursionError:
        raise failed_at("流程嵌套过深", None) from None
    except Exception as exc:  # a condition that named an unknown variable, a gateway with no way out …
        spec = getattr(exc, "task_spec", None) or (running[-1].task_spec if running else None)
        raise failed_at(_reason(exc), *_element(spec)) from None


def enter_error(core, instance_id: int, version: int, failure: WorkflowFailed, actor_id: int | None) -> bool:
    """Mark the instance 异常 after a command on it failed and was rolled back: its own transaction, the
    instance as that command found it (`version`). The administrators and the initiator are told. False when
    the instance moved on meanwhile or is not running."""
    try:
        with core.db.write() as conn:
            query = select(instance).where(instance.c.id == instance_id)
            inst = conn.execute(query if core.db.is_sqlite else query.with_for_update()).first()
            if inst is None or inst.status != "running" or inst.version != version:
                return False
            conn.execute(
                update(instance)
                .where(instance.c.id == instance_id)
                .values(status="error", version=inst.version + 1, updated_at=utcnow())
            )
            audit.record(
                conn,
                "error",
                instance_id=instance_id,
                actor_id=actor_id,
                node_id=failure.element,
                node_name=failure.element_name,
                message=failure.message[:1000],
            )
            admin = core.specs.get(conn, inst.definition_id).model.properties.get("admin")
            told = set(assignment.process_admins(conn, admin)) | {inst.initiator_id}
            for user_id in sorted(told):
                outbox.send(
                    conn,
                    user_id,
                    "error",
                    f"申请“{inst.title}”处理出错，已转入异常状态",
                    failure.message,
                    instance_id=instance_id,
                )
            return True
    except Exception:  # the failure itself is what the user must hear about
        log.exception("could not mark instance %s as error", instance_id)
        return False


def open_holders(conn, instance_id: int) -> list[int]:
    """Who holds an open work item of the instance (to tell them it can be handled again)."""
    rows = conn.execute(
        select(work_item.c.assignee_id)
        .where(work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve")
        .distinct()
    )
    return [row.assignee_id for row in rows]
