"""Moving an instance along its route: starting it, opening the nodes it reaches, sending it back.

`advance` is what every command calls after acting on the workflow: it projects the READY user tasks into
work items (or lets a node pass on its own: same approver as the step before, nobody to ask and the node
says skip, a "direct" resubmission on its way back) until nothing more moves by itself. The return helpers
are the two ways back that 退回, 不同意 with a reject rule and 撤回 share: to the drafter, or to an earlier node.
"""

from __future__ import annotations

import re

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from engine.errors import Conflict, FieldError, Forbidden, InvalidData
from engine.notify import outbox
from engine.org import users
from engine.process import definitions
from engine.process.expressions import ExpressionError
from engine.process.limits import Budget, BudgetExceeded
from engine.process.model import ProcessModel, node_id
from engine.process.policy import end_outcome as policy_outcome
from engine.process.policy import policy_of
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import instance, utcnow
from engine.time.working_days import PRIORITIES
from engine.work import assignment
from engine.work.kernel import attachments, claims, doc_numbers, form_data, items, receivers
from engine.work.kernel.case import ENGINE, USER_TASK_TYPES, Case, keep_after_commit, save
from engine.work.kernel.failure import failed_at, run_engine, run_task

EMPTY_FORM = {"type": "object", "properties": {}}
RESUBMIT_NODE = "发起人修改后重新提交"
_INSERT_INSTANCE = Prepared(insert(instance))


# --- starting ---------------------------------------------------------------------------------------------


def may_start(conn: Connection, user: users.User, model: ProcessModel) -> bool:
    """Process property `starters` (e.g. `role:文书, dept:办公室`) limits who may start; default everyone."""
    rules = [r.strip() for r in re.split(r"[;,，；]", model.properties.get("starters", "")) if r.strip()]
    return user.is_admin or users.matches_any(conn, user, rules)


def render_title(template: str, values: dict) -> str:
    """`{field}` placeholders only: str.format would allow attribute access on values."""

    def sub(match):
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, template)[:500]


def start_instance(
    core, conn: Connection, user: users.User, process_key: str, data, priority, *, prepare=None, budget=None
) -> Case:
    """发起, inside the caller's transaction: a new instance of the newest active version, moved on to its
    first waits and saved. `prepare(workflow)` acts on the new workflow before it moves on (a message start
    event catching its message, a timer start event firing). `budget`: the command's, when another instance
    starts this one by a message it threw."""
    priority = priority or "正常"
    if priority not in PRIORITIES:
        raise InvalidData([FieldError("priority", f"紧急程度必须是：{'、'.join(PRIORITIES)}")])
    row = definitions.latest_head(conn, process_key)
    compiled = core.specs.get(conn, row.id)
    if not may_start(conn, user, compiled.model):
        raise Forbidden(f"您无权发起“{compiled.model.name}”")
    schema = compiled.form(compiled.model.start_form) or EMPTY_FORM
    cleaned = form_data.check(conn, schema, data)
    priority = form_data.priority(schema, cleaned, priority)
    cleaned, files = attachments.resolve(conn, user, schema, cleaned, {})
    claim = claims.check(conn, compiled.model, schema, cleaned)

    workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=ENGINE)
    workflow.task_tree.data.update(cleaned)
    if claim is not None:
        workflow.task_tree.data.update(claim.flags)
    workflow.task_tree.data.update(initiator=user.username, priority=priority)
    budget = budget or Budget()
    run_engine(workflow, budget)
    if prepare is not None:
        prepare(workflow)
        run_engine(workflow, budget)

    title = render_title(
        compiled.model.title_template, {**cleaned, "initiator_name": user.display_name, "priority": priority}
    )
    now = utcnow()
    instance_id = conn.execute(
        _INSERT_INSTANCE,
        {
            "definition_id": row.id,
            "process_key": row.process_key,
            "title": title,
            "initiator_id": user.id,
            "status": "running",
            "priority": priority,
            "current_nodes": "",
            "data": orjson.dumps(cleaned).decode(),
            "state": "{}",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        },
    ).inserted_primary_key[0]
    attachments.attach(conn, instance_id, files, cleaned)
    claims.place(conn, claim, instance_id)
    audit.record(
        conn,
        "started",
        instance_id=instance_id,
        actor_id=user.id,
        node_id=compiled.model.start_event,
        node_name="发起申请",
        message=f"{user.display_name}发起了“{title}”（{priority}）",
    )
    case = Case(
        conn,
        compiled,
        workflow,
        instance_id,
        user,
        cleaned,
        version=1,
        priority=priority,
        title=title,
        may_have_timer=compiled.has_timers,
        last_decision=(None, None),  # nobody has decided anything yet
        budget=budget,
        core=core,
        warning=claim.warning if claim is not None else None,
    )
    advance(case)
    save(case)
    keep_after_commit(core, case)
    return case


# --- moving on --------------------------------------------------------------------------------------------


def advance(case: Case) -> None:
    """Project READY tasks into work items until nothing more moves on its own.

    Plain tasks (bpmn:task, manualTask) pass through, creating 知会 copies when they name readers; user
    tasks get work items (`open_node`), or pass on their own.
    """
    open_tasks = items.sync_items(case)
    if items.RESUBMIT_TASK in open_tasks:
        return  # the application is back with its drafter: nothing opens until they resubmit
    for _round in range(1000):
        moved = False
        for task in case.workflow.get_tasks(state=TaskState.READY, manual=True):
            node = case.model.nodes.get(node_id(task.task_spec))  # multi-instance children too
            if node is None or node.type not in USER_TASK_TYPES:
                if node is not None and node.cc:
                    items.create_cc(case, node.id, node.name, node.cc)
                run_task(task, case.budget)
                moved = True
                continue
            if str(task.id) in open_tasks:
                continue
            if case.jump_to and case.jump_to != node.id and not items.approved_before(case, node.id):
                # The route no longer leads back to the node that returned it: review normally from here.
                case.jump_to = None
            if case.jump_to and case.jump_to != node.id:
                audit.record(
                    case.conn,
                    "skipped",
                    instance_id=case.instance_id,
                    node_id=node.id,
                    node_name=node.name,
                    message="退回后重新提交：直接回到退回的节点，本节点不再审批",
                )
                pass_task(case, task)
                moved = True
                continue
            if case.jump_to == node.id:
                case.jump_to = None
            if open_node(case, task, node):
                moved = True
            else:
                open_tasks.add(str(task.id))
        if not moved:
            break
        run_engine(case.workflow, case.budget)
    if case.workflow.bpmn_events:
        receivers.deliver_thrown(case, start_instance)
    if case.workflow.is_completed() and case.status == "running":
        finish(case)


def finish(case: Case) -> None:
    """The route reached its end: 已通过, or 不通过 when the end event reached says `outcome="rejected"`
    (收文 退回来文单位, 请示 批复不同意), its name then the reason the instance shows."""
    case.status, case.jump_to = "approved", None
    for task in case.workflow.get_tasks(state=TaskState.COMPLETED):
        node = case.model.nodes.get(node_id(task.task_spec))
        if task.workflow is case.workflow and node is not None and node.type == "endEvent":
            if policy_outcome(node) == "rejected":
                case.status, case.end_reason = "rejected", node.name


def pass_task(case: Case, task) -> None:
    """The node passes and the route moves on: its signers' decisions made it pass (engine.work.signing), or
    it passed without anyone deciding (自动通过, skipped, a direct resubmission on its way back)."""
    task.data.update(approved=True, decision="approve")
    doc_numbers.number_on_completion(case, task)
    run_task(task, case.budget)
    run_engine(case.workflow, case.budget)


def open_node(case: Case, task, node) -> bool:
    """Create the node's work items; return True when the node passed on its own instead."""
    conn = case.conn
    policy = policy_of(node)
    origin, caused_by = case.reassign_origin.pop(node.id, ("rule", None))
    if node.id in case.reassign:
        signers = case.reassign.pop(node.id)
    else:
        admin = case.model.properties.get("admin")
        # The task's own data too: a multi-instance child's element variable names its signer.
        data = {**case.data, **task.data}
        try:
            found = assignment.resolve(
                conn, node.assignee, case.initiator, data, admin, fallback=False, node_name=node.name
            )
        except ExpressionError as exc:
            raise failed_at(f"审批人规则的条件无法求值：{exc}", node.id, node.name) from None
        for kind, message in found.notes:
            audit.record(
                conn, kind, instance_id=case.instance_id, node_id=node.id, node_name=node.name, message=message
            )
        signers = found.user_ids
        if not signers:
            if policy.empty_assignee == "refuse":
                raise Conflict(f"节点“{node.name}”按规则找不到审批人，无法继续：请联系管理员检查组织架构或流程设置")
            if policy.empty_assignee == "skip":
                audit.record(
                    conn,
                    "skipped",
                    instance_id=case.instance_id,
                    node_id=node.id,
                    node_name=node.name,
                    message=policy.skip_note or "按规则找不到审批人，按节点设置跳过",
                )
                pass_task(case, task)
                return True
            # Another administrator than the applicant when there is one (a misconfigured node's safety net).
            signers = assignment.process_admins(conn, admin, exclude=case.initiator.id) or assignment.process_admins(
                conn, admin
            )
            audit.record(
                conn,
                "no_assignee",
                instance_id=case.instance_id,
                node_id=node.id,
                node_name=node.name,
                message=f"按规则（{'、'.join(node.assignee) or '未配置审批人'}）未找到审批人，已转交流程管理员",
            )
        single = policy.sign_mode in {"single", "any"} or len(signers) == 1
        last = items.last_approver(case) if case.model.dedupe_approver else None
        if single and last is not None and signers == [last]:
            audit.record(
                conn,
                "auto_approved",
                instance_id=case.instance_id,
                actor_id=last,
                node_id=node.id,
                node_name=node.name,
                decision="approve",
                message="与上一节点审批人相同，自动通过",
            )
            pass_task(case, task)
            return True
    try:
        case.budget.open_items(len(signers), node.id)
    except BudgetExceeded as exc:
        raise failed_at(exc.what, node.id, node.name) from None
    first = None
    for index, user_id in enumerate(signers):
        waiting = policy.sign_mode == "sequential" and index > 0
        status = "waiting" if waiting else "open"
        item_id = items.create_item(
            case, task, node, user_id, status=status, seq=index, origin=origin, added_by_id=caused_by
        )
        first = first or item_id
    items.start_round(case, task, first)
    return False


# --- the ways back ------------------------------------------------------------------------------------------


class ResubmitStep:
    """A node-like value for the drafter's resubmission item, which belongs to no BPMN user task."""

    def __init__(self, node_id: str):
        self.id, self.name, self.properties, self.type = node_id, RESUBMIT_NODE, {}, "resubmit"


def return_to_initiator(case: Case, node, *, actor_id: int | None, reason: str, note: str = "已退回发起人") -> None:
    """The application goes back to its drafter, who edits it and resubmits (or cancels it). `node`: the
    node it was sent back from (a "direct" resubmission jumps straight back to it), or None."""
    items.close_open_items(case, note)
    items.create_item(
        case,
        None,
        ResubmitStep(case.model.start_event or "StartEvent"),
        case.initiator.id,
        origin="resubmit",
        task_id=items.RESUBMIT_TASK,
        added_by_id=actor_id,
    )
    case.jump_to = node.id if node is not None and policy_of(node).resubmit == "direct" else None
    outbox.send(
        case.conn,
        case.initiator.id,
        "returned",
        f"您的申请“{case.title}”已退回：{reason}" if reason else f"您的申请“{case.title}”已退回",
        instance_id=case.instance_id,
    )


def earlier_nodes(case: Case, task) -> list[tuple[object, list[int]]]:
    """Completed user-task nodes on the path to `task`, nearest first, with who approved them."""
    found, seen = [], set()
    current = task.parent
    while current is not None:
        name = current.task_spec.name
        node = case.model.nodes.get(name)
        if node is not None and node.type in USER_TASK_TYPES and current.state == TaskState.COMPLETED:
            if name not in seen:
                seen.add(name)
                handlers = items.handlers(case, str(current.id))
                if handlers:
                    found.append((current, handlers))
        current = current.parent
    return found


def send_back_targets(case: Case, task) -> list[dict]:
    """Where 退回 may send the application from `task`: each earlier node (with who handled it, nearest
    first and marked `previous`), and the initiator."""
    earlier = earlier_nodes(case, task)
    people = users.users_by_ids(case.conn, [u for _, handlers in earlier for u in handlers])
    targets = []
    for index, (done, handlers) in enumerate(earlier):
        node = case.model.nodes[done.task_spec.name]
        targets.append(
            {
                "node": node.id,
                "name": node.name,
                "handlers": [people[u].display_name for u in handlers if u in people],
                "previous": index == 0,
            }
        )
    targets.append(
        {"node": "initiator", "name": "发起人", "handlers": [case.initiator.display_name], "previous": not targets}
    )
    return targets


def return_to_node(case: Case, task, target_id: str, returner, *, actor_id: int | None) -> None:
    """The earlier node `target_id` opens again for the people who handled it (their items say who sent it
    back: `actor_id`); with the returning node's "direct" option, the nodes in between pass once they have
    acted and the returning node is next."""
    for earlier, handlers in earlier_nodes(case, task):
        if earlier.task_spec.name == target_id:
            items.close_open_items(case, "已退回")
            case.reassign[target_id] = handlers
            case.reassign_origin[target_id] = ("send_back", actor_id)
            case.workflow.reset_from_task_id(earlier.id)
            case.jump_to = None
            advance(case)
            case.jump_to = returner.id if policy_of(returner).resubmit == "direct" else None
            return
    raise Conflict(f"只能退回到本申请已经办理过的节点，“{target_id}”不在其中")
