"""Server-side sessions: a browser session (web) or an API token (api) is a row of auth_session, so that
what the server ends stays ended, wherever a copy of the cookie or the token went.

The client holds a random secret; the row is stored under its SHA-256, so neither a copied database nor
the signing key opens a session. A session lasts `max_age` seconds from its start (the caller's setting);
signing out, a password change and deactivating the account delete rows.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection

from engine.store import stamps
from engine.store.fastsql import Prepared
from engine.store.tables_auth import auth_session

WEB = "web"
API = "api"
_LONGEST_SECRET = 128

# The session and, in the same statement, the change stamps the organisation cache needs next to answer
# who its holder is without a query of its own (engine.org.cache).
_SESSION = Prepared(
    select(auth_session.c.user_id, auth_session.c.created_at, *stamps.columns()).where(
        auth_session.c.id == bindparam("id"), auth_session.c.kind == bindparam("kind")
    )
)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def start(conn: Connection, user_id: int, kind: str, now: datetime) -> str:
    """A new session for the user; the secret its client holds (stored only as its digest)."""
    secret = secrets.token_urlsafe(32)
    conn.execute(insert(auth_session).values(id=digest(secret), user_id=user_id, kind=kind, created_at=now))
    return secret


def holder(conn: Connection, secret, kind: str, max_age: float, now: datetime) -> int | None:
    """The user id of the live session of this kind the secret names, or None."""
    if not isinstance(secret, str) or not secret or len(secret) > _LONGEST_SECRET:
        return None
    row = conn.execute(_SESSION, {"id": digest(secret), "kind": kind}).first()
    if row is None or now - row.created_at > timedelta(seconds=max_age):
        return None
    stamps.keep(conn, row)
    return row.user_id


def end(conn: Connection, secret) -> None:
    if isinstance(secret, str) and secret and len(secret) <= _LONGEST_SECRET:
        conn.execute(delete(auth_session).where(auth_session.c.id == digest(secret)))


def end_all(conn: Connection, user_id: int, *, keep: str | None = None) -> int:
    """End every session and token of the user but `keep` (the one making the change); how many ended."""
    statement = delete(auth_session).where(auth_session.c.user_id == user_id)
    if keep:
        statement = statement.where(auth_session.c.id != digest(keep))
    return conn.execute(statement).rowcount


def prune(conn: Connection, kind: str, max_age: float, now: datetime) -> None:
    """Drop the sessions of this kind that have run out."""
    cutoff = now - timedelta(seconds=max_age)
    conn.execute(delete(auth_session).where(auth_session.c.kind == kind, auth_session.c.created_at < cutoff))
