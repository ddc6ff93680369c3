"""Organisation: departments (a tree, each with a leader and optionally a 分管领导), users, roles."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from engine import fields
from engine.errors import ADMIN_ONLY, FieldError, Forbidden, InvalidData, NotFound
from engine.org import cache as org_cache
from engine.store.fastsql import Prepared
from engine.store.tables import department, role, user_account, user_role, utcnow


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    department_id: int | None
    is_admin: bool
    active: bool = True
    email: str | None = None
    title: str | None = None
    is_process_admin: bool = False  # 流程管理员 (engine.org.permissions says what each role may do)
    is_file_admin: bool = False  # 文件管理员
    must_change_password: bool = False  # an administrator chose the password: change it first

    @classmethod
    def from_row(cls, row) -> User:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            department_id=row.department_id,
            is_admin=bool(row.is_admin),
            active=bool(row.active),
            email=row.email,
            title=row.title,
            is_process_admin=bool(row.is_process_admin),
            is_file_admin=bool(row.is_file_admin),
            must_change_password=bool(row.must_change_password),
        )

    def as_dict(self) -> dict:
        return {"username": self.username, "display_name": self.display_name}


_USER_COLUMNS = (
    user_account.c.id,
    user_account.c.username,
    user_account.c.display_name,
    user_account.c.department_id,
    user_account.c.is_admin,
    user_account.c.active,
    user_account.c.email,
    user_account.c.title,
    user_account.c.is_process_admin,
    user_account.c.is_file_admin,
    user_account.c.must_change_password,
)


# Statements on the hot path are built once and run by engine.fastsql: building, cache-keying and executing
# a statement through SQLAlchemy costs several times what SQLite takes to run it (BENCHMARKS.md).
_USER_BY_ID = Prepared(select(*_USER_COLUMNS).where(user_account.c.id == bindparam("user_id")))
_USER_BY_NAME = Prepared(select(*_USER_COLUMNS).where(user_account.c.username == bindparam("username")))
_USERS_BY_IDS = select(*_USER_COLUMNS).where(user_account.c.id.in_(bindparam("ids", expanding=True)))
_DEPARTMENT_LEADER = Prepared(select(department.c.leader_id).where(department.c.name == bindparam("name")))
_DEPARTMENT_BY_NAME = Prepared(select(department.c.id).where(department.c.name == bindparam("name")))
_MEMBERS = Prepared(
    select(*_USER_COLUMNS)
    .where(user_account.c.department_id == bindparam("dept_id"), user_account.c.active.is_(True))
    .order_by(user_account.c.id)
)
_DEPARTMENT = Prepared(
    select(department.c.id, department.c.parent_id, department.c.leader_id, department.c.supervisor_id).where(
        department.c.id == bindparam("dept_id")
    )
)


def get_user(conn: Connection, user_id: int) -> User | None:
    def load():
        row = conn.execute(_USER_BY_ID, {"user_id": user_id}).first()
        return User.from_row(row) if row else None

    return org_cache.lookup(conn, ("user", user_id), load)


def find_user(conn: Connection, username: str) -> User | None:
    def load():
        row = conn.execute(_USER_BY_NAME, {"username": username}).first()
        return User.from_row(row) if row else None

    return org_cache.lookup(conn, ("username", username), load)


def require_user(conn: Connection, username: str) -> User:
    user = find_user(conn, username)
    if user is None or not user.active:
        raise NotFound(f"用户 '{username}' 不存在")
    return user


def require_admin(conn: Connection, username: str, message: str = ADMIN_ONLY) -> User:
    """The acting administrator, by username: NotFound for an unknown or inactive user, Forbidden with
    `message` for anyone who is not an administrator."""
    user = require_user(conn, username)
    if not user.is_admin:
        raise Forbidden(message)
    return user


def users_by_ids(conn: Connection, ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    if len(ids) <= 20:  # the common case: each one from the organisation cache
        found = {user_id: get_user(conn, user_id) for user_id in ids}
        return {user_id: user for user_id, user in found.items() if user is not None}
    rows = conn.execute(_USERS_BY_IDS, {"ids": sorted(ids)})
    return {row.id: User.from_row(row) for row in rows}


MIN_PASSWORD_LENGTH = 8


def password_too_short(password: str) -> bool:
    return len(password or "") < MIN_PASSWORD_LENGTH


def account_for_sign_in(conn: Connection, username: str) -> tuple[User | None, str | None]:
    """The account a sign-in names (active or not) and its password hash; (None, None) for no account."""
    row = conn.execute(select(user_account).where(user_account.c.username == (username or "").strip())).first()
    return (User.from_row(row), row.password_hash) if row else (None, None)


def password_hash_of(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(user_account.c.password_hash).where(user_account.c.id == user_id)).scalar()


def password_matches(pwhash: str | None, password) -> bool:
    """Whether `password` opens `pwhash`. The same work either way: with no account to check against, a
    dummy hash of the same kind is checked, so the time taken does not tell which user names exist."""
    password = password if isinstance(password, str) else ""
    matched = check_password_hash(pwhash or _dummy_hash(), password)
    return matched and pwhash is not None


def hash_password(password: str) -> str:
    """The salted scrypt hash a password is stored as."""
    return generate_password_hash(password)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def set_password(conn: Connection, user_id: int, new_hash: str, *, was: str) -> bool:
    """Store a new password hash, only if the stored one is still `was` (no concurrent change)."""
    changed = conn.execute(
        update(user_account)
        .where(user_account.c.id == user_id, user_account.c.password_hash == was)
        .values(password_hash=new_hash, must_change_password=False)
    )
    return changed.rowcount == 1


def deactivate(conn: Connection, username: str) -> User:
    """停用 an account: it signs in no more and is assigned no new work."""
    user = find_user(conn, username)
    if user is None:
        raise NotFound(f"用户 '{username}' 不存在")
    org_cache.changed(conn)
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(active=False))
    return user


def create_user(
    conn: Connection,
    username: str,
    display_name: str,
    password: str,
    department_name: str | None = None,
    *,
    is_admin: bool = False,
    roles: tuple[str, ...] = (),
    email: str | None = None,
    title: str | None = None,
) -> User:
    """Create an account; the password is stored only as a salted scrypt hash."""
    errors = []
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        errors.append(FieldError("username", "用户名只能包含字母、数字、下划线和点"))
    if password_too_short(password):
        errors.append(FieldError("password", f"密码至少 {MIN_PASSWORD_LENGTH} 个字符"))
    if find_user(conn, username or ""):
        errors.append(FieldError("username", f"用户名 '{username}' 已存在"))
    dept_id = None
    if department_name:
        dept_id = conn.execute(select(department.c.id).where(department.c.name == department_name)).scalar()
        if dept_id is None:
            errors.append(FieldError("department", f"部门 '{department_name}' 不存在"))
    if errors:
        raise InvalidData(errors)
    org_cache.changed(conn)
    user_id = conn.execute(
        insert(user_account).values(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            department_id=dept_id,
            is_admin=is_admin,
            active=True,
            email=email,
            title=title,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    for name in roles:
        grant_role(conn, user_id, name)
    return get_user(conn, user_id)


def ensure_role(conn: Connection, name: str) -> int:
    role_id = conn.execute(select(role.c.id).where(role.c.name == name)).scalar()
    if role_id is None:
        org_cache.changed(conn)
        role_id = conn.execute(insert(role).values(name=name)).inserted_primary_key[0]
    return role_id


def grant_role(conn: Connection, user_id: int, name: str) -> None:
    role_id = ensure_role(conn, name)
    exists = conn.execute(
        select(user_role.c.user_id).where(user_role.c.user_id == user_id, user_role.c.role_id == role_id)
    ).first()
    if not exists:
        org_cache.changed(conn)
        conn.execute(insert(user_role).values(user_id=user_id, role_id=role_id))


# The administrators' roles (engine.org.permissions) as an assignee rule names them: `role:系统管理员` is
# every active 系统管理员 (the 信息部门 step of 账号申请), not a role in the role table.
ADMIN_ROLE_COLUMNS = {
    "系统管理员": user_account.c.is_admin,
    "流程管理员": user_account.c.is_process_admin,
    "文件管理员": user_account.c.is_file_admin,
}


def role_members(conn: Connection, name: str) -> list[int]:
    column = ADMIN_ROLE_COLUMNS.get(name)
    if column is not None:
        query = select(user_account.c.id).where(column.is_(True), user_account.c.active.is_(True))
        return list(conn.execute(query.order_by(user_account.c.id)).scalars())
    rows = conn.execute(
        select(user_role.c.user_id)
        .join(role, role.c.id == user_role.c.role_id)
        .join(user_account, user_account.c.id == user_role.c.user_id)
        .where(role.c.name == name, user_account.c.active.is_(True))
        .order_by(user_role.c.user_id)
    )
    return [row.user_id for row in rows]


def create_department(
    conn: Connection, name: str, parent: str | None = None, leader_id=None, supervisor_id=None
) -> int:
    parent_id = None
    if parent:
        parent_id = conn.execute(select(department.c.id).where(department.c.name == parent)).scalar_one()
    org_cache.changed(conn)
    return conn.execute(
        insert(department).values(name=name, parent_id=parent_id, leader_id=leader_id, supervisor_id=supervisor_id)
    ).inserted_primary_key[0]


def set_department_leaders(conn: Connection, name: str, leader_id=None, supervisor_id=None) -> None:
    values = {}
    if leader_id is not None:
        values["leader_id"] = leader_id
    if supervisor_id is not None:
        values["supervisor_id"] = supervisor_id
    org_cache.changed(conn)
    conn.execute(update(department).where(department.c.name == name).values(**values))


def department_leader(conn: Connection, name: str) -> int | None:
    load = lambda: conn.execute(_DEPARTMENT_LEADER, {"name": name}).scalar()  # noqa: E731
    return org_cache.lookup(conn, ("leader of", name), load)


def _department(conn: Connection, dept_id: int):
    load = lambda: conn.execute(_DEPARTMENT, {"dept_id": dept_id}).first()  # noqa: E731
    return org_cache.lookup(conn, ("department", dept_id), load)


def department_name(conn: Connection, dept_id: int | None) -> str | None:
    if dept_id is None:
        return None
    return conn.execute(select(department.c.name).where(department.c.id == dept_id)).scalar()


def leader_chain(conn: Connection, dept_id: int | None, limit: int | None = None) -> list[int]:
    """The leaders above a department's members, nearest first: its leader, its 分管领导, then the same
    for each parent department. Consecutive repeats collapse (one person leading two levels).
    `limit`: stop climbing once that many are known (one small query per department level)."""
    chain: list[int] = []
    seen_depts = set()
    current = _department(conn, dept_id) if dept_id is not None else None
    while current is not None and current.id not in seen_depts and (limit is None or len(chain) < limit):
        seen_depts.add(current.id)
        for person in (current.leader_id, current.supervisor_id):
            if person is not None and (not chain or chain[-1] != person) and person not in chain:
                chain.append(person)
        parent = current.parent_id
        current = _department(conn, parent) if parent is not None else None
    return chain


def user_roles(conn: Connection, user_id: int) -> set[str]:
    rows = conn.execute(
        select(role.c.name).join(user_role, user_role.c.role_id == role.c.id).where(user_role.c.user_id == user_id)
    )
    return {row.name for row in rows}


def matches_any(conn: Connection, user: User, rules: list[str]) -> bool:
    """Whether a user fits one of `role:X`, `dept:X`, `user:X` (used for who may start a process)."""
    if not rules:
        return True
    roles = None
    dept = department_name(conn, user.department_id)
    for rule in rules:
        kind, _, arg = rule.partition(":")
        if kind == "user" and arg == user.username:
            return True
        if kind == "dept" and arg == dept:
            return True
        if kind == "role":
            roles = roles if roles is not None else user_roles(conn, user.id)
            if arg in roles:
                return True
    return False


def pick(conn: Connection, usernames, field: str, *, exclude: int | None = None) -> list[User]:
    """The active users a picker named (one username or a list), each once, in order; errors name `field`.
    `exclude`: the one who picks (转办, 加签 … to oneself make no sense)."""
    if isinstance(usernames, str):
        usernames = [usernames]
    if isinstance(usernames, list):
        usernames = [name for name in usernames if isinstance(name, str) and name.strip()]
    if not isinstance(usernames, list) or not usernames:
        raise InvalidData([FieldError(field, "请至少选择一个人")])
    found: list[User] = []
    for name in usernames:
        user = find_user(conn, name.strip())
        if user is None or not user.active:
            raise InvalidData([FieldError(field, f"用户 '{name}' 不存在")])
        if exclude is not None and user.id == exclude:
            raise InvalidData([FieldError(field, "不能选择自己")])
        if user.id not in {u.id for u in found}:
            found.append(user)
    return found


def department_members(conn: Connection, names, field: str) -> list[User]:
    """The active members of the departments a picker named (by name), in the departments' order; a name
    that is no department is an error naming `field`. An empty or missing value names nobody."""
    if isinstance(names, str):
        names = [names]
    if names is None or names == []:
        return []
    if not isinstance(names, list):
        raise InvalidData([FieldError(field, "部门必须是部门名称的列表")])
    found: list[User] = []
    for name in [fields.text(n, field, "部门", max_length=100) for n in names]:
        if not name:
            continue
        dept_id = conn.execute(_DEPARTMENT_BY_NAME, {"name": name}).scalar()
        if dept_id is None:
            raise InvalidData([FieldError(field, f"部门 '{name}' 不存在")])
        for row in conn.execute(_MEMBERS, {"dept_id": dept_id}):
            if row.id not in {u.id for u in found}:
                found.append(User.from_row(row))
    return found


def names_of(people) -> str:
    return "、".join(u.display_name for u in people)
