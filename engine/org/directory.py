"""The directory (通讯录): the active people by department, as the pickers of 转办, 委派, 加签, 知会, 传阅 and
代理 offer them, the departments, and display names for usernames."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.store.tables import department, user_account


def active_users(conn: Connection) -> list[dict]:
    """Every active user, by department: the options of a user field in a form."""
    rows = conn.execute(
        select(user_account.c.username, user_account.c.display_name)
        .where(user_account.c.active.is_(True))
        .order_by(user_account.c.department_id, user_account.c.id)
    )
    return [{"username": row.username, "display_name": row.display_name} for row in rows]


def picker_groups(conn: Connection, exclude=()) -> list[tuple[str, list[dict]]]:
    """Active users by department, without `exclude` (usernames): [(department, [users])]."""
    rows = conn.execute(
        select(user_account.c.username, user_account.c.display_name, department.c.name.label("department"))
        .outerjoin(department, department.c.id == user_account.c.department_id)
        .where(user_account.c.active.is_(True))
        .order_by(user_account.c.department_id, user_account.c.id)
    )
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row.username not in exclude:
            person = {"username": row.username, "display_name": row.display_name}
            groups.setdefault(row.department or "其他", []).append(person)
    return list(groups.items())


def department_names(conn: Connection) -> list[str]:
    """Every department's name, in the order they were set up: the 传阅 form offers them."""
    return [row.name for row in conn.execute(select(department.c.name).order_by(department.c.id))]


def department_name(conn: Connection, department_id: int | None) -> str | None:
    """The name of a department (None for none)."""
    if department_id is None:
        return None
    return conn.execute(select(department.c.name).where(department.c.id == department_id)).scalar()


def names_of(conn: Connection, usernames) -> dict[str, str]:
    """username → display name, for the usernames that exist."""
    wanted = set(usernames)
    if not wanted:
        return {}
    rows = conn.execute(
        select(user_account.c.username, user_account.c.display_name).where(user_account.c.username.in_(wanted))
    )
    return {row.username: row.display_name for row in rows}


def display_names(core, usernames: list[str]) -> str:
    """The people's names, joined the Chinese way (、), in the order given; an unknown username stays as is."""
    if not usernames:
        return ""
    with core.db.read() as conn:
        found = names_of(conn, usernames)
    return "、".join(found.get(name, name) for name in usernames)
