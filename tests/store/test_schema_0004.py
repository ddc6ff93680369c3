"""Migration 0004 on a database that already has messages: they were shown in the browser already, so the
outbox must not e-mail them now; and the migration goes down again cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from engine.store import schema
from engine.store.database import Database


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrade_keeps_old_messages_out_of_the_outbox(empty_url):
    db = Database(empty_url)
    try:
        schema.upgrade(db, "0003")
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO user_account (username, display_name, password_hash, is_admin, active, created_at) "
                    "VALUES ('u', 'U', 'x', false, true, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO notification (user_id, kind, title, body, created_at) "
                    "VALUES (1, 'todo', '旧消息', '', '2026-01-01 00:00:00')"
                )
            )
        schema.upgrade(db)
        assert schema.current_revision(db) == schema.head_revision()
        with db.read() as conn:
            row = conn.execute(text("SELECT delivery_status, attempts FROM notification")).one()
        assert tuple(row) == ("done", 0)
        tables = set(inspect(db.engine).get_table_names())
        assert {"notification_delivery", "notification_pref", "suspension", "instance_timer", "monthly_stat"} <= tables
        schema.upgrade(db, "0004")
        with db.engine.begin() as connection:
            command.downgrade(schema._config(connection), "0003")
        tables = set(inspect(db.engine).get_table_names())
        assert "monthly_stat" not in tables and "notification_delivery" not in tables
        columns = {c["name"] for c in inspect(db.engine).get_columns("work_item")}
        assert "next_step" not in columns
        with db.read() as conn:
            assert conn.execute(select(text("title")).select_from(text("notification"))).scalar() == "旧消息"
    finally:
        db.dispose()
