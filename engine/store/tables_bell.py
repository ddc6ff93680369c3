"""Indexes for the bell (站内消息), kept beside engine.store.tables (which is at its size limit)."""

from __future__ import annotations

from sqlalchemy import Index

from engine.store.tables import notification

# A closed work item's 待办 messages are found by the item (engine.notify.messages.todos_handled), on every
# decision: without this index each one scans the whole outbox (migration 0010).
Index("ix_notification_work_item", notification.c.work_item_id)
