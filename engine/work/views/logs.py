"""日志: the 登录日志 (engine.org.sign_in_log) and the 操作日志 — every administrative and approval action,
read from the audit trail (the events someone caused; the system's own steps have no actor) — searched
by person, action and dates, newest first, and exported to Excel. Administrators only."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import sessions, sign_in_log, users
from engine.store.audit import EVENT_LABELS
from engine.store.tables import event_log, instance, user_account
from engine.store.tables_logs import login_log
from engine.time.working_days import to_local
from engine.work import frame
from engine.work.views.search import office_midnight

PER_PAGE = 50
MAX_EXPORT = 50_000
MAX_PAGE = 10_000
MAX_TEXT = 100
LABELS = {"user": "用户", "action": "操作", "result": "结果", "from": "开始日期", "to": "结束日期", "page": "页码"}
RESULTS = {"success": "成功", "failure": "失败"}
ACTIONS = EVENT_LABELS  # what the 操作日志 may be narrowed to


def _read(args, names: tuple[str, ...]) -> dict:
    errors: list[FieldError] = []
    found: dict = {}
    for name in names:
        value = args.get(name) or ""
        if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
            errors.append(FieldError(name, f"{LABELS[name]}无效"))
            value = ""
        found[name] = value.strip()
    for name in ("from", "to"):
        text, found[name] = found[name], None
        if text:
            try:
                found[name] = date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("bad")
            except ValueError:
                errors.append(FieldError(name, f"{LABELS[name]}“{text}”不是有效的日期，例如 2026-05-01"))
    page = found.get("page") or "1"
    found["page"] = int(page) if page.isdigit() and 0 < int(page) <= MAX_PAGE else 0
    if not found["page"]:
        errors.append(FieldError("page", f"页码必须是 1 到 {MAX_PAGE} 之间的整数"))
    if found.get("action") and found["action"] not in EVENT_LABELS:
        errors.append(FieldError("action", "没有这种操作"))
    if found.get("result") and found["result"] not in RESULTS:
        errors.append(FieldError("result", "结果只能是 success（成功）或 failure（失败）"))
    if found["from"] and found["to"] and found["from"] > found["to"]:
        errors.append(FieldError("to", "结束日期不能早于开始日期"))
    if errors:
        raise InvalidData(errors)
    return found


def _dates(column, found: dict) -> list:
    where = []
    if found["from"]:
        where.append(column >= office_midnight(found["from"]))
    if found["to"]:
        where.append(column < office_midnight(found["to"] + timedelta(days=1)))
    return where


def _when(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _logins(conn: Connection, found: dict, limit: int, offset: int) -> list[dict]:
    where = _dates(login_log.c.at, found)
    if found["user"]:
        where.append(login_log.c.username == found["user"])
    if found["result"]:
        where.append(login_log.c.success.is_(found["result"] == "success"))
    rows = conn.execute(
        select(login_log, user_account.c.display_name)
        .outerjoin(user_account, user_account.c.id == login_log.c.user_id)
        .where(*where)
        .order_by(login_log.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        {
            "at": _when(row.at),
            "username": row.username,
            "name": row.display_name or "",
            "address": row.address or "",
            "kind": "浏览器" if row.kind == sessions.WEB else "接口",
            "success": bool(row.success),
            "result": RESULTS["success" if row.success else "failure"],
            "reason": row.reason or "",
        }
        for row in rows
    ]


def _operations(conn: Connection, found: dict, limit: int, offset: int) -> list[dict]:
    where = [event_log.c.actor_id.isnot(None), *_dates(event_log.c.created_at, found)]
    if found["user"]:
        person = users.find_user(conn, found["user"])
        if person is None:
            raise InvalidData([FieldError("user", f"没有用户“{found['user']}”")])
        where.append(event_log.c.actor_id == person.id)
    if found["action"]:
        where.append(event_log.c.type == found["action"])
    rows = conn.execute(
        select(
            event_log,
            user_account.c.username,
            user_account.c.display_name,
            instance.c.title,
        )
        .join(user_account, user_account.c.id == event_log.c.actor_id)
        .outerjoin(instance, instance.c.id == event_log.c.instance_id)
        .where(*where)
        .order_by(event_log.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        {
            "at": _when(row.created_at),
            "username": row.username,
            "name": row.display_name,
            "action": row.type,
            "action_label": EVENT_LABELS.get(row.type, row.type),
            "instance_id": row.instance_id,
            "title": row.title or "",
            "node_name": row.node_name or "",
            "opinion": row.opinion or "",
            "message": row.message or "",
        }
        for row in rows
    ]


def _page(conn: Connection, reader, found: dict) -> dict:
    rows = reader(conn, found, PER_PAGE + 1, (found["page"] - 1) * PER_PAGE)
    return {"items": rows[:PER_PAGE], "page": found["page"], "has_next": len(rows) > PER_PAGE}


def login_logs(core, username: str, args) -> dict:
    """One page of the 登录日志 (`user`, `result`, `from`, `to`, `page`), with the retention in days."""
    found = _read(args, ("user", "result", "from", "to", "page"))
    with core.db.read() as conn:
        admin = users.require_admin(conn, username, sign_in_log.LOGS_ADMINS_ONLY)
        return {
            **_page(conn, _logins, found),
            "query": found,
            "retention_days": sign_in_log.retention_days(conn),
            "layout": frame.figures(conn, admin),
        }


def operation_logs(core, username: str, args) -> dict:
    """One page of the 操作日志 (`user`, `action`, `from`, `to`, `page`)."""
    found = _read(args, ("user", "action", "from", "to", "page"))
    with core.db.read() as conn:
        admin = users.require_admin(conn, username, sign_in_log.LOGS_ADMINS_ONLY)
        return {
            **_page(conn, _operations, found),
            "query": found,
            "actions": EVENT_LABELS,
            "layout": frame.figures(conn, admin),
        }


_LOGIN_COLUMNS = (
    ("时间", "at"),
    ("用户名", "username"),
    ("姓名", "name"),
    ("IP 地址", "address"),
    ("方式", "kind"),
    ("结果", "result"),
    ("原因", "reason"),
)
_OPERATION_COLUMNS = (
    ("时间", "at"),
    ("用户名", "username"),
    ("姓名", "name"),
    ("操作", "action_label"),
    ("申请编号", "instance_id"),
    ("申请", "title"),
    ("节点", "node_name"),
    ("意见", "opinion"),
    ("说明", "message"),
)


def _workbook(title: str, columns, rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([label for label, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[key] if row[key] is not None else "" for _, key in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def login_logs_xlsx(core, username: str, args) -> bytes:
    """The 登录日志 the filters find (at most 50 000 rows, newest first) as an Excel workbook."""
    found = _read(args, ("user", "result", "from", "to", "page"))
    with core.db.read() as conn:
        users.require_admin(conn, username, sign_in_log.LOGS_ADMINS_ONLY)
        rows = _logins(conn, found, MAX_EXPORT, 0)
    return _workbook("登录日志", _LOGIN_COLUMNS, rows)


def operation_logs_xlsx(core, username: str, args) -> bytes:
    """The 操作日志 the filters find (at most 50 000 rows, newest first) as an Excel workbook."""
    found = _read(args, ("user", "action", "from", "to", "page"))
    with core.db.read() as conn:
        users.require_admin(conn, username, sign_in_log.LOGS_ADMINS_ONLY)
        rows = _operations(conn, found, MAX_EXPORT, 0)
    return _workbook("操作日志", _OPERATION_COLUMNS, rows)
