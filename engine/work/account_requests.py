"""账号申请 (OA系统账号申请, bpmn/account_request.bpmn): the service-task handler that acts on the approved
request — 开通 creates the account (or re-enables a deactivated one of that 登录名) with a one-time password
to be changed at the first sign-in; 注销 deactivates it and ends its sessions. The applicant is told, the
one-time password in that message only (never in the application's data, which every participant sees).

It runs inside the command that passed the 信息部门 step (engine.process.service_tasks.HandlerContext): the
account and the step commit together. When it cannot do what was asked (the department does not exist, the
登录名 is taken, the account to 注销 does not exist) it raises: the step is rolled back, nothing is created,
and the instance enters 异常 for an administrator to fix the cause and retry (engine.work.recovery).
"""

from __future__ import annotations

from engine.errors import InvalidData
from engine.notify import outbox
from engine.org import org_admin, sessions, users
from engine.process.service_tasks import HandlerContext

HANDLER = "oaflow.org.account"
OPEN, CLOSE = "开通", "注销"


class AccountRequestFailed(Exception):
    """What the handler could not do, in words the administrator reads on the 异常 page."""


def apply(data: dict, context: HandlerContext) -> dict:
    """Instance data in (request_type, username, full_name, department, position, role), the result out."""
    kind = data.get("request_type")
    username = (data.get("username") or "").strip()
    if kind == CLOSE:
        user = _close(context, username)
        result = f"账号 {username}（{user.display_name}）已注销"
        _tell(context, f"账号申请已办结：{result}", "该账号已停用，其登录已全部退出。")
        return {"account_result": result, "message": result}
    if kind != OPEN:
        raise AccountRequestFailed(f"申请类型“{kind}”无效（应为开通或注销）")
    user, password, reopened = _open(context, data, username)
    result = f"账号 {user.username}（{user.display_name}）已{'重新启用' if reopened else '开通'}"
    _tell(
        context,
        f"账号申请已办结：{result}",
        f"登录名：{user.username}\n一次性密码：{password}\n请转交本人；首次登录后须立即修改密码。",
    )
    return {"account_result": result, "message": result}


def _values(data: dict, username: str) -> dict:
    return {
        "username": username,
        "display_name": data.get("full_name"),
        "department": data.get("department"),
        "title": data.get("position"),
        "roles": [data["role"]] if data.get("role") else [],
    }


def _open(context: HandlerContext, data: dict, username: str) -> tuple[users.User, str, bool]:
    values = _values(data, username)
    existing = users.find_user(context.conn, username)
    try:
        if existing is None:
            user, password = org_admin.create_user(context.conn, values)
            return user, password, False
        if existing.active:
            raise AccountRequestFailed(f"登录名 {username} 已被 {existing.display_name} 使用，无法开通")
        changes = {k: values[k] for k in ("display_name", "department", "title", "roles")}
        org_admin.update_user(context.conn, username, {**changes, "active": True})
        user, password = org_admin.reset_password(context.conn, username)
        return user, password, True
    except InvalidData as exc:  # e.g. 部门“信息中心”不存在: fixed by an administrator, then retried
        raise AccountRequestFailed("；".join(e.message for e in exc.errors)) from None


def _close(context: HandlerContext, username: str) -> users.User:
    user = users.find_user(context.conn, username)
    if user is None:
        raise AccountRequestFailed(f"要注销的账号 {username} 不存在")
    if context.initiator == username:
        raise AccountRequestFailed("不能注销申请人自己的账号")
    org_admin.update_user(context.conn, username, {"active": False})
    sessions.end_all(context.conn, user.id)
    return user


def _tell(context: HandlerContext, title: str, body: str) -> None:
    applicant = users.find_user(context.conn, context.initiator) if context.initiator else None
    if applicant is not None:
        outbox.send(context.conn, applicant.id, "result", title, body, instance_id=context.instance_id)
