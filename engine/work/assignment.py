"""Who gets a work item: assignment rules resolved against the org model.

Rules (one per line of the `assignee` property, or from Camunda attributes):
  role:<名称>        every active member of the role
  leader / leader:N  the initiator's department leader, N levels up (2 = 分管领导 …)
  user:<username>    a fixed user
  initiator          the initiator
  field:<字段>       the user(s) chosen in a form field
  dept_leader:<部门>  the leader of a named department
  dept_leader:{字段}  the leaders of the departments named in a form field (one name or a list: 会签部门)
  admin              the process administrator

The applicant never decides their own application (engine.org.deciders): every rule but `initiator` leaves
them out; when that leaves nobody (the chain has reached the top, the applicant is the role's only member),
the organisation's top approver decides, or the application cannot start until one is configured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.org import deciders, users
from engine.process.expressions import evaluate
from engine.store.tables import user_account


@dataclass
class Resolution:
    user_ids: list[int] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (event type, message)
    applicant_left_out: bool = False  # a rule named the applicant, who may not decide (engine.org.deciders)


def process_admins(conn: Connection, admin_username: str | None, *, exclude: int | None = None) -> list[int]:
    """The process's administrator (property `admin`), else the first administrator account; `exclude`:
    someone who may not take the item (the applicant)."""
    if admin_username:
        user = users.find_user(conn, admin_username)
        if user and user.active and user.id != exclude:
            return [user.id]
    query = select(user_account.c.id).where(user_account.c.is_admin.is_(True), user_account.c.active.is_(True))
    if exclude is not None:
        query = query.where(user_account.c.id != exclude)
    rows = conn.execute(query.order_by(user_account.c.id).limit(1))
    return [row.id for row in rows]


def _users_from_value(conn: Connection, value) -> list[int]:
    names = value if isinstance(value, list) else [value]
    ids = []
    for name in names:
        if isinstance(name, str) and name.strip():
            user = users.find_user(conn, name.strip())
            if user and user.active:
                ids.append(user.id)
    return ids


_FIELD_REFERENCE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def department_names(arg: str, data: dict) -> list[str]:
    """`办公室` names itself; `{field}` names the department(s) in that form field of the application."""
    found = _FIELD_REFERENCE.match(arg)
    if found is None:
        return [arg]
    value = data.get(found.group(1))
    names = value if isinstance(value, list) else [value]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


def resolve_rule(conn: Connection, rule: str, initiator: users.User, data: dict, admin: str | None, res: Resolution):
    kind, _, arg = rule.partition(":")
    arg = arg.strip()
    if kind == "role":
        res.user_ids += users.role_members(conn, arg)
    elif kind == "leader":
        level = int(arg) if arg else 1
        chain = users.leader_chain(conn, initiator.department_id, limit=level + 1)
        index = level - 1
        if index < len(chain) and chain[index] == initiator.id:
            index += 1
            if index < len(chain):
                above = users.get_user(conn, chain[index])
                res.notes.append(
                    ("skipped", f"申请人是本级负责人，不能审批自己的申请，本节点由上一级领导{above.display_name}审批")
                )
        if index < len(chain):
            res.user_ids.append(chain[index])
        elif initiator.id in chain:  # the chain ends at the applicant: the next approver would be them
            res.applicant_left_out = True
    elif kind == "user":
        res.user_ids += _users_from_value(conn, arg)
    elif kind == "initiator":
        res.user_ids.append(initiator.id)
    elif kind == "field":
        res.user_ids += _users_from_value(conn, data.get(arg))
    elif kind == "dept_leader":
        for name in department_names(arg, data):
            leader = users.department_leader(conn, name)
            if leader is not None:
                res.user_ids.append(leader)
    elif kind == "admin":
        res.user_ids += process_admins(conn, admin)


def resolve(
    conn: Connection,
    rules: list[str],
    initiator: users.User,
    data: dict,
    admin: str | None,
    *,
    fallback: bool = True,
    deciding: bool = True,
    node_name: str = "",
) -> Resolution:
    """The people the rules name, active, each once. `deciding`: they decide (not 知会 readers), so the
    applicant is left out except by the `initiator` rule, and the top approver (engine.org.deciders) steps
    in when only the applicant was left."""
    res = Resolution()
    for rule in rules:
        rule, _, condition = rule.partition(" if ")
        if condition and not evaluate(condition, data):
            continue
        rule = rule.strip()
        before = len(res.user_ids)
        resolve_rule(conn, rule, initiator, data, admin, res)
        if deciding and rule != "initiator":
            named = res.user_ids[before:]
            res.user_ids[before:] = [u for u in named if deciders.may_decide(initiator.id, u)]
            res.applicant_left_out = res.applicant_left_out or len(res.user_ids) - before < len(named)
    if deciding and res.applicant_left_out and not res.user_ids:
        top = deciders.approver_above(conn, initiator, node_name)
        res.user_ids.append(top.id)
        res.notes.append(
            (
                "assigned",
                f"申请人{initiator.display_name}是审批链的最高一级，按组织设置由最高审批人{top.display_name}审批",
            )
        )
    unique = []
    for user_id in res.user_ids:
        if user_id not in unique:
            unique.append(user_id)
    active = users.users_by_ids(conn, unique)
    res.user_ids = [u for u in unique if u in active and active[u].active]
    if not res.user_ids and fallback:
        res.user_ids = process_admins(conn, admin, exclude=initiator.id) or process_admins(conn, admin)
        described = "、".join(rules) if rules else "未配置审批人"
        res.notes.append(("no_assignee", f"按规则（{described}）未找到审批人，已转交流程管理员"))
    return res
