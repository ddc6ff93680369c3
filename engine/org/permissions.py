"""What each administrators' role may do: the one place the engine asks.

    系统管理员 (is_admin)          everything
    流程管理员 (is_process_admin)  deploy processes; the versions, migration and 流程监控 of *their* processes
    文件管理员 (is_file_admin)     the 公文 registers and 文号 (the 发文字号 counters, 作废, 预留)
    普通用户 (none of them)         their own work only

A user may hold several roles at once (a 流程管理员 who is also 文件管理员). A 流程管理员's processes are
those whose first version they deployed, and those whose newest version names them as its process
administrator (the BPMN property `admin`, docs/bpmn.md).

The role flags live on the account (engine.org.users.User), so a check costs no query except the ownership
of a process. Commands call these; the pages call them too, to show only the menus a user may open.
"""

from __future__ import annotations

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.errors import Forbidden
from engine.org.users import User
from engine.store.tables import definition

SYSTEM_ADMIN = "system_admin"
PROCESS_ADMIN = "process_admin"
FILE_ADMIN = "file_admin"
ORDINARY = "ordinary"

# code → the name the pages show; the order is the order they are listed in
ROLE_LABELS = {
    SYSTEM_ADMIN: "系统管理员",
    PROCESS_ADMIN: "流程管理员",
    FILE_ADMIN: "文件管理员",
    ORDINARY: "普通用户",
}
GRANTABLE = (SYSTEM_ADMIN, PROCESS_ADMIN, FILE_ADMIN)  # ORDINARY is having none of them

ORG_ONLY = "只有系统管理员可以管理组织与用户"
DEPLOY_ONLY = "只有系统管理员和流程管理员可以部署流程"
PROCESS_ONLY = "只有系统管理员和该流程的流程管理员可以管理此流程"
DOC_NUMBERS_ONLY = "只有系统管理员和文件管理员可以管理发文字号"


def roles_of(user: User) -> list[str]:
    """The role codes a user holds, in ROLE_LABELS order; [ORDINARY] for none."""
    held = [
        code
        for code, flag in (
            (SYSTEM_ADMIN, user.is_admin),
            (PROCESS_ADMIN, user.is_process_admin),
            (FILE_ADMIN, user.is_file_admin),
        )
        if flag
    ]
    return held or [ORDINARY]


def role_names(user: User) -> str:
    """The roles as the pages show them: 流程管理员、文件管理员."""
    return "、".join(ROLE_LABELS[code] for code in roles_of(user))


def may_administer_org(user: User) -> bool:
    """组织与用户: departments, accounts, roles, imports — the system administrators only."""
    return user.is_admin


def require_org_admin(user: User) -> None:
    if not may_administer_org(user):
        raise Forbidden(ORG_ONLY)


def may_deploy(user: User) -> bool:
    """Upload and validate process files (a new process; a new version of one's own, see may_manage_process)."""
    return user.is_admin or user.is_process_admin


def require_deployer(user: User) -> None:
    if not may_deploy(user):
        raise Forbidden(DEPLOY_ONLY)


def may_manage_doc_numbers(user: User) -> bool:
    """Who keeps the 发文字号 register (counters, 作废, 预留): 系统管理员 and 文件管理员."""
    return user.is_admin or user.is_file_admin


def require_doc_numbers(user: User) -> None:
    if not may_manage_doc_numbers(user):
        raise Forbidden(DOC_NUMBERS_ONLY)


def owned_processes(conn: Connection, user: User) -> set[str]:
    """The process keys a 流程管理员 looks after: first deployed by them, or naming them as `admin`."""
    if not user.is_process_admin:
        return set()
    first = (
        select(definition.c.process_key, func.min(definition.c.version).label("version"))
        .group_by(definition.c.process_key)
        .subquery()
    )
    owned = set(
        conn.execute(
            select(definition.c.process_key)
            .join(first, (first.c.process_key == definition.c.process_key) & (first.c.version == definition.c.version))
            .where(definition.c.deployed_by == user.id)
        ).scalars()
    )
    newest = (
        select(definition.c.process_key, func.max(definition.c.version).label("version"))
        .group_by(definition.c.process_key)
        .subquery()
    )
    for key, meta in conn.execute(
        select(definition.c.process_key, definition.c.meta).join(
            newest, (newest.c.process_key == definition.c.process_key) & (newest.c.version == definition.c.version)
        )
    ):
        if (orjson.loads(meta).get("properties") or {}).get("admin") == user.username:
            owned.add(key)
    return owned


def may_manage_process(conn: Connection, user: User, process_key: str) -> bool:
    """Versions (启用/停用, 差异), migration and new versions of a process: 系统管理员, or a 流程管理员 whose
    process it is. A key nothing is deployed under yet is anyone's who may deploy."""
    if user.is_admin:
        return True
    if not user.is_process_admin:
        return False
    exists = conn.execute(select(definition.c.id).where(definition.c.process_key == process_key).limit(1)).first()
    return exists is None or process_key in owned_processes(conn, user)


def require_process(conn: Connection, user: User, process_key: str) -> None:
    if not may_manage_process(conn, user, process_key):
        raise Forbidden(PROCESS_ONLY)


def may_monitor(conn: Connection, user: User, process_key: str) -> bool:
    """流程监控 of a process's instances (search, open, 挂起/恢复, 转办, 跳转, 终止): 系统管理员 for every
    process, a 流程管理员 for their own."""
    return user.is_admin or (user.is_process_admin and process_key in owned_processes(conn, user))


def monitored_processes(conn: Connection, user: User) -> set[str] | None:
    """The processes a user may monitor: None for all (系统管理员), else a set (empty for a 普通用户);
    a 流程监控 search filters its instances by it."""
    return None if user.is_admin else owned_processes(conn, user)


def may_open_admin(user: User) -> bool:
    """Whether the 管理 menu shows at all: any administrators' role."""
    return user.is_admin or user.is_process_admin or user.is_file_admin
