"""Decisions: 同意 / 不同意, and 重新提交 of an application that came back to its drafter."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData, OaflowError
from engine.org import users
from engine.process.policy import policy_of
from engine.store import audit
from engine.store.tables import instance, work_item
from engine.work import checks, opinions, signing
from engine.work.kernel import attachments, claims, form_data, items, rounds, routing
from engine.work.kernel.case import DECISIONS, Case, item_command, ready_task
from engine.work.kernel.failure import run_engine

EMPTY_FORM = routing.EMPTY_FORM
MAX_BATCH = 100  # 批量审批: items in one batch


def complete(
    core,
    username: str,
    item_id: int,
    data: dict | None,
    decision: str,
    opinion: str | None,
    signature: str | None = None,
) -> dict:
    """同意 / 不同意 (or 重新提交 on a returned application): decide a work item."""
    opinion = opinions.check_opinion(opinion, required=decision == "reject", what="不同意时")
    if not fields.is_one_of(decision, DECISIONS):
        raise InvalidData([FieldError("decision", "审批结果必须是 approve（同意）或 reject（不同意）")])
    with item_command(core, username, item_id) as (case, item, user):
        if item.origin == "resubmit":
            if decision != "approve":
                raise Conflict("退回的申请请修改后重新提交，或撤销申请")
            _resubmit(case, item, user, data)
        elif item.origin == "delegate":
            raise Conflict("这是委派给您的待办：请填写意见后点击“办理完成”，由委派人决定")
        else:
            _decide(case, item, user, data, decision, opinion, signature)
        result = {"id": item.instance_id, "status": case.status, "work_item": item.id}
        return {**result, "warning": case.warning} if case.warning else result


def complete_batch(core, username: str, ids, opinion: str | None) -> dict:
    """批量同意: approve several of one's 待办 with one opinion. Each item is its own command (its own
    transaction, checks and audit event), so a refused item leaves the others approved; the answer has one
    result per id, in the order given: {id, ok, error?, title?} (the title of the user's own items)."""
    if isinstance(ids, list) and len(ids) > MAX_BATCH:
        raise InvalidData([FieldError("ids", f"一次最多批量审批 {MAX_BATCH} 项，您选了 {len(ids)} 项")])
    ids = list(dict.fromkeys(fields.identifiers(ids, "ids", "待办编号", max_items=MAX_BATCH)))
    if not ids:
        raise InvalidData([FieldError("ids", "请选择要批量同意的待办")])
    opinion = opinions.check_opinion(opinion, required=False, what="批量同意")
    titles = _titles_of_own(core, username, ids)
    results = []
    for item_id in ids:
        result = {"id": item_id, "ok": True}
        if item_id in titles:
            result["title"] = titles[item_id]
        try:
            _approve_in_batch(core, username, item_id, opinion)
        except InvalidData as exc:
            result.update(ok=False, error="；".join(e.message for e in exc.errors))
        except OaflowError as exc:
            result.update(ok=False, error=exc.message)
        results.append(result)
    return {"results": results, "approved": sum(1 for r in results if r["ok"])}


def _titles_of_own(core, username: str, ids: list[int]) -> dict[int, str]:
    """The titles of the user's own items among `ids` (any other item stays unnamed)."""
    with core.db.read() as conn:
        user = users.require_user(conn, username)
        rows = conn.execute(
            select(work_item.c.id, instance.c.title)
            .join(instance, instance.c.id == work_item.c.instance_id)
            .where(work_item.c.id.in_(ids), work_item.c.assignee_id == user.id)
        )
        return {row.id: row.title for row in rows}


def _approve_in_batch(core, username: str, item_id: int, opinion: str) -> None:
    """One item of a batch: 同意, where its node allows 批量审批 (batch=true) and needs nothing more."""
    with item_command(core, username, item_id) as (case, item, user):
        checks.main_item(item, "批量同意")
        if not policy_of(case.model.nodes.get(item.node_id)).batch:
            raise Conflict("本节点不允许批量审批，请逐件办理")
        _decide(case, item, user, {}, "approve", opinion, None)


def _decide(case: Case, item, user: users.User, data, decision: str, opinion: str, signature) -> None:
    policy = policy_of(case.model.nodes.get(item.node_id))
    if decision == "approve" and policy.opinion_required and not opinion:
        raise InvalidData([FieldError("opinion", "本节点要求填写审批意见")])
    if decision == "reject" and policy.sign_mode == "collect":
        raise Conflict("意见征集节点不能否决：请填写意见后提交")
    if decision == "approve":
        checks.check_read_before_completing(case, item)
    task = ready_task(case.workflow, item.task_id)
    node = case.model.nodes.get(item.node_id)
    schema = case.compiled.form(node.form if node else None) or EMPTY_FORM
    cleaned = attachments.take(case, user, schema, form_data.check(case.conn, schema, data))
    image = opinions.check_signature(signature)
    case.data.update(cleaned)
    case.priority = form_data.priority(schema, cleaned, case.priority)
    task.data.update(cleaned, priority=case.priority)
    signing.decide(case, task, item, user, decision, opinion, image)


def _resubmit(case: Case, item, user: users.User, data) -> None:
    """重新提交: the drafter's corrected application walks the route again (or jumps back, see 退回)."""
    schema = case.compiled.form(case.model.start_form) or EMPTY_FORM
    cleaned = attachments.take(case, user, schema, form_data.check(case.conn, schema, data))
    workflow = case.workflow
    start = next(
        (
            t
            for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if case.model.nodes.get(t.task_spec.name)
            and case.model.nodes[t.task_spec.name].type == "startEvent"
            and t.workflow is workflow
        ),
        None,
    )
    if start is None:
        raise Conflict("找不到流程的开始节点，无法重新提交")
    case.priority = form_data.priority(schema, cleaned, case.priority)
    claim = claims.revise(case.conn, case.model, schema, cleaned, case.instance_id)
    case.warning = claim.warning if claim is not None else None
    values = {**cleaned, "initiator": case.initiator.username, "priority": case.priority}
    values.update(claim.flags if claim is not None else {})
    for holder in (workflow.task_tree, start.parent):
        for key in set(schema.get("properties", {})) - set(cleaned):
            holder.data.pop(key, None)
        holder.data.update(values)
    changes = rounds.changed_fields(schema, case.data, cleaned)
    number = case.data.get("doc_no")  # a 发文字号 stays with the document through its rework
    case.data = cleaned if number is None else {**cleaned, "doc_no": number}
    case.title = routing.render_title(
        case.model.title_template,
        {**cleaned, "initiator_name": case.initiator.display_name, "priority": case.priority},
    )
    items.close_item(case, item, "resubmit", None)
    rounds.record_changes(case.conn, case.instance_id, item.id, changes)
    titles = [schema["properties"][name].get("title") or name for name in changes]
    audit.record(
        case.conn,
        "resubmitted",
        instance_id=case.instance_id,
        work_item_id=item.id,
        actor_id=user.id,
        node_id=item.node_id,
        node_name=item.node_name,
        message="发起人修改后重新提交" + (f"，修改了：{'、'.join(titles)}" if titles else "，未修改内容"),
    )
    workflow.reset_from_task_id(start.id)
    run_engine(workflow, case.budget)
    routing.advance(case)
