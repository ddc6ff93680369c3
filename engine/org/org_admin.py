"""组织与用户 as the system administrators keep it: the department tree (create, rename, move, 负责人,
分管领导) and the accounts (create, edit, 停用/启用, reset the password, move to another department, the
administrators' roles and the business roles). Building blocks inside the caller's transaction
(engine.work.organisation owns it); each write tells the organisation cache (`org_cache.changed`).

A password an administrator sets (a new account, a reset, an import) is a one-time password: the account
must change it at its first sign-in (`must_change_password`, engine.org.accounts).
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine import fields
from engine.errors import FieldError, InvalidData, NotFound
from engine.org import cache as org_cache
from engine.org import permissions, users
from engine.store.tables import department, role, user_account, user_role

NAME_MAX = 100
ROLE_BY_LABEL = {label: code for code, label in permissions.ROLE_LABELS.items()}
ROLE_FLAGS = {
    permissions.SYSTEM_ADMIN: "is_admin",
    permissions.PROCESS_ADMIN: "is_process_admin",
    permissions.FILE_ADMIN: "is_file_admin",
}


def one_time_password() -> str:
    """A password for an administrator to hand over, to be changed at the first sign-in."""
    return "Oa-" + secrets.token_urlsafe(9)


# --- departments -----------------------------------------------------------------------------------------------


def department_tree(conn: Connection) -> list[dict]:
    """Every department in tree order (parents before children, siblings by creation), with its depth,
    负责人, 分管领导 and the number of active members."""
    rows = conn.execute(select(department).order_by(department.c.id)).all()
    people = users.users_by_ids(conn, [r.leader_id for r in rows] + [r.supervisor_id for r in rows])
    members: dict[int, int] = {}
    for dept_id in conn.execute(select(user_account.c.department_id).where(user_account.c.active.is_(True))).scalars():
        members[dept_id] = members.get(dept_id, 0) + 1
    children: dict[int | None, list] = {}
    ids = {r.id for r in rows}
    for r in rows:
        children.setdefault(r.parent_id if r.parent_id in ids else None, []).append(r)
    names = {r.id: r.name for r in rows}
    result: list[dict] = []
    stack = [(r, 0) for r in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        leader, supervisor = people.get(row.leader_id), people.get(row.supervisor_id)
        result.append(
            {
                "id": row.id,
                "name": row.name,
                "parent": names.get(row.parent_id),
                "depth": depth,
                "leader": leader.username if leader else None,
                "leader_name": leader.display_name if leader else None,
                "supervisor": supervisor.username if supervisor else None,
                "supervisor_name": supervisor.display_name if supervisor else None,
                "members": members.get(row.id, 0),
            }
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return result


def _department_id(conn: Connection, name, field: str, label: str) -> int | None:
    name = fields.text(name, field, label, max_length=NAME_MAX)
    if not name:
        return None
    dept_id = conn.execute(select(department.c.id).where(department.c.name == name)).scalar()
    if dept_id is None:
        raise InvalidData([FieldError(field, f"部门“{name}”不存在")])
    return dept_id


def _person_id(conn: Connection, username, field: str, label: str) -> int | None:
    username = fields.text(username, field, label, max_length=64)
    if not username:
        return None
    person = users.find_user(conn, username)
    if person is None or not person.active:
        raise InvalidData([FieldError(field, f"{label}“{username}”不存在或已停用")])
    return person.id


def create_department(conn: Connection, values: dict) -> str:
    """新建部门: 名称 (unique), 上级部门, 负责人, 分管领导 (usernames)."""
    name = fields.text(values.get("name"), "name", "部门名称", max_length=NAME_MAX, required=True)
    if conn.execute(select(department.c.id).where(department.c.name == name)).first():
        raise InvalidData([FieldError("name", f"部门“{name}”已存在")])
    row = {
        "name": name,
        "parent_id": _department_id(conn, values.get("parent"), "parent", "上级部门"),
        "leader_id": _person_id(conn, values.get("leader"), "leader", "负责人"),
        "supervisor_id": _person_id(conn, values.get("supervisor"), "supervisor", "分管领导"),
    }
    org_cache.changed(conn)
    conn.execute(insert(department).values(**row))
    return name


def update_department(conn: Connection, name: str, values: dict) -> str:
    """改名, 移动 (another parent, never below itself), 负责人 and 分管领导: only the keys given change;
    an empty 负责人/分管领导/上级部门 clears it."""
    row = conn.execute(select(department).where(department.c.name == name)).first()
    if row is None:
        raise NotFound(f"部门“{name}”不存在")
    changes: dict = {}
    if "name" in values:
        new_name = fields.text(values["name"], "name", "部门名称", max_length=NAME_MAX, required=True)
        taken = conn.execute(select(department.c.id).where(department.c.name == new_name)).scalar()
        if taken is not None and taken != row.id:
            raise InvalidData([FieldError("name", f"部门“{new_name}”已存在")])
        changes["name"] = new_name
    if "parent" in values:
        parent_id = _department_id(conn, values["parent"], "parent", "上级部门")
        if parent_id is not None and row.id in _ancestors(conn, parent_id):
            raise InvalidData([FieldError("parent", "不能移动到本部门或其下级部门之下")])
        changes["parent_id"] = parent_id
    if "leader" in values:
        changes["leader_id"] = _person_id(conn, values["leader"], "leader", "负责人")
    if "supervisor" in values:
        changes["supervisor_id"] = _person_id(conn, values["supervisor"], "supervisor", "分管领导")
    if changes:
        org_cache.changed(conn)
        conn.execute(update(department).where(department.c.id == row.id).values(**changes))
    return changes.get("name", name)


def _ancestors(conn: Connection, dept_id: int) -> set[int]:
    """The department and every one above it."""
    seen: set[int] = set()
    current = dept_id
    while current is not None and current not in seen:
        seen.add(current)
        current = conn.execute(select(department.c.parent_id).where(department.c.id == current)).scalar()
    return seen


# --- accounts ------------------------------------------------------------------------------------------------


def user_dict(conn: Connection, user: users.User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "department": users.department_name(conn, user.department_id),
        "title": user.title,
        "email": user.email,
        "active": user.active,
        "roles": permissions.roles_of(user),
        "role_names": permissions.role_names(user),
        "business_roles": sorted(users.user_roles(conn, user.id)),
        "must_change_password": user.must_change_password,
    }


def list_users(conn: Connection, q: str = "", department_name: str = "") -> list[dict]:
    """Every account (active or not) by department, narrowed by a name or username and a department."""
    query = select(user_account).order_by(user_account.c.department_id, user_account.c.id)
    if q:
        pattern = f"%{q}%"
        query = query.where(user_account.c.username.like(pattern) | user_account.c.display_name.like(pattern))
    if department_name:
        query = query.join(department, department.c.id == user_account.c.department_id).where(
            department.c.name == department_name
        )
    return [user_dict(conn, users.User.from_row(row)) for row in conn.execute(query)]


def role_codes(value, field: str = "roles") -> list[str]:
    """Administrators' roles from a list of codes or names (系统管理员, process_admin …), or one text
    separated by 、 , ; — 普通用户 (or nothing) is none of them."""
    if isinstance(value, str):
        value = [
            part for part in value.replace("；", ";").replace("，", ";").replace(",", ";").replace("、", ";").split(";")
        ]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidData([FieldError(field, "角色必须是角色名称的列表")])
    codes: list[str] = []
    for item in (v.strip() for v in value):
        code = ROLE_BY_LABEL.get(item, item)
        if not item or code == permissions.ORDINARY:
            continue
        if code not in permissions.GRANTABLE:
            names = "、".join(permissions.ROLE_LABELS.values())
            raise InvalidData([FieldError(field, f"角色“{item}”不存在（可选：{names}）")])
        if code not in codes:
            codes.append(code)
    return codes


def business_role_names(value, field: str = "business_roles") -> list[str]:
    """Business roles (文书, 分管领导 …: the `role:X` of assignee rules), from a list or a text like role_codes."""
    if isinstance(value, str):
        value = value.replace("；", ";").replace("、", ";").replace(",", ";").replace("，", ";").split(";")
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidData([FieldError(field, "业务角色必须是名称的列表")])
    return [fields.text(v, field, "业务角色", max_length=NAME_MAX) for v in value if v.strip()]


def create_user(conn: Connection, values: dict) -> tuple[users.User, str]:
    """新建用户: 登录名, 姓名, 部门, 岗位, 邮箱, roles, business roles; the password given (or a generated
    one) is to be changed at the first sign-in. Returns the account and the one-time password."""
    display = fields.text(values.get("display_name"), "display_name", "姓名", max_length=NAME_MAX, required=True)
    title = fields.optional_text(values.get("title"), "title", "岗位", max_length=NAME_MAX)
    email = fields.optional_text(values.get("email"), "email", "邮箱", max_length=255)
    password = fields.text(values.get("password"), "password", "初始密码", max_length=128) or one_time_password()
    codes = role_codes(values.get("roles"))
    business = business_role_names(values.get("business_roles"))
    username = fields.text(values.get("username"), "username", "登录名", max_length=64, required=True)
    user = users.create_user(
        conn,
        username,
        display,
        password,
        fields.text(values.get("department"), "department", "部门", max_length=NAME_MAX) or None,
        roles=tuple(business),
        email=email,
        title=title,
    )
    conn.execute(
        update(user_account)
        .where(user_account.c.id == user.id)
        .values(must_change_password=True, **{ROLE_FLAGS[c]: True for c in codes})
    )
    return users.get_user(conn, user.id), password


def update_user(conn: Connection, username: str, values: dict) -> users.User:
    """编辑用户: only the keys given change — 姓名, 部门 (移动), 岗位, 邮箱, roles, business roles, active
    (停用/启用). Sessions of a deactivated account are ended by the caller's command."""
    user = users.find_user(conn, username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    changes: dict = {}
    if "display_name" in values:
        changes["display_name"] = fields.text(
            values["display_name"], "display_name", "姓名", max_length=NAME_MAX, required=True
        )
    if "department" in values:
        changes["department_id"] = _department_id(conn, values["department"], "department", "部门")
    if "title" in values:
        changes["title"] = fields.optional_text(values["title"], "title", "岗位", max_length=NAME_MAX)
    if "email" in values:
        changes["email"] = fields.optional_text(values["email"], "email", "邮箱", max_length=255)
    if "roles" in values:
        codes = role_codes(values["roles"])
        changes.update({flag: code in codes for code, flag in ROLE_FLAGS.items()})
    if "active" in values:
        if not isinstance(values["active"], bool):
            raise InvalidData([FieldError("active", "active 必须是 true 或 false")])
        changes["active"] = values["active"]
    business = business_role_names(values["business_roles"]) if "business_roles" in values else None
    org_cache.changed(conn)
    if changes:
        conn.execute(update(user_account).where(user_account.c.id == user.id).values(**changes))
    if business is not None:
        conn.execute(delete(user_role).where(user_role.c.user_id == user.id))
        for name in business:
            users.grant_role(conn, user.id, name)
    return users.get_user(conn, user.id)


def reset_password(conn: Connection, username: str, password: str | None = None) -> tuple[users.User, str]:
    """重置密码: a new one-time password (given, or generated), to be changed at the next sign-in."""
    user = users.find_user(conn, username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    password = fields.text(password, "password", "新密码", max_length=128) or one_time_password()
    if users.password_too_short(password):
        raise InvalidData([FieldError("password", f"密码至少 {users.MIN_PASSWORD_LENGTH} 个字符")])
    org_cache.changed(conn)
    conn.execute(
        update(user_account)
        .where(user_account.c.id == user.id)
        .values(password_hash=users.hash_password(password), must_change_password=True)
    )
    return users.get_user(conn, user.id), password


def business_roles(conn: Connection) -> list[str]:
    """Every business role's name (the pickers offer them)."""
    return list(conn.execute(select(role.c.name).order_by(role.c.name)).scalars())
