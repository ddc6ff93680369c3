"""The sign-in throttle: failed sign-ins counted per account and per client address, in a table every web
process shares (login_throttle).

The rules:
- an account is locked after 5 failures in a row, a client address after 30 (on any accounts, known or
  not), each failure within 15 minutes of the one before (or of the end of a lock); 15 quiet minutes
  forget them;
- the failure that reaches the limit locks for 1 minute, and each further failure after a lock ends
  doubles the wait, up to 15 minutes (a guesser gets a handful of tries an hour);
- while locked, an attempt is refused before its password is checked (no scrypt for a guesser), even
  when the password is right;
- a successful sign-in forgets the account's failures, not the address's (one known account must not
  reset the count of an address that guesses at others).

Throttle checks and password checks are separate transactions, so a burst of parallel attempts may pass
the check together: the overshoot is bounded by the server's threads.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.errors import TooManyAttempts
from engine.store.tables_auth import login_throttle

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30
QUIET = timedelta(minutes=15)
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)

_START = {
    "sqlite": sqlite_insert(login_throttle).on_conflict_do_nothing(),
    "postgresql": pg_insert(login_throttle).on_conflict_do_nothing(),
}


def counters(username: str, address: str | None) -> dict[str, int]:
    """The counters one sign-in attempt counts on, each with its limit."""
    keys = {"u:" + (username or "").strip()[:150]: ACCOUNT_LIMIT}
    if address:
        keys["a:" + address[:150]] = ADDRESS_LIMIT
    return keys


def check(conn: Connection, keys, now: datetime) -> None:
    """TooManyAttempts while any of these counters is locked."""
    until = conn.execute(
        select(login_throttle.c.locked_until).where(
            login_throttle.c.key.in_(list(keys)), login_throttle.c.locked_until > now
        )
    ).scalars()
    latest = max(until, default=None)
    if latest is not None:
        raise refusal(latest - now)


def record_failure(conn: Connection, keys: dict[str, int], now: datetime) -> timedelta | None:
    """Count one failure on each counter; the wait it starts, if it reached a limit."""
    longest = None
    for key, limit in keys.items():
        conn.execute(_START[conn.dialect.name].values(key=key, failures=0, last_failed_at=now))
        row = conn.execute(
            select(login_throttle.c.failures, login_throttle.c.last_failed_at, login_throttle.c.locked_until)
            .where(login_throttle.c.key == key)
            .with_for_update()
        ).one()
        quiet_since = max(row.last_failed_at, row.locked_until or row.last_failed_at)
        failures = row.failures + 1 if now - quiet_since <= QUIET else 1
        wait = _wait(failures, limit)
        conn.execute(
            update(login_throttle)
            .where(login_throttle.c.key == key)
            .values(failures=failures, last_failed_at=now, locked_until=now + wait if wait else None)
        )
        if wait and (longest is None or wait > longest):
            longest = wait
    return longest


def forget(conn: Connection, username: str) -> None:
    """A successful sign-in: the account's failures are forgotten (the address's are not)."""
    conn.execute(delete(login_throttle).where(login_throttle.c.key == "u:" + (username or "").strip()[:150]))


def prune(conn: Connection, now: datetime) -> None:
    """Drop the counters that count nothing any more: quiet for QUIET since their last failure and its lock
    (a lock ends at most LONGEST_WAIT after the failure that set it)."""
    conn.execute(delete(login_throttle).where(login_throttle.c.last_failed_at < now - QUIET - LONGEST_WAIT))


def refusal(wait: timedelta) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyAttempts(f"登录失败次数过多，请 {minutes} 分钟后再试（忘记密码请联系管理员重置）", seconds)


def _wait(failures: int, limit: int) -> timedelta | None:
    if failures < limit:
        return None
    return min(LONGEST_WAIT, FIRST_WAIT * 2 ** min(failures - limit, 16))
