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

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.process.model import node_id
from engine.process.state import REGISTRY
from engine.store import audit
from engine.store.tables import definition, instance, user_account

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
            "deployed_at": r.deployed_at,  # naive UTC: engine.work.deployment shows it in office time
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


def set_active(conn: Connection, actor_id: int | None, key: str, version: int, active: bool) -> dict:
    """停用 / 启用 a version: an inactive version starts no new instances; running ones carry on. The caller
    checked that the actor may (engine.work.deployment.set_active)."""
    row = definition_row(conn, key, version)
    if bool(row.active) != active:
        conn.execute(update(definition).where(definition.c.id == row.id).values(active=active))
        audit.record(
            conn,
            "version_activated" if active else "version_deactivated",
            actor_id=actor_id,
            message=f"{'启用' if active else '停用'}流程 {row.name}（{key}）第 {version} 版",
        )
    return next(v for v in list_versions(conn, key) if v["version"] == version)


@dataclass
class SpecPair:
    """The SpecDiffs between two compiled definitions: computed once, reused for every instance."""

    old: object
    new: object
    top: SpecDiff
    subprocesses: dict[str, SpecDiff | None] = field(default_factory=dict)

    @classmethod
    def of(cls, old, new) -> SpecPair:
        top = SpecDiff(REGISTRY, old.spec, new.spec)
        subs = {
            name: SpecDiff(REGISTRY, spec, new.subprocess_specs[name]) if name in new.subprocess_specs else None
            for name, spec in old.subprocess_specs.items()
        }
        return cls(old, new, top, subs)


def label(compiled, spec) -> str:
    ident = node_id(spec)
    node = compiled.model.nodes.get(ident)
    return f"“{node.name}”（{ident}）" if node and node.name and node.name != ident else ident


def visible(spec) -> bool:
    """Task specs that stand for a BPMN element (not SpiffWorkflow's Start/End/joins/splits)."""
    name = spec.name
    return bool(getattr(spec, "bpmn_id", None)) and "." not in name and not name.endswith("[child]")


def diff_summary(core, conn: Connection, key: str, from_version: int, to_version: int) -> dict:
    """What changed between two versions: added, removed and changed nodes (diff summary)."""
    old = core.specs.from_row(definition_row(conn, key, from_version))
    new = core.specs.from_row(definition_row(conn, key, to_version))
    pair = SpecPair.of(old, new)
    added, removed, changed = [], [], []
    for diff in [pair.top, *[d for d in pair.subprocesses.values() if d is not None]]:
        added += [label(new, s) for s in diff.added if visible(s)]
        removed += [label(old, s) for s in diff.removed if visible(s)]
        for spec, keys in diff.changed.items():
            if visible(spec):
                labels = sorted({CHANGE_LABELS.get(k, k) for k in keys})
                changed.append({"node": label(old, spec), "changes": labels})
    removed += [f"子流程 {name}" for name, d in pair.subprocesses.items() if d is None]
    return {
        "process": key,
        "from": from_version,
        "to": to_version,
        "added": sorted(set(added)),
        "removed": sorted(set(removed)),
        "changed": sorted(changed, key=lambda c: c["node"]),
    }


def instance_version(conn: Connection, instance_id: int) -> tuple[str, int]:
    row = conn.execute(
        select(definition.c.process_key, definition.c.version)
        .join(instance, instance.c.definition_id == definition.c.id)
        .where(instance.c.id == instance_id)
    ).first()
    if row is None:
        raise NotFound("申请不存在")
    return row.process_key, row.version
