"""The transaction boundary: after-commit callbacks, and pooled PostgreSQL connections that went away."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select, text, update

from engine import db as dbmod
from engine.core import Core
from engine.db import after_commit, user_account


def test_after_commit_runs_only_once_the_transaction_committed(core):
    ran = []
    with core.db.write() as conn:
        after_commit(conn, lambda: ran.append("first"))
        conn.execute(update(user_account).where(user_account.c.username == "lisi").values(title="专员"))
        assert ran == []
    assert ran == ["first"]

    with pytest.raises(RuntimeError):
        with core.db.write() as conn:
            after_commit(conn, lambda: ran.append("rolled back"))
            raise RuntimeError("boom")
    with core.db.read() as conn:  # the same pooled connection: nothing left over from the failed one
        after_commit(conn, lambda: ran.append("read"))
    assert ran == ["first", "read"]


@pytest.mark.postgres
def test_a_pooled_connection_killed_while_idle_is_replaced(pg_server, monkeypatch):
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)
    url = pg_server.fresh()
    core = Core(url=url)
    try:
        with core.db.read() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        # Another client kills the pooled connection while it sits idle, as a server restart would.
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
        with core.db.read() as conn:
            assert conn.execute(select(user_account.c.username).where(user_account.c.username == "lisi")).scalar()
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first_pid
    finally:
        core.db.dispose()
        pg_server.drop(url)


def test_reading_connections_refuse_to_write(core):
    from engine.db import ReadOnly
    from engine.fastsql import Prepared

    statement = update(user_account).where(user_account.c.username == "lisi").values(title="专员")
    for opened in (core.db.read, core.db.lookup):
        for attempt in (statement, Prepared(statement)):
            with pytest.raises(ReadOnly, match="UPDATE user_account"):
                with opened() as conn:
                    conn.execute(attempt)
    with core.db.read() as conn:
        assert conn.execute(select(user_account.c.title).where(user_account.c.username == "lisi")).scalar() != "专员"
