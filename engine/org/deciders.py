"""Who may decide a work item: the applicant never decides their own application.

One rule (`may_decide`) and the three ways it is applied, used by every path that gives someone an item:

- assignment by rule (engine.work.assignment): the applicant is left out of every rule except the explicit
  `initiator` rule (a step the designer gives the applicant on purpose, such as 发起人确认); when the
  approval chain reaches the top and the next approver would be the applicant, the organisation's
  top approver (`top_approver`, e.g. 董事长 or a named deputy) decides instead;
- 代理 (`decider`): a delegate who is the applicant is passed over, the item stays with the principal (also
  when a delegation moves the items already waiting);
- hand-overs (`refuse_applicant`): 转办, 委派, 加签 and the deadline sweep's 超时转交 never reach the applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Conflict, FieldError, InvalidData
from engine.org import cache as org_cache
from engine.org import users
from engine.store.fastsql import Prepared
from engine.store.tables import delegation, setting

TOP_APPROVER_KEY = "org.top_approver"  # setting: the username of the organisation's top approver
_ACTIVE_OF = Prepared(  # a user's active delegations, whatever their dates (kept by engine.org.cache)
    select(delegation).where(delegation.c.user_id == bindparam("b_user"), delegation.c.active.is_(True))
)


def may_decide(initiator_id: int, user_id: int) -> bool:
    """The rule: nobody decides an application they started."""
    return user_id != initiator_id


# --- 代理 ---------------------------------------------------------------------------------------------------


def delegate_for(conn: Connection, user_id: int, process_key: str, today: date) -> int | None:
    """The user's active delegate for this process today (代理), or None."""
    load = lambda: tuple(conn.execute(_ACTIVE_OF, {"b_user": user_id}))  # noqa: E731
    for row in org_cache.lookup(conn, ("delegations", user_id), load):
        if row.starts_on <= today <= row.ends_on:
            scope = {p.strip() for p in row.processes.split(",") if p.strip()}
            if not scope or process_key in scope:
                return row.delegate_id
    return None


@dataclass(frozen=True)
class Decider:
    assignee: int  # who holds the item
    acts_for: int | None = None  # the principal the assignee stands in for (代理), or None
    passed_over: int | None = None  # a delegate left out because the application is theirs


def decider(conn: Connection, user_id: int, initiator_id: int, process_key: str, today: date) -> Decider:
    """Who decides an item meant for `user_id`: their 代理 today, unless the delegate is the applicant
    (then the item stays with `user_id`)."""
    delegate = delegate_for(conn, user_id, process_key, today)
    if delegate is None:
        return Decider(user_id)
    if not may_decide(initiator_id, delegate):
        return Decider(user_id, passed_over=delegate)
    return Decider(delegate, acts_for=user_id)


# --- hand-overs ---------------------------------------------------------------------------------------------


def refuse_applicant(people, initiator, what: str, field: str) -> None:
    """转办 / 委派 / 加签 to the applicant: refused (422) naming the field, before anything is stored."""
    for person in people:
        if not may_decide(initiator.id, person.id):
            message = f"{person.display_name}是本申请的申请人，申请人不能审批自己的申请，不能{what}给他：请选择其他人"
            raise InvalidData([FieldError(field, message)])


# --- the top of the chain -----------------------------------------------------------------------------------


def top_approver(conn: Connection) -> users.User | None:
    """The organisation's configured top approver (董事长 or a named deputy), when set and active."""
    name = conn.execute(select(setting.c.value).where(setting.c.key == TOP_APPROVER_KEY)).scalar()
    user = users.find_user(conn, name) if name else None
    return user if user is not None and user.active else None


def approver_above(conn: Connection, initiator: users.User, node_name: str) -> users.User:
    """Who decides when the chain has reached the top and the next approver would be the applicant: the
    configured top approver; Conflict (nothing started) when none is configured or it is the applicant."""
    top = top_approver(conn)
    if top is None:
        raise Conflict(
            f"节点“{node_name}”的下一位审批人是申请人{initiator.display_name}本人，审批链已到最高一级，"
            "且未设置最高审批人：请管理员设置最高审批人（如董事长或指定的副职）："
            "oaflow org top-approver <用户名>"
        )
    if not may_decide(initiator.id, top.id):
        raise Conflict(
            f"节点“{node_name}”的下一位审批人是申请人{initiator.display_name}本人，而{initiator.display_name}"
            "就是组织设置的最高审批人：请管理员另设一位最高审批人（如指定的副职）：oaflow org top-approver <用户名>"
        )
    return top


def set_top_approver(conn: Connection, username: str) -> users.User:
    """Name the organisation's top approver (an active account)."""
    user = users.find_user(conn, (username or "").strip()) if isinstance(username, str) else None
    if user is None or not user.active:
        raise InvalidData([FieldError("username", f"用户 '{username or ''}' 不存在或已停用")])
    exists = conn.execute(select(setting.c.key).where(setting.c.key == TOP_APPROVER_KEY)).first()
    if exists:
        conn.execute(update(setting).where(setting.c.key == TOP_APPROVER_KEY).values(value=user.username))
    else:
        conn.execute(insert(setting).values(key=TOP_APPROVER_KEY, value=user.username))
    return user
