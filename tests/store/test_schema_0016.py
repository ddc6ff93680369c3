"""Migration 0016: the administrators' roles and the password to change, on the accounts that exist — every
one an ordinary user with their own password — and the organisation token still moves when an account changes
(the columns are added in place: SQLite keeps the triggers of 0007); down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from engine.store import schema
from engine.store.database import Database

ACCOUNT = (
    "INSERT INTO user_account (id, username, display_name, password_hash, is_admin, active, created_at) "
    "VALUES (1, 'u', 'U', 'x', true, true, '2026-01-01 00:00:00')"
)
TOKEN = "SELECT value FROM setting WHERE key = 'org_version'"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_existing_accounts_keep_their_password_and_hold_no_new_role(empty_url):
    db = Database(empty_url)
    try:
        schema.upgrade(db, "0015")
        with db.write() as conn:
            conn.execute(text(ACCOUNT))
        schema.upgrade(db)
        with db.read() as conn:
            row = conn.execute(
                text("SELECT is_admin, is_process_admin, is_file_admin, must_change_password FROM user_account")
            ).one()
            before = conn.execute(text(TOKEN)).scalar()
        assert tuple(bool(v) for v in row) == (True, False, False, False)
        with db.write() as conn:
            conn.execute(text("UPDATE user_account SET is_file_admin = true WHERE id = 1"))
        with db.read() as conn:
            assert conn.execute(text(TOKEN)).scalar() != before  # the org_version trigger still fires
        with db.engine.begin() as connection:
            command.downgrade(schema._config(connection), "0015")
        schema.upgrade(db)
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_account WHERE must_change_password")).scalar() == 0
    finally:
        db.dispose()
