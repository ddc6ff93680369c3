"""Migration (版本迁移): moving running instances to another version of their process.

A dry run says for each instance whether the move is safe and why not; the migration moves the safe ones,
each under its instance lock with an audit event. SpiffWorkflow's `diff_workflow`/`migrate_workflow` do the
moving and keep task ids, so work items follow; deciding what is safe is ours:

- unsafe: a node the instance waits on was removed or changed type; a completed node was removed; the flow
  after a completed node changed (the instance would skip the new step); a running subprocess was removed;
  the migrated state does not load with the new version;
- safe: nodes added or changed ahead of the instance, renamed nodes, a changed way out of the node it waits
  on (the path ahead is predicted again from the new version).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData, NotFound
from engine.org import permissions, users
from engine.process.expressions import script_engine
from engine.process.state import dump_state, load_state
from engine.process.versions import HARMLESS, SpecPair, definition_row, label, visible
from engine.store import audit
from engine.store.tables import instance, work_item
from engine.work.kernel import case as kernel
from engine.work.kernel import items, routing
from engine.work.kernel.case import STATUS_LABELS
from engine.work.kernel.failure import run_engine

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


CHUNK = 200  # instances per transaction during a migration: bounded lock time, each instance atomic


_ENGINE = script_engine()


def _reasons(workflow, pair: SpecPair) -> tuple[list[str], dict]:
    """Why moving this workflow to the new version is unsafe ([] when it is safe), and the diffs."""
    reasons: list[str] = []
    top = WorkflowDiff(workflow, pair.top)
    subs = {}
    _judge(workflow, top, pair.top, pair.old, reasons)
    for sp_id, sp in workflow.subprocesses.items():
        spec_diff = pair.subprocesses.get(sp.spec.name)
        if spec_diff is None:
            if not sp.completed:
                reasons.append(f"正在运行的子流程 {sp.spec.name} 在新版本中已删除")
            continue
        subs[sp_id] = WorkflowDiff(sp, spec_diff)
        _judge(sp, subs[sp_id], spec_diff, pair.old, reasons)
    # What the instance waits on first: that is what a designer must fix.
    ordered = sorted(dict.fromkeys(reasons), key=lambda r: 0 if ("等待" in r or "正在" in r) else 1)
    return ordered, {"top": top, "subs": subs}


def _judge(workflow, diff: WorkflowDiff, spec_diff: SpecDiff, old, reasons: list[str]) -> None:
    for task in diff.removed:
        if not visible(task.task_spec):
            continue
        if task.has_state(ACTIVE):
            reasons.append(f"实例正在等待的节点{label(old, task.task_spec)}在新版本中已删除")
        elif task.has_state(TaskState.COMPLETED):
            reasons.append(f"已完成的节点{label(old, task.task_spec)}在新版本中已删除")
    for task in diff.changed:
        keys = set(spec_diff.changed.get(task.task_spec, [])) - HARMLESS
        if not keys or not visible(task.task_spec):
            continue
        if "typename" in keys:
            state = "正在办理" if task.has_state(ACTIVE) else "已完成"
            if task.has_state(ACTIVE | TaskState.COMPLETED):
                reasons.append(f"{state}的节点{label(old, task.task_spec)}在新版本中换了类型")
        elif task.has_state(TaskState.COMPLETED) and "outputs" in keys and _left_behind(task, spec_diff):
            reasons.append(f"已完成的节点{label(old, task.task_spec)}之后的流转在新版本中已改变，实例会跳过新步骤")


def _left_behind(task, spec_diff: SpecDiff) -> bool:
    """A completed task whose path taken no longer leaves it in the new version (a step was put in between
    or the path re-routed): the instance would skip what the new version does there."""
    new_spec = spec_diff.alignment.get(task.task_spec)
    if new_spec is None:
        return False
    taken = {c.task_spec.name for c in task.children if c.has_state(TaskState.FINISHED_MASK | ACTIVE)}
    return not taken <= {out.name for out in new_spec.outputs}


def _apply(workflow, diffs: dict, pair: SpecPair) -> None:
    """Move the workflow onto the new specs, keeping task ids and the timers it already waits on."""
    timers = {
        t.id: dict(t.internal_data)
        for t in workflow.get_tasks(state=TaskState.WAITING)
        if getattr(t.task_spec, "event_definition", None) is not None
    }
    migrate_workflow(diffs["top"], workflow, pair.new.spec)
    workflow.subprocess_specs = pair.new.subprocess_specs
    for sp_id, sp_diff in diffs["subs"].items():
        sp = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, sp, pair.new.subprocess_specs[sp.spec.name])
    for task_id, internal in timers.items():
        task = workflow.get_task_from_id(task_id)
        if task is not None and task.has_state(TaskState.WAITING) and "event_value" in internal:
            task.internal_data.update(event_value=internal["event_value"])


def _check(inst, pair: SpecPair, workflow=None) -> tuple[list[str], object | None, dict | None]:
    """Dry-run one instance in memory: (reasons, migrated workflow or None, diffs)."""
    if inst.status not in ("running", "error"):  # an instance in error is migrated to a corrected version
        return [f"申请{STATUS_LABELS.get(inst.status, inst.status)}，无需迁移"], None, None
    if workflow is None:
        workflow = load_state(inst.state, pair.old.spec, pair.old.subprocess_specs, _ENGINE)
    reasons, diffs = _reasons(workflow, pair)
    if reasons:
        return reasons, None, diffs
    try:
        _apply(workflow, diffs, pair)
        workflow.script_engine = _ENGINE
        run_engine(workflow)
        load_state(dump_state(workflow), pair.new.spec, pair.new.subprocess_specs, None)
    except Exception as exc:  # the library leaves tasks it could not align: refuse rather than corrupt
        message = getattr(exc, "message", None) or str(exc)
        return [f"迁移后的状态无法按新版本载入：{message.splitlines()[0] if message else exc!r}"], None, diffs
    return [], workflow, diffs


def _pair(core, conn: Connection, key: str, from_version: int, to_version: int) -> tuple[SpecPair, object, object]:
    if from_version == to_version:
        raise InvalidData([FieldError("to_version", "目标版本与当前版本相同")])
    old_row = definition_row(conn, key, from_version)
    new_row = definition_row(conn, key, to_version)
    old, new = core.specs.from_row(old_row), core.specs.from_row(new_row)
    return SpecPair.of(old, new), old_row, new_row


def _candidates(conn: Connection, definition_id: int, instance_ids: list[int] | None) -> list:
    query = select(instance).where(instance.c.definition_id == definition_id)
    if instance_ids is not None:
        query = query.where(instance.c.id.in_(instance_ids))
    else:
        query = query.where(instance.c.status.in_(("running", "error")))
    return list(conn.execute(query.order_by(instance.c.id)))


def dry_run(
    core, username: str, key: str, from_version: int, to_version: int, instance_ids: list[int] | None = None
) -> dict:
    """试迁移: for one instance or all instances of a version, safe or unsafe and why. Nothing is stored."""
    with core.db.read() as conn:
        permissions.require_process(conn, users.require_user(conn, username), key)
        pair, old_row, _ = _pair(core, conn, key, from_version, to_version)
        rows = _candidates(conn, old_row.id, instance_ids)
        _missing({r.id for r in rows}, instance_ids)
    items = []
    for inst in rows:
        reasons, _, _ = _check(inst, pair)
        items.append({"instance_id": inst.id, "title": inst.title, "safe": not reasons, "reasons": reasons})
    return _summary(key, from_version, to_version, items)


def _missing(found: set[int], instance_ids: list[int] | None) -> None:
    if instance_ids is None:
        return
    absent = [i for i in instance_ids if i not in found]
    if absent:
        raise NotFound(f"申请 {', '.join(map(str, absent))} 不存在或不属于该版本")


def _summary(key, from_version, to_version, items) -> dict:
    return {
        "process": key,
        "from": from_version,
        "to": to_version,
        "total": len(items),
        "safe": sum(1 for i in items if i["safe"]),
        "unsafe": sum(1 for i in items if not i["safe"]),
        "items": items,
    }


def migrate(
    core, username: str, key: str, from_version: int, to_version: int, instance_ids: list[int] | None = None
) -> dict:
    """迁移: move the safe instances (one, or all of a version) to another version; report the others.

    Each instance is checked again under its row lock, so an instance that moved on since the dry run is
    judged as it is now. Work items keep their task ids; nodes the new version renamed get the new name."""
    with core.db.read() as conn:
        actor = users.require_user(conn, username)
        permissions.require_process(conn, actor, key)
        pair, old_row, new_row = _pair(core, conn, key, from_version, to_version)
        ids = [r.id for r in _candidates(conn, old_row.id, instance_ids)]
        _missing(set(ids), instance_ids)
    items = []
    for start in range(0, len(ids), CHUNK):
        with core.db.write() as conn:
            for instance_id in ids[start : start + CHUNK]:
                items.append(_migrate_one(core, conn, actor, pair, old_row, new_row, instance_id))
    result = _summary(key, from_version, to_version, items)
    result["migrated"] = [i["instance_id"] for i in items if i["safe"]]
    return result


def _migrate_one(core, conn: Connection, actor: users.User, pair: SpecPair, old_row, new_row, instance_id: int) -> dict:
    case, inst = kernel.lock(core, conn, instance_id)
    if inst.definition_id != old_row.id:
        return {"instance_id": instance_id, "title": inst.title, "safe": False, "reasons": ["已不在原版本上"]}
    # The diff aligns spec objects: reuse the loaded workflow only when it was built from the same ones.
    reasons, workflow, _ = _check(inst, pair, case.workflow if case.compiled is pair.old else None)
    if reasons:
        return {"instance_id": instance_id, "title": inst.title, "safe": False, "reasons": reasons}
    case.workflow = workflow
    case.compiled = pair.new
    conn.execute(update(instance).where(instance.c.id == instance_id).values(definition_id=new_row.id))
    _follow_work_items(case)
    routing.advance(case)
    kernel.save(case)
    audit.record(
        conn,
        "migrated",
        instance_id=instance_id,
        actor_id=actor.id,
        message=f"由管理员{actor.display_name}从第 {old_row.version} 版迁移到第 {new_row.version} 版",
    )
    return {"instance_id": instance_id, "title": inst.title, "safe": True, "reasons": []}


def _follow_work_items(case) -> None:
    """Open work items keep their task (ids survive the migration); renamed nodes get the new name,
    and an item whose task is no longer waiting is closed."""
    conn = case.conn
    items.sync_items(case, "版本迁移后该节点已不再办理")
    for row in conn.execute(
        select(work_item.c.id, work_item.c.node_id, work_item.c.node_name).where(
            work_item.c.instance_id == case.instance_id,
            work_item.c.status == "open",
            work_item.c.kind == "approve",
            work_item.c.origin != "resubmit",  # the drafter's step stands for no node of the new version
        )
    ).all():
        node = case.model.nodes.get(row.node_id)
        if node is not None and node.name and node.name != row.node_name:
            conn.execute(update(work_item).where(work_item.c.id == row.id).values(node_name=node.name))
