"""Versions of a process and the migration of running instances between them (版本与迁移).

New instances use the newest active version; running ones keep theirs. An administrator can deactivate a
version, compare two versions, and move running instances to another version: a dry run says for each
instance whether the move is safe and why not, and the migration moves the safe ones in one action, each
with an audit event. SpiffWorkflow's `diff_workflow`/`migrate_workflow` do the moving and keep task ids,
so work items follow; deciding what is safe is ours:

- unsafe: a node the instance waits on was removed or changed type; a completed node was removed; the flow
  after a completed node changed (the instance would skip the new step); a running subprocess was removed;
  the migrated state does not load with the new version;
- safe: nodes added or changed ahead of the instance, renamed nodes, a changed way out of the node it waits
  on (the path ahead is predicted again from the new version).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from . import audit, bpmn, external, org, runtime
from .db import definition, instance, user_account, work_item
from .errors import FieldError, Forbidden, InvalidData, NotFound
from .expressions import script_engine

# What a changed spec attribute means, for the diff summary.
CHANGE_LABELS = {
    "outputs": "去向",
    "inputs": "来路",
    "typename": "类型",
    "extensions": "扩展属性（表单、审批人等）",
    "bpmn_name": "名称",
    "cond_task_specs": "分支条件",
    "default_task_spec": "默认分支",
    "event_definition": "事件定义",
    "documentation": "说明",
    "prescript": "前置脚本",
    "postscript": "后置脚本",
    "script": "脚本",
    "cardinality": "多实例数量",
    "data_input": "多实例集合",
    "condition": "完成条件",
    "handler": "外部任务处理程序",
}
# Spec attributes whose change does not matter for where an instance stands.
HARMLESS = {"bpmn_name", "description", "documentation", "inputs", "lane", "lookahead"}
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
CHUNK = 200  # instances per transaction during a migration: bounded lock time, each instance atomic
_ENGINE = script_engine()


# --- versions ------------------------------------------------------------------------------------------


def list_versions(conn: Connection, key: str) -> list[dict]:
    """Every version of a process, newest first, with instance counts by status."""
    rows = list(
        conn.execute(
            select(definition, user_account.c.display_name)
            .outerjoin(user_account, user_account.c.id == definition.c.deployed_by)
            .where(definition.c.process_key == key)
            .order_by(definition.c.version.desc())
        )
    )
    if not rows:
        raise NotFound(f"流程 '{key}' 不存在或未部署")
    counts: dict[int, dict[str, int]] = {}
    for def_id, status, count in conn.execute(
        select(instance.c.definition_id, instance.c.status, func.count())
        .where(instance.c.definition_id.in_([r.id for r in rows]))
        .group_by(instance.c.definition_id, instance.c.status)
    ):
        counts.setdefault(def_id, {})[status] = count
    newest_active = next((r.version for r in rows if r.active), None)
    return [
        {
            "id": r.id,
            "version": r.version,
            "name": r.name,
            "active": bool(r.active),
            "current": r.version == newest_active,
            "content_hash": r.content_hash,
            "file": r.bpmn_file,
            "deployed_at": r.deployed_at.isoformat(timespec="seconds") + "Z",
            "deployed_by": r.display_name,
            "instances": {**{s: 0 for s in ("running",)}, **counts.get(r.id, {})},
            "total": sum(counts.get(r.id, {}).values()),
        }
        for r in rows
    ]


def definition_row(conn: Connection, key: str, version: int):
    row = conn.execute(
        select(definition).where(definition.c.process_key == key, definition.c.version == version)
    ).first()
    if row is None:
        raise NotFound(f"流程 '{key}' 没有第 {version} 版")
    return row


def _admin(conn: Connection, username: str) -> org.User:
    user = org.require_user(conn, username)
    if not user.is_admin:
        raise Forbidden("只有管理员可以管理流程版本")
    return user


def set_active(conn: Connection, username: str, key: str, version: int, active: bool) -> dict:
    """停用 / 启用 a version: an inactive version starts no new instances; running ones carry on."""
    user = _admin(conn, username)
    row = definition_row(conn, key, version)
    if bool(row.active) != active:
        conn.execute(update(definition).where(definition.c.id == row.id).values(active=active))
        audit.record(
            conn,
            "version_activated" if active else "version_deactivated",
            actor_id=user.id,
            message=f"{'启用' if active else '停用'}流程 {row.name}（{key}）第 {version} 版",
        )
    return next(v for v in list_versions(conn, key) if v["version"] == version)


# --- comparing two versions ------------------------------------------------------------------------------


@dataclass
class _Pair:
    """The SpecDiffs between two compiled definitions: computed once, reused for every instance."""

    old: object
    new: object
    top: SpecDiff
    subprocesses: dict[str, SpecDiff | None] = field(default_factory=dict)

    @classmethod
    def of(cls, old, new) -> _Pair:
        top = SpecDiff(bpmn.REGISTRY, old.spec, new.spec)
        subs = {
            name: SpecDiff(bpmn.REGISTRY, spec, new.subprocess_specs[name]) if name in new.subprocess_specs else None
            for name, spec in old.subprocess_specs.items()
        }
        return cls(old, new, top, subs)


def _label(compiled, spec) -> str:
    ident = bpmn.node_id(spec)
    node = compiled.model.nodes.get(ident)
    return f"“{node.name}”（{ident}）" if node and node.name and node.name != ident else ident


def _visible(spec) -> bool:
    """Task specs that stand for a BPMN element (not SpiffWorkflow's Start/End/joins/splits)."""
    name = spec.name
    return bool(getattr(spec, "bpmn_id", None)) and "." not in name and not name.endswith("[child]")


def diff_summary(core, conn: Connection, key: str, from_version: int, to_version: int) -> dict:
    """What changed between two versions: added, removed and changed nodes (diff summary)."""
    old = core.specs.from_row(definition_row(conn, key, from_version))
    new = core.specs.from_row(definition_row(conn, key, to_version))
    pair = _Pair.of(old, new)
    added, removed, changed = [], [], []
    for diff in [pair.top, *[d for d in pair.subprocesses.values() if d is not None]]:
        added += [_label(new, s) for s in diff.added if _visible(s)]
        removed += [_label(old, s) for s in diff.removed if _visible(s)]
        for spec, keys in diff.changed.items():
            if _visible(spec):
                labels = sorted({CHANGE_LABELS.get(k, k) for k in keys})
                changed.append({"node": _label(old, spec), "changes": labels})
    removed += [f"子流程 {name}" for name, d in pair.subprocesses.items() if d is None]
    return {
        "process": key,
        "from": from_version,
        "to": to_version,
        "added": sorted(set(added)),
        "removed": sorted(set(removed)),
        "changed": sorted(changed, key=lambda c: c["node"]),
    }


# --- migration -------------------------------------------------------------------------------------------


def _reasons(workflow, pair: _Pair) -> tuple[list[str], dict]:
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
        if not _visible(task.task_spec):
            continue
        if task.has_state(ACTIVE):
            reasons.append(f"实例正在等待的节点{_label(old, task.task_spec)}在新版本中已删除")
        elif task.has_state(TaskState.COMPLETED):
            reasons.append(f"已完成的节点{_label(old, task.task_spec)}在新版本中已删除")
    for task in diff.changed:
        keys = set(spec_diff.changed.get(task.task_spec, [])) - HARMLESS
        if not keys or not _visible(task.task_spec):
            continue
        if "typename" in keys:
            state = "正在办理" if task.has_state(ACTIVE) else "已完成"
            if task.has_state(ACTIVE | TaskState.COMPLETED):
                reasons.append(f"{state}的节点{_label(old, task.task_spec)}在新版本中换了类型")
        elif task.has_state(TaskState.COMPLETED) and "outputs" in keys and _left_behind(task, spec_diff):
            reasons.append(f"已完成的节点{_label(old, task.task_spec)}之后的流转在新版本中已改变，实例会跳过新步骤")


def _left_behind(task, spec_diff: SpecDiff) -> bool:
    """A completed task whose path taken no longer leaves it in the new version (a step was put in between
    or the path re-routed): the instance would skip what the new version does there."""
    new_spec = spec_diff.alignment.get(task.task_spec)
    if new_spec is None:
        return False
    taken = {c.task_spec.name for c in task.children if c.has_state(TaskState.FINISHED_MASK | ACTIVE)}
    return not taken <= {out.name for out in new_spec.outputs}


def _apply(workflow, diffs: dict, pair: _Pair) -> None:
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


def _check(inst, pair: _Pair, workflow=None) -> tuple[list[str], object | None, dict | None]:
    """Dry-run one instance in memory: (reasons, migrated workflow or None, diffs)."""
    if inst.status != "running":
        return [f"申请{runtime.STATUS_LABELS.get(inst.status, inst.status)}，无需迁移"], None, None
    if workflow is None:
        workflow = bpmn.load_state(inst.state, pair.old.spec, pair.old.subprocess_specs, _ENGINE)
    reasons, diffs = _reasons(workflow, pair)
    if reasons:
        return reasons, None, diffs
    try:
        _apply(workflow, diffs, pair)
        workflow.script_engine = _ENGINE
        runtime.run_engine(workflow)
        bpmn.load_state(bpmn.dump_state(workflow), pair.new.spec, pair.new.subprocess_specs, None)
    except Exception as exc:  # the library leaves tasks it could not align: refuse rather than corrupt
        message = getattr(exc, "message", None) or str(exc)
        return [f"迁移后的状态无法按新版本载入：{message.splitlines()[0] if message else exc!r}"], None, diffs
    return [], workflow, diffs


def _pair(core, conn: Connection, key: str, from_version: int, to_version: int) -> tuple[_Pair, object, object]:
    if from_version == to_version:
        raise InvalidData([FieldError("to_version", "目标版本与当前版本相同")])
    old_row = definition_row(conn, key, from_version)
    new_row = definition_row(conn, key, to_version)
    old, new = core.specs.from_row(old_row), core.specs.from_row(new_row)
    return _Pair.of(old, new), old_row, new_row


def _candidates(conn: Connection, definition_id: int, instance_ids: list[int] | None) -> list:
    query = select(instance).where(instance.c.definition_id == definition_id)
    if instance_ids is not None:
        query = query.where(instance.c.id.in_(instance_ids))
    else:
        query = query.where(instance.c.status == "running")
    return list(conn.execute(query.order_by(instance.c.id)))


def dry_run(
    core, username: str, key: str, from_version: int, to_version: int, instance_ids: list[int] | None = None
) -> dict:
    """试迁移: for one instance or all instances of a version, safe or unsafe and why. Nothing is stored."""
    with core.db.read() as conn:
        _admin(conn, username)
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
        actor = _admin(conn, username)
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


def _migrate_one(core, conn: Connection, actor: org.User, pair: _Pair, old_row, new_row, instance_id: int) -> dict:
    session, inst = runtime.load_session(core, conn, instance_id)
    if inst.definition_id != old_row.id:
        return {"instance_id": instance_id, "title": inst.title, "safe": False, "reasons": ["已不在原版本上"]}
    # The diff aligns spec objects: reuse the loaded workflow only when it was built from the same ones.
    reasons, workflow, _ = _check(inst, pair, session.workflow if session.compiled is pair.old else None)
    if reasons:
        return {"instance_id": instance_id, "title": inst.title, "safe": False, "reasons": reasons}
    session.workflow = workflow
    session.compiled = pair.new
    conn.execute(update(instance).where(instance.c.id == instance_id).values(definition_id=new_row.id))
    _follow_work_items(session)
    runtime.advance(session, inst.priority)
    runtime.save(session, inst.priority)
    audit.record(
        conn,
        "migrated",
        instance_id=instance_id,
        actor_id=actor.id,
        message=f"由管理员{actor.display_name}从第 {old_row.version} 版迁移到第 {new_row.version} 版",
    )
    return {"instance_id": instance_id, "title": inst.title, "safe": True, "reasons": []}


def _follow_work_items(session) -> None:
    """Open work items keep their task (ids survive the migration); renamed nodes get the new name,
    and an item whose task is no longer waiting is closed."""
    conn = session.conn
    external.close_passed_items(session, "版本迁移后该节点已不再办理")
    for row in conn.execute(
        select(work_item.c.id, work_item.c.node_id, work_item.c.node_name).where(
            work_item.c.instance_id == session.instance_id, work_item.c.status == "open", work_item.c.kind == "approve"
        )
    ).all():
        node = session.model.nodes.get(row.node_id)
        if node is not None and node.name and node.name != row.node_name:
            conn.execute(update(work_item).where(work_item.c.id == row.id).values(node_name=node.name))


def instance_version(conn: Connection, instance_id: int) -> tuple[str, int]:
    row = conn.execute(
        select(definition.c.process_key, definition.c.version)
        .join(instance, instance.c.definition_id == definition.c.id)
        .where(instance.c.id == instance_id)
    ).first()
    if row is None:
        raise NotFound("申请不存在")
    return row.process_key, row.version
