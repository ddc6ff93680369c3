"""The deadline sweep: remind the assignee once when a work item passes its due time.

Each step is claimed by inserting a `reminder` row whose primary key is (work item, step); a second
scheduler process racing for the same item inserts nothing and so sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from . import audit
from .db import instance, notification, reminder, utcnow, work_item

BATCH = 500


def _claim(conn: Connection, item_id: int, step: str, now: datetime) -> bool:
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    result = conn.execute(
        dialect_insert(reminder).values(work_item_id=item_id, step=step, created_at=now).on_conflict_do_nothing()
    )
    return result.rowcount == 1


def sweep(core, now: datetime | None = None) -> int:
    """Send the 已超时 reminder for every open item past its due time; return how many were sent."""
    now = now or utcnow()
    sent = 0
    with core.db.write() as conn:
        already = exists().where(and_(reminder.c.work_item_id == work_item.c.id, reminder.c.step == "overdue"))
        rows = conn.execute(
            select(
                work_item.c.id,
                work_item.c.assignee_id,
                work_item.c.instance_id,
                work_item.c.node_name,
                instance.c.title,
            )
            .join(instance, instance.c.id == work_item.c.instance_id)
            .where(work_item.c.status == "open", work_item.c.kind == "approve", work_item.c.due_at <= now, ~already)
            .order_by(work_item.c.due_at)
            .limit(BATCH)
        ).all()
        for row in rows:
            if not _claim(conn, row.id, "overdue", now):
                continue
            conn.execute(
                insert(notification).values(
                    user_id=row.assignee_id,
                    instance_id=row.instance_id,
                    kind="overdue",
                    title=f"待办已超时：{row.title}（{row.node_name}），请尽快办理",
                    body="",
                    created_at=now,
                )
            )
            audit.record(
                conn,
                "overdue",
                instance_id=row.instance_id,
                work_item_id=row.id,
                node_name=row.node_name,
                message="审批超时，系统自动提醒",
            )
            sent += 1
    return sent
