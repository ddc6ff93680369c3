"""What a 重新提交 changed (migration 0021): one row per form field whose value the drafter changed, with
the value it had in the round before. The approvers of the next round see those fields marked.

`work_item_id` is the drafter's step the resubmission closed: the round it ends. Beside engine.store.tables
rather than in it: that file is at the length our modules stop at.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from engine.store.tables import metadata

resubmission_change = Table(
    "resubmission_change",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False),
    Column("work_item_id", Integer, ForeignKey("work_item.id"), nullable=False),
    Column("field", String(64), nullable=False),
    Column("before", Text),  # JSON of the earlier value; null when the field was empty
    Index("ix_resubmission_change_instance", "instance_id", "work_item_id"),
)
