"""Tables of who is signed in (migration 0009): server-side sessions and API tokens, and the sign-in throttle.

Beside engine.store.tables rather than in it: that file is at the length our modules stop at. The tables
join the same `metadata`, so Alembic's autogenerate sees them (engine/store/alembic/env.py imports this).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table

from engine.store.tables import metadata

# A browser session or an API token (kind: web | api). `id` is the SHA-256 (hex) of the secret the client
# holds, never the secret itself: a copied database opens no session. Signing out, a password change and
# deactivating the account delete the rows (engine.org.sessions).
auth_session = Table(
    "auth_session",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_auth_session_user", "user_id"),
    Index("ix_auth_session_age", "kind", "created_at"),
)


# Failed sign-ins (engine.org.throttle), per account ('u:<user name>') and per client address ('a:<ip>'):
# `failures` in a row, the last at `last_failed_at`; no attempt is checked before `locked_until`.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", DateTime, nullable=False),
    Column("locked_until", DateTime),
    Index("ix_login_throttle_last_failed", "last_failed_at"),
)
