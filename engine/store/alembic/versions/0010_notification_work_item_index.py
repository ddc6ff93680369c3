"""a closed work item's 待办 messages are found by the item

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

When a work item closes (decided, handed over, withdrawn, cancelled …) its 新待办 / 即将超时 / 已超时
messages are marked read (engine.notify.messages.todos_handled), on every decision: an index on
notification.work_item_id keeps that one indexed probe instead of a scan of the whole outbox.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_work_item", ["work_item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_work_item")
