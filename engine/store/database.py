"""The transaction boundary: one SQLAlchemy engine per database, and the read and write transactions
commands open on it.

SQLite: a write transaction starts with BEGIN IMMEDIATE so two writers queue on the busy timeout instead
of failing with "database is locked" (DESIGN §8). PostgreSQL: commands lock rows with SELECT … FOR UPDATE
inside `write()`; reads run in autocommit.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import (
    create_engine,
    event,
    exc,
)
from sqlalchemy.engine import Connection, Engine

from engine.store.sqlite_checkpoint import SAFETY_NET_PAGES, Checkpointer


def default_data_dir() -> Path:
    return Path(os.environ.get("OAFLOW_DATA_DIR") or Path.cwd() / "oaflow-data")


def database_url(url: str | None = None, data_dir: Path | None = None) -> str:
    """The database URL: explicit, else OAFLOW_DATABASE_URL, else SQLite in the data directory."""
    url = url or os.environ.get("OAFLOW_DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'oaflow.sqlite3'}"


# A pooled PostgreSQL connection idle for longer than this is pinged before use.
IDLE_PING_SECONDS = 5.0


class ReadOnly(RuntimeError):
    """A statement that writes, on a connection from Database.read() or lookup(): a programming error
    (on PostgreSQL those connections commit each statement on its own)."""

    def __init__(self, statement: str):
        super().__init__(f"write on a read-only connection: {statement.split(chr(10))[0][:120]}")


_AFTER_COMMIT = "oaflow_after_commit"


_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def after_commit(conn: Connection, callback) -> None:
    """Run `callback()` once the transaction of `conn` (opened by Database.write/read) has committed;
    never when it rolls back. Callbacks must not touch the database."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(callback)


@contextlib.contextmanager
def _running_after_commit(conn: Connection) -> Iterator[None]:
    conn.info.pop(_AFTER_COMMIT, None)  # the pooled connection's info outlives transactions
    try:
        yield
    except BaseException:
        conn.info.pop(_AFTER_COMMIT, None)
        raise
    for callback in conn.info.pop(_AFTER_COMMIT, ()):
        callback()


class Database:
    """Owns the SQLAlchemy engine and opens read or write transactions.

    SQLite: a write transaction starts with BEGIN IMMEDIATE so two writers queue on the busy timeout
    instead of failing with "database is locked" (DESIGN §8). PostgreSQL: callers lock rows with
    SELECT … FOR UPDATE inside `write()`.
    """

    def __init__(self, url: str | None = None, *, echo: bool = False):
        self.url = database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(self.url, **kwargs)
        self._checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            path = self.engine.url.database
            if path and path != ":memory:" and not path.startswith("file::memory:"):
                self._checkpointer = Checkpointer(path)
            self._configure_sqlite(self.engine, own_checkpoints=self._checkpointer is not None)
        else:
            self._ping_when_idle(self.engine)
        self._refuse_writes_when_reading(self.engine)

    @staticmethod
    def _ping_when_idle(engine: Engine) -> None:
        """Check a pooled connection before use only when it sat idle for a while (a server restart or a
        dropped idle connection): SQLAlchemy's pool_pre_ping would add a round trip to every transaction.
        A connection that fails the ping is replaced (the pool retries the checkout)."""

        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_connection, record):
            record.info["oaflow_idle_since"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_connection, record, _proxy):
            idle_since = record.info.get("oaflow_idle_since")
            if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
                return
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as error:
                raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error

    @staticmethod
    def _refuse_writes_when_reading(engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _check(conn, _cursor, statement, _parameters, context, _executemany):
            if context is not None and (context.isinsert or context.isupdate or context.isdelete):
                if conn.get_execution_options().get("oaflow_read_only"):
                    raise ReadOnly(statement)

    @staticmethod
    def _configure_sqlite(engine: Engine, *, own_checkpoints: bool) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if own_checkpoints:  # engine.sqlite_checkpoint does it; SQLite only past the safety net
                cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode is not None:  # None: Database.lookup, each statement on its own
                # On the driver's connection: SQLAlchemy's execute path costs more than BEGIN itself.
                conn.connection.driver_connection.execute(_BEGIN[mode])

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One command, one transaction: commit on success, roll back on any exception."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with _running_after_commit(conn), conn.begin():
                yield conn
        if self._checkpointer is not None:
            self._checkpointer.committed()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """Queries only (writing raises). SQLite: one snapshot for all of them. PostgreSQL: autocommit,
        which at READ COMMITTED shows each statement what a transaction would, without the BEGIN and
        COMMIT round trips."""
        with self._reading(snapshot=True) as conn:
            yield conn

    @contextlib.contextmanager
    def lookup(self) -> Iterator[Connection]:
        """Reads that need no snapshot of their own (one lookup: who is calling): each statement sees the
        latest committed data; no BEGIN on SQLite either."""
        with self._reading(snapshot=False) as conn:
            yield conn

    @contextlib.contextmanager
    def _reading(self, *, snapshot: bool) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(oaflow_read_only=True, sqlite_begin="DEFERRED" if snapshot else None)
            else:
                conn = conn.execution_options(oaflow_read_only=True, isolation_level="AUTOCOMMIT")
            with _running_after_commit(conn), conn.begin():
                yield conn

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
