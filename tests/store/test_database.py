"""The transaction boundary: after-commit callbacks, and pooled PostgreSQL connections that went away."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest
from sqlalchemy import select, text, update

from engine.core import Core
from engine.store import database as dbmod
from engine.store.database import Database, ReadOnly, after_commit
from engine.store.fastsql import Prepared
from engine.store.sqlite_checkpoint import THREAD_NAME
from engine.store.tables import setting, user_account


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

    statement = update(user_account).where(user_account.c.username == "lisi").values(title="专员")
    for opened in (core.db.read, core.db.lookup):
        for attempt in (statement, Prepared(statement)):
            with pytest.raises(ReadOnly, match="UPDATE user_account"):
                with opened() as conn:
                    conn.execute(attempt)
    with core.db.read() as conn:
        assert conn.execute(select(user_account.c.title).where(user_account.c.username == "lisi")).scalar() != "专员"


def test_sqlite_write_ahead_log_is_copied_back_by_the_background_thread(tmp_path):
    """Commands no longer pay for checkpoints: a thread copies the log into the database file."""

    path = tmp_path / "checkpoint.sqlite3"
    running = _checkpointers()  # other tests' databases may still have theirs
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.begin() as conn:
            setting.create(conn)
        with db.write() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
            conn.execute(setting.insert(), [{"key": f"k{n}", "value": "x" * 4000} for n in range(500)])
        before = os.path.getsize(path)
        deadline = time.monotonic() + 5
        while os.path.getsize(path) < before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.getsize(path) >= before + 1_000_000  # ~2 MB of rows reached the database file
        assert _checkpointers() == running + 1
    finally:
        db.dispose()
    assert _checkpointers() == running
    with Database(f"sqlite:///{path}").read() as conn:
        assert conn.execute(select(setting.c.value).where(setting.c.key == "k499")).scalar() == "x" * 4000


def _checkpointers() -> int:

    return sum(1 for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive())
