"""The invariant between SpiffWorkflow's state and our work items, checked after every operation in tests
(and available to administrators): they must never disagree."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.process.model import node_id
from engine.store.tables import instance, work_item
from engine.work.kernel import case as kernel
from engine.work.kernel.case import USER_TASK_TYPES


def problems(core, instance_id: int) -> list[str]:
    """Every disagreement between the instance's workflow state and its work items (empty when sound)."""
    found: list[str] = []
    with core.db.read() as conn:
        case, inst = kernel.read(core, conn, instance_id)
        items = list(conn.execute(select(work_item).where(work_item.c.instance_id == instance_id)))
        status = conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()
    model = case.model
    ready = {  # node_id: a multi-instance child stands for its node too
        str(t.id): node_id(t.task_spec)
        for t in case.workflow.get_tasks(state=TaskState.READY, manual=True)
        if model.nodes.get(node_id(t.task_spec)) is not None
        and model.nodes[node_id(t.task_spec)].type in USER_TASK_TYPES
    }
    active = [i for i in items if i.kind == "approve" and i.status in ("open", "waiting")]
    resubmit = [i for i in active if i.origin == "resubmit"]
    node_items = [i for i in active if i.origin != "resubmit"]
    if status not in ("running", "error"):  # an instance in error keeps its items for when it is retried
        if active:
            found.append(f"申请状态为 {status}，却仍有 {len(active)} 个未办结的待办")
        if ready:
            found.append(f"申请状态为 {status}，流程中却仍有待办节点：{sorted(ready.values())}")
        if status == "approved" and not case.workflow.is_completed():
            found.append("申请已通过，但流程尚未走完")
        return found
    if len(resubmit) > 1:
        found.append("同一申请有多个重新提交待办")
    for item in node_items:
        if item.task_id not in ready:
            found.append(f"待办 {item.id}（{item.node_name}）对应的流程节点不在办理中")
        elif ready[item.task_id] != item.node_id:
            found.append(f"待办 {item.id} 的节点 {item.node_id} 与流程节点 {ready[item.task_id]} 不符")
    if not resubmit:
        covered = {i.task_id for i in node_items if i.status == "open"} | {
            i.task_id for i in node_items if i.status == "waiting"
        }
        for task_id, name in ready.items():
            if task_id not in covered:
                found.append(f"流程节点 {name} 在办理中，却没有任何待办")
        if not ready and not case.workflow.is_completed():
            waiting = case.workflow.get_tasks(state=TaskState.WAITING)
            if not waiting:
                found.append("申请在审批中，但既没有待办，也没有等待中的事件")
    for item in node_items:
        if item.status == "waiting" and item.task_id in ready:
            siblings = [i for i in node_items if i.task_id == item.task_id and i.status == "open"]
            if not siblings:
                found.append(f"节点 {item.node_name} 的待办都在等待，没有人可以办理")
    return found
