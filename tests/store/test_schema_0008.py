"""Migration 0008: 待办 messages written before the outbox recorded their work item get it filled in, so the
bell links to the item without guessing at read time."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.store import schema
from engine.store.database import Database

ROWS = [
    "INSERT INTO user_account (id, username, display_name, password_hash, is_admin, active, created_at) "
    "VALUES (1, 'u', 'U', 'x', false, true, '2026-01-01 00:00:00')",
    "INSERT INTO definition (id, process_key, version, name, content_hash, bpmn_file, bpmn_xml, bundle, meta, active, "
    "deployed_at) VALUES (1, 'p', 1, 'P', 'h', 'p.bpmn', '', '{}', '{}', true, '2026-01-01 00:00:00')",
    "INSERT INTO instance (id, definition_id, process_key, title, initiator_id, status, priority, current_nodes, data, "
    "state, version, created_at, updated_at) VALUES (1, 1, 'p', 't', 1, 'running', '正常', '', '{}', '{}', 1, "
    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO work_item (id, instance_id, task_id, node_id, node_name, kind, assignee_id, status, created_at) "
    "VALUES (7, 1, 'a', 'n', 'N', 'approve', 1, 'done', '2026-01-01 09:00:00')",
    "INSERT INTO work_item (id, instance_id, task_id, node_id, node_name, kind, assignee_id, status, created_at) "
    "VALUES (9, 1, 'b', 'n2', 'N2', 'approve', 1, 'open', '2026-01-02 09:00:00')",
    # the first 待办, a later one, a reminder about the second item, and a message that links to no item
    "INSERT INTO notification (id, user_id, instance_id, kind, title, body, created_at) "
    "VALUES (1, 1, 1, 'todo', 'a', '', '2026-01-01 09:00:00')",
    "INSERT INTO notification (id, user_id, instance_id, kind, title, body, created_at) "
    "VALUES (2, 1, 1, 'todo', 'b', '', '2026-01-02 09:00:00')",
    "INSERT INTO notification (id, user_id, instance_id, kind, title, body, created_at) "
    "VALUES (3, 1, 1, 'remind', 'c', '', '2026-01-03 09:00:00')",
    "INSERT INTO notification (id, user_id, instance_id, kind, title, body, created_at) "
    "VALUES (4, 1, 1, 'result', 'd', '', '2026-01-04 09:00:00')",
]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_old_todo_messages_get_their_work_item(empty_url):
    db = Database(empty_url)
    try:
        schema.upgrade(db, "0007")
        with db.write() as conn:
            for statement in ROWS:
                conn.execute(text(statement))
        schema.upgrade(db)
        with db.read() as conn:
            linked = dict(conn.execute(text("SELECT id, work_item_id FROM notification ORDER BY id")).all())
        assert linked == {1: 7, 2: 9, 3: 9, 4: None}
    finally:
        db.dispose()
