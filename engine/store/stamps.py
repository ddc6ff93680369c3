"""Change stamps: the settings rows that tell a process its in-memory copies are still current.

`org_version` (engine.org.cache) and `calendar_version` (engine.time.office_hours) are read together, once
per transaction: most commands need both, and each read is a round trip on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from engine.store.fastsql import Prepared
from engine.store.tables import setting

NAMES = ("org_version", "calendar_version")
_STAMPS = Prepared(select(setting.c.key, setting.c.value).where(or_(*(setting.c.key == name for name in NAMES))))
_MEMO = "oaflow_stamps"  # conn.info: (transaction, {name: value})


def read(conn: Connection, name: str) -> str | None:
    """This transaction's value of a stamp (None when the row is missing)."""
    memo = conn.info.get(_MEMO)
    if memo is None or memo[0] is not conn.get_transaction():
        values = {row.key: row.value for row in conn.execute(_STAMPS)}
        memo = conn.info[_MEMO] = (conn.get_transaction(), values)  # the query began one if there was none
    return memo[1].get(name)


def columns() -> list:
    """The stamps as columns another statement can carry (one scalar subquery each, labelled by name), so
    that a transaction's first statement brings them along (`keep`) instead of a statement of their own."""
    return [select(setting.c.value).where(setting.c.key == name).scalar_subquery().label(name) for name in NAMES]


def keep(conn: Connection, row) -> None:
    """This transaction's stamps, from a row that carried `columns()`."""
    conn.info[_MEMO] = (conn.get_transaction(), {name: getattr(row, name) for name in NAMES})


def forget(conn: Connection) -> None:
    """This transaction changed a stamp: read them again."""
    conn.info.pop(_MEMO, None)
