"""组织与用户: the system administrators' commands and reads on departments and accounts (the pages, the API).

Each command checks the caller (engine.org.permissions.require_org_admin) and owns its transaction; every
change is an audit event (`org_*`, no instance) for the 操作日志. Deactivating an account ends its sessions
and API tokens in the same transaction. Passwords an administrator sets are one-time passwords, returned once.
"""

from __future__ import annotations

from engine.errors import FieldError, InvalidData
from engine.org import department_import, org_admin, org_import, permissions, sessions, users
from engine.store import audit
from engine.work import frame


def _admin(conn, username: str) -> users.User:
    actor = users.require_user(conn, username)
    permissions.require_org_admin(actor)
    return actor


def _audit(conn, actor: users.User, type_: str, message: str) -> None:
    audit.record(conn, type_, actor_id=actor.id, message=f"{actor.display_name}{message}")


def org_page(core, username: str, q: str = "", department: str = "") -> dict:
    """The 组织与用户 page: the department tree, the accounts (narrowed), the roles to pick from."""
    with core.db.read() as conn:
        actor = _admin(conn, username)
        return {
            "departments": org_admin.department_tree(conn),
            "users": org_admin.list_users(conn, q, department),
            "roles": permissions.ROLE_LABELS,
            "business_roles": org_admin.business_roles(conn),
            "layout": frame.figures(conn, actor),
        }


def list_departments(core, username: str) -> list[dict]:
    with core.db.read() as conn:
        _admin(conn, username)
        return org_admin.department_tree(conn)


def create_department(core, username: str, values: dict) -> dict:
    """新建部门."""
    with core.db.write() as conn:
        actor = _admin(conn, username)
        name = org_admin.create_department(conn, values)
        _audit(conn, actor, "org_department", f"新建部门“{name}”")
        return _department(conn, name)


def update_department(core, username: str, name: str, values: dict) -> dict:
    """改名, 移动, 负责人, 分管领导."""
    with core.db.write() as conn:
        actor = _admin(conn, username)
        new_name = org_admin.update_department(conn, name, values)
        _audit(conn, actor, "org_department", f"修改部门“{name}”：{'、'.join(sorted(values)) or '无变化'}")
        return _department(conn, new_name)


def _department(conn, name: str) -> dict:
    return next(d for d in org_admin.department_tree(conn) if d["name"] == name)


def list_users(core, username: str, q: str = "", department: str = "") -> list[dict]:
    with core.db.read() as conn:
        _admin(conn, username)
        return org_admin.list_users(conn, q, department)


def create_user(core, username: str, values: dict) -> dict:
    """新建用户: the account and its one-time password (shown once)."""
    with core.db.write() as conn:
        actor = _admin(conn, username)
        user, password = org_admin.create_user(conn, values)
        _audit(conn, actor, "org_user", f"新建用户“{user.display_name}”（{user.username}）")
        return {**org_admin.user_dict(conn, user), "password": password}


def update_user(core, username: str, target: str, values: dict) -> dict:
    """编辑用户 (姓名, 部门, 岗位, 邮箱, 角色, 停用/启用); a deactivated account's sessions end now."""
    with core.db.write() as conn:
        actor = _admin(conn, username)
        if values.get("active") is False and target == actor.username:
            raise InvalidData([FieldError("active", "不能停用自己的账号")])
        user = org_admin.update_user(conn, target, values)
        if not user.active:
            sessions.end_all(conn, user.id)
        _audit(
            conn, actor, "org_user", f"修改用户“{user.display_name}”（{user.username}）：{'、'.join(sorted(values))}"
        )
        return org_admin.user_dict(conn, user)


def reset_password(core, username: str, target: str, password: str | None = None) -> dict:
    """重置密码: a one-time password, to be changed at the next sign-in; the account's sessions end."""
    with core.db.write() as conn:
        actor = _admin(conn, username)
        user, password = org_admin.reset_password(conn, target, password)
        sessions.end_all(conn, user.id)
        _audit(conn, actor, "org_user", f"重置用户“{user.display_name}”（{user.username}）的密码")
        return {"username": user.username, "password": password, "must_change_password": True}


def import_users(
    core, username: str, filename: str, content: bytes, *, dry_run: bool, only_valid: bool = False
) -> dict:
    """导入用户 from .xlsx or .csv. `dry_run`: the preview — every row with its problems, nothing stored.
    Otherwise nothing is stored while any row is bad (422 naming row and column), unless `only_valid`: the
    administrator confirmed importing the good rows alone; the bad ones are reported as skipped."""
    rows = org_import.read_rows(filename, content)
    with core.db.write() as conn:
        actor = _admin(conn, username)
        org_import.check_rows(conn, rows)
        report = _import_report(rows, dry_run, only_valid)
        if dry_run:
            return report
        report["created"] = []
        for row in rows:
            if not row.errors:
                user, password = org_admin.create_user(conn, row.values)
                report["created"].append({"row": row.number, "username": user.username, "password": password})
        _audit(conn, actor, "org_import", f"导入用户 {len(report['created'])} 个（跳过 {report['invalid']} 行）")
        return report


def import_departments(
    core, username: str, filename: str, content: bytes, *, dry_run: bool, only_valid: bool = False
) -> dict:
    """导入部门 from .xlsx or .csv, as 导入用户: `dry_run` previews what each row would create or change;
    otherwise all or nothing unless `only_valid`. A name that exists updates that department."""
    rows = department_import.read_rows(filename, content)
    with core.db.write() as conn:
        actor = _admin(conn, username)
        department_import.check_rows(conn, rows)
        report = {**_import_report(rows, dry_run, only_valid), "updated": []}
        if dry_run:
            return report
        report["created"], report["updated"] = department_import.store_rows(conn, rows)
        counts = f"新建 {len(report['created'])} 个，修改 {len(report['updated'])} 个"
        _audit(conn, actor, "org_import", f"导入部门：{counts}（跳过 {report['invalid']} 行）")
        return report


def _import_report(rows: list, dry_run: bool, only_valid: bool) -> dict:
    """The rows with their problems; InvalidData naming each bad row and column when the import is for real,
    some row is bad and the administrator did not confirm importing the good rows alone."""
    bad = [r for r in rows if r.errors]
    if bad and not dry_run and not only_valid:
        raise InvalidData(
            [
                FieldError(f"row {r.number}", f"第 {r.number} 行“{e['column']}”：{e['message']}")
                for r in bad
                for e in r.errors
            ]
        )
    return {
        "dry_run": dry_run,
        "total": len(rows),
        "valid": len(rows) - len(bad),
        "invalid": len(bad),
        "rows": [r.as_dict() for r in rows],
        "created": [],
    }


def export_users(core, username: str) -> bytes:
    """导出用户: every account as .xlsx, in the import's columns."""
    with core.db.read() as conn:
        _admin(conn, username)
        return org_import.export_xlsx(org_admin.list_users(conn))


def export_departments(core, username: str) -> bytes:
    """导出部门: the department tree as .xlsx, in the import's columns."""
    with core.db.read() as conn:
        _admin(conn, username)
        return department_import.export_xlsx(org_admin.department_tree(conn))
