"""轮次 after a 重新提交: what the drafter changed, kept for the approvers of the next round.

`record_changes` runs inside the resubmission's transaction; `changes_for` is read by the task page of an
approver: the fields the latest resubmission before their work item changed, each with its earlier value.
"""

from __future__ import annotations

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from engine.store.fastsql import Prepared
from engine.store.tables_rounds import resubmission_change

_INSERT = resubmission_change.insert()

_LATEST_BEFORE = Prepared(
    select(func.max(resubmission_change.c.work_item_id)).where(
        resubmission_change.c.instance_id == bindparam("b_instance"),
        resubmission_change.c.work_item_id < bindparam("b_item"),
    )
)

_CHANGES = Prepared(
    select(resubmission_change.c.field, resubmission_change.c.before)
    .where(
        resubmission_change.c.instance_id == bindparam("b_instance"),
        resubmission_change.c.work_item_id == bindparam("b_round_item"),
    )
    .order_by(resubmission_change.c.id)
)


def changed_fields(schema: dict, before: dict, after: dict) -> dict:
    """The start form's fields whose value differs between two rounds: {field: earlier value or None}."""
    return {
        name: _present(before.get(name))
        for name in schema.get("properties", {})
        if _present(before.get(name)) != _present(after.get(name))
    }


def record_changes(conn: Connection, instance_id: int, item_id: int, changes: dict) -> None:
    """Keep what the resubmission closing `item_id` (the drafter's step) changed."""
    if changes:
        conn.execute(
            _INSERT,
            [
                {
                    "instance_id": instance_id,
                    "work_item_id": item_id,
                    "field": name,
                    "before": None if value is None else orjson.dumps(value).decode(),
                }
                for name, value in changes.items()
            ],
        )


def changes_for(conn: Connection, instance_id: int, item_id: int) -> dict:
    """What the latest 重新提交 before work item `item_id` changed: {field: earlier value or None}; empty in
    the first round."""
    round_item = conn.execute(_LATEST_BEFORE, {"b_instance": instance_id, "b_item": item_id}).scalar()
    if round_item is None:
        return {}
    rows = conn.execute(_CHANGES, {"b_instance": instance_id, "b_round_item": round_item})
    return {row.field: None if row.before is None else orjson.loads(row.before) for row in rows}


def _present(value):
    """An empty answer (None, "", []) is no answer: clearing an empty field changes nothing."""
    return None if value in (None, "", []) else value
