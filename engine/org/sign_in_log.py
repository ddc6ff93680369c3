"""The 登录日志: every sign-in attempt, kept for the retention the administrators set (at least 180 days).

`record` is called by the sign-in command (engine.org.accounts) in its own transaction; `purge` by the
scheduler once a day. The retention is a setting; a purge never removes a row younger than 180 days,
whatever the setting says."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine import fields
from engine.org import users
from engine.store.tables import setting, utcnow
from engine.store.tables_logs import login_log

RETENTION_KEY = "logs.retention_days"  # setting: how many days the 登录日志 is kept
MIN_RETENTION_DAYS = 180
LOGS_ADMINS_ONLY = "只有管理员可以查看和设置日志"
MAX_RETENTION_DAYS = 3650
_USERNAME = login_log.c.username.type.length
_ADDRESS = login_log.c.address.type.length
_REASON = login_log.c.reason.type.length


def record(
    conn: Connection,
    username: str,
    *,
    user_id: int | None,
    address: str | None,
    kind: str,
    success: bool,
    reason: str | None,
    at: datetime,
) -> None:
    """One attempt: the name as typed (cut to the column), the account it named, the client's address."""
    conn.execute(
        insert(login_log).values(
            at=at,
            username=(username or "")[:_USERNAME],
            user_id=user_id,
            address=(address or "")[:_ADDRESS] or None,
            kind=kind,
            success=success,
            reason=(reason or "")[:_REASON] or None,
        )
    )


def retention_days(conn: Connection) -> int:
    value = conn.execute(select(setting.c.value).where(setting.c.key == RETENTION_KEY)).scalar()
    return max(MIN_RETENTION_DAYS, int(value)) if value and value.isdigit() else MIN_RETENTION_DAYS


def set_retention_days(conn: Connection, days) -> int:
    """Keep the 登录日志 `days` days (180 to 3650): a shorter time is refused, naming the field."""
    if isinstance(days, str) and days.strip().isdigit():  # a form's field
        days = int(days.strip())
    days = fields.integer(days, "retention_days", "保留天数", low=MIN_RETENTION_DAYS, high=MAX_RETENTION_DAYS)
    if conn.execute(select(setting.c.key).where(setting.c.key == RETENTION_KEY)).first():
        conn.execute(update(setting).where(setting.c.key == RETENTION_KEY).values(value=str(days)))
    else:
        conn.execute(insert(setting).values(key=RETENTION_KEY, value=str(days)))
    return days


def purge(conn: Connection, now: datetime) -> int:
    """Remove the attempts older than the retention (never younger than 180 days); how many went."""
    cutoff = now - timedelta(days=retention_days(conn))
    return conn.execute(delete(login_log).where(login_log.c.at < cutoff)).rowcount


def set_retention(core, username: str, days) -> int:
    """Set how many days the 登录日志 is kept (administrators)."""
    with core.db.write() as conn:
        users.require_admin(conn, username, LOGS_ADMINS_ONLY)
        return set_retention_days(conn, days)


def purge_old(core, now: datetime | None = None) -> int:
    """The scheduler's daily purge of the attempts older than the retention."""
    with core.db.write() as conn:
        return purge(conn, now or utcnow())
