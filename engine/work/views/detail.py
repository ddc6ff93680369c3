"""One work item and one application, as their participants see them: the details the API returns and the
pages build on, where 退回 may go, a signature image, what an instance waits on besides work items.
"""

from __future__ import annotations

import base64

import orjson
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.org import users
from engine.process.policy import SIGN_MODES, policy_of
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import definition, instance, user_account, utcnow, work_item
from engine.time.working_days import local_iso
from engine.work import checks
from engine.work.kernel import attachments, form_data, reading, rounds, routing, waits
from engine.work.kernel import case as kernel
from engine.work.kernel.case import STATUS_LABELS, is_participant
from engine.work.views import marks, timeline


def work_item_detail(core, conn: Connection, user: users.User, item_id: int) -> dict:
    row = conn.execute(select(work_item).where(work_item.c.id == item_id)).first()
    yours = row is not None and row.assignee_id == user.id and row.status != reading.RECALLED
    if row is None or (not yours and not is_participant(conn, row.instance_id, user)):
        raise NotFound("待办不存在")
    inst = conn.execute(select(instance).where(instance.c.id == row.instance_id)).first()
    compiled = core.specs.get(conn, inst.definition_id)
    node = compiled.model.nodes.get(row.node_id)
    form = compiled.form(node.form if node else None) or {"type": "object", "properties": {}}
    mine = row.assignee_id == user.id
    actions = checks.available_actions(core, conn, user, row) if mine else []
    start_form = compiled.form(compiled.model.start_form) or {"type": "object", "properties": {}}
    if row.origin == "resubmit":
        form = start_form  # the drafter corrects the application itself
    node_policy = policy_of(node)
    signers = [
        {
            "assignee": s.username,
            "assignee_name": s.display_name,
            "status": s.status,
            "decision": s.decision,
            "opinion": s.opinion,
            "origin": s.origin,
            "note": s.note,
            "added_by_me": s.added_by_id == user.id,
        }
        for s in conn.execute(
            select(work_item, user_account.c.username, user_account.c.display_name)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == row.instance_id, work_item.c.task_id == row.task_id)
            .order_by(work_item.c.seq, work_item.c.id)
        )
    ]
    targets = []
    if "send_back" in actions:
        case, _ = kernel.read(core, conn, row.instance_id)
        targets = routing.send_back_targets(case, kernel.ready_task(case.workflow, row.task_id))
    delegator = None
    if row.origin == "delegate" and row.parent_id:
        parent = conn.execute(select(work_item.c.assignee_id).where(work_item.c.id == row.parent_id)).scalar()
        delegator = users.get_user(conn, parent).display_name if parent else None
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "instance_status": inst.status,
        "definition_id": inst.definition_id,
        "title": inst.title,
        "node": row.node_id,
        "node_name": row.node_name,
        "kind": row.kind,
        "status": row.status,
        "mine": mine,
        "decision": row.decision,
        "opinion": row.opinion,
        "form": form,
        "data": orjson.loads(inst.data),
        "start_form": start_form,
        "actions": actions,
        "origin": row.origin,
        "note": row.note,
        "sign_mode": node_policy.sign_mode,
        "sign_mode_label": SIGN_MODES.get(node_policy.sign_mode, node_policy.sign_mode),
        "opinion_required": node_policy.opinion_required,
        "signers": signers,
        "send_back_targets": targets,
        "delegator": delegator,
        "read_state": reading.state_of(row) if row.kind == "read" else None,
        "comments": reading.comments_of(conn, row) if row.kind == "read" else [],
        "due_at": local_iso(row.due_at),
        "overdue": bool(row.status == "open" and row.due_at and row.due_at < utcnow()),
        "created_at": local_iso(row.created_at),
        # Why it is here again (退回 / 撤回 / 委派返回: who, when, why) and its 催办 marks.
        "came_back": marks.came_back(conn, [row]).get(row.id),
        "urged": marks.urged(conn, [row]).get(row.id),
        "batch": node_policy.batch and row.origin not in ("resubmit", "delegate"),
        # After a 重新提交: the fields the drafter changed since the round before, with their earlier values.
        "changed": rounds.changes_for(conn, row.instance_id, row.id) if row.origin != "resubmit" else {},
    }


_VERSION_NAME = Prepared(select(definition.c.version, definition.c.name).where(definition.c.id == bindparam("b_id")))


_PRINCIPAL = user_account.alias("principal")
_INSTANCE_ITEMS = Prepared(
    select(
        work_item,
        user_account.c.display_name,
        user_account.c.username,
        _PRINCIPAL.c.display_name.label("principal_name"),
    )
    .join(user_account, user_account.c.id == work_item.c.assignee_id)
    .outerjoin(_PRINCIPAL, _PRINCIPAL.c.id == work_item.c.proxy_for_id)
    .where(work_item.c.instance_id == bindparam("b_instance"))
    .order_by(work_item.c.id)
)


def instance_detail(core, conn: Connection, user: users.User, instance_id: int) -> dict:
    try:
        loaded = kernel.read(core, conn, instance_id)
    except NotFound:
        raise NotFound("申请不存在，或您无权查看") from None
    case, inst = loaded
    if not is_participant(conn, instance_id, user, initiator_id=inst.initiator_id):
        raise NotFound("申请不存在，或您无权查看")
    compiled = case.compiled
    version = conn.execute(_VERSION_NAME, {"b_id": inst.definition_id}).first()
    items = conn.execute(_INSTANCE_ITEMS, {"b_instance": instance_id}).all()
    history = audit.history(conn, instance_id)
    case.snapshot = checks.Snapshot(tuple(items), _last_urged(history))
    now = utcnow()
    actions = checks.instance_actions(case, inst, user, now)
    recallable = [i.assignee_id for i in checks.recallable_readers(case, inst, user)]
    # 催办 refused only by its hourly throttle: when the user may again.
    urge_again_at = None if "urge" in actions else checks.urge_again_at(case, inst, user, now)
    if kernel.self_check():
        case.snapshot = None
        assert actions == checks.instance_actions(case, inst, user, now), "snapshot differs"
        assert recallable == [i.assignee_id for i in checks.recallable_readers(case, inst, user)], "snapshot differs"
        assert urge_again_at == (None if "urge" in actions else checks.urge_again_at(case, inst, user, now))
    work_items = [
        {
            "id": row.id,
            "node": row.node_id,
            "node_name": row.node_name,
            "kind": row.kind,
            "assignee": row.username,
            "assignee_name": row.display_name,
            "assignee_label": audit.acting_label(row.display_name, row.principal_name),  # 张三（代 孙丽）
            "status": row.status,
            "decision": row.decision,
            "opinion": row.opinion,
            "note": row.note,
            "origin": row.origin,
            "read": row.read_at is not None if row.kind in ("cc", "read") else None,
            "created_at": local_iso(row.created_at),
            "completed_at": local_iso(row.completed_at),
            "due_at": local_iso(row.due_at),
        }
        for row in items
    ]
    completed = sorted(
        {t.task_spec.name for t in case.workflow.get_tasks(state=TaskState.COMPLETED)} & set(compiled.model.nodes)
    )
    for event in history:
        event["at"] = local_iso(event["at"])
    rounds = timeline.label_rounds(history)
    by_id = {row.assignee_id: row.username for row in items}
    initiator = case.initiator
    data = orjson.loads(inst.data)
    return {
        "id": inst.id,
        "definition_id": inst.definition_id,
        "title": inst.title,
        "process": inst.process_key,
        "process_name": version.name,
        "version": version.version,
        "status": inst.status,
        "status_label": STATUS_LABELS.get(inst.status, inst.status),
        "priority": inst.priority,
        "initiator": initiator.username,
        "initiator_name": initiator.display_name,
        "current_nodes": [w["node_name"] for w in work_items if w["status"] == "open" and w["kind"] == "approve"],
        "data": data,
        "doc_no": data.get("doc_no"),  # 发文字号: given when the node with doc_no="allocate" completes
        "form": compiled.form(compiled.model.start_form) or {"type": "object", "properties": {}},
        "attachments": attachments.listing(conn, instance_id, compiled.form(compiled.model.start_form) or {}),
        "work_items": work_items,
        "circulation": reading.readers(conn, instance_id),
        "recallable_readers": [by_id[u] for u in recallable],
        "actions": actions,
        "urge_again_at": local_iso(urge_again_at),
        "completed_nodes": completed,
        "history": history,
        "rounds": rounds,  # 轮次: 1, or one more per 重新提交; the history's events carry theirs
        "created_at": local_iso(inst.created_at),
        "ended_at": local_iso(inst.ended_at),
    }


def may_recall(core, conn: Connection, user: users.User, item_id: int) -> bool:
    """Whether the user may still take back their approval of this item (撤回审批): the next step has not acted."""
    return "recall" in checks.available_actions(core, conn, user, kernel.work_item_row(conn, item_id))


def _last_urged(history: list[dict]) -> dict:
    """Per work item, when it was last urged (催办), from the instance's events."""
    last: dict = {}
    for event in history:
        if event["type"] == "urged" and event["work_item_id"] is not None:
            item = event["work_item_id"]
            last[item] = max(last[item], event["at"]) if item in last else event["at"]
    return last


def get_work_item(core, user: users.User, item_id: int) -> dict:
    """A work item as its assignee or another participant sees it (what work_item_detail says)."""
    with core.db.read() as conn:
        return work_item_detail(core, conn, user, item_id)


def get_instance(core, user: users.User, instance_id: int) -> dict:
    """An application with its work items and history, for participants and administrators."""
    with core.db.read() as conn:
        return instance_detail(core, conn, user, instance_id)


def instance_of_item(core, user: users.User, item_id: int) -> int:
    """The instance of one of the user's own work items (NotFound / Forbidden otherwise)."""
    with core.db.read() as conn:
        return kernel.item_for_actor(conn, item_id, user).instance_id


def preview_computed(core, user: users.User, item_id: int, data) -> dict:
    """What the computed fields of the user's own work item's form come to for what is typed so far (the
    application's start form when it came back for 重新提交); nothing is saved."""
    with core.db.read() as conn:
        item = kernel.item_for_actor(conn, item_id, user)
        definition_id = conn.execute(select(instance.c.definition_id).where(instance.c.id == item.instance_id)).scalar()
        compiled = core.specs.get(conn, definition_id)
        node = compiled.model.nodes.get(item.node_id)
        name = compiled.model.start_form if item.origin == "resubmit" else (node.form if node else None)
        return form_data.preview(conn, compiled.form(name) or {"type": "object", "properties": {}}, data)


def signature_image(core, user: users.User, instance_id: int, item_id: int) -> bytes:
    """The PNG of a decision's handwritten signature (签名留痕), for participants of the instance only."""
    with core.db.read() as conn:
        if not is_participant(conn, instance_id, user):
            raise NotFound("签名不存在")
        data = conn.execute(
            select(work_item.c.signature).where(work_item.c.id == item_id, work_item.c.instance_id == instance_id)
        ).scalar()
    if not data:
        raise NotFound("签名不存在")
    return base64.b64decode(data)


def send_back_targets(core, user: users.User, item_id: int) -> list[dict]:
    """Where the user may send their work item back to now (empty when 退回 is not allowed)."""
    with core.db.read() as conn:
        item = kernel.item_for_actor(conn, item_id, user)
        if "send_back" not in checks.available_actions(core, conn, user, item):
            return []
        case, _ = kernel.read(core, conn, item.instance_id)
        return routing.send_back_targets(case, kernel.ready_task(case.workflow, item.task_id))


def waiting_for(core, user: users.User, instance_id: int) -> list[dict]:
    """What an instance waits on besides work items: external work, messages, signals, timers (participants
    and administrators; a finished instance waits on nothing)."""
    with core.db.read() as conn:
        if not is_participant(conn, instance_id, user):
            raise NotFound("申请不存在，或您无权查看")
        case, inst = kernel.read(core, conn, instance_id)
    if inst.status != "running":
        return []
    return [w.as_dict() for w in waits.waiting(case.workflow, case.model)]
