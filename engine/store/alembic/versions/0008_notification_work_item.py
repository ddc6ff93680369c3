"""every 待办 message names its work item

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Messages used to be written by two outbox writers, one of which stored no work item; the bell then guessed
it at read time (the user's newest open item of the instance). There is one writer now, which always
records the item. This fills in the older rows once, with the item the guess meant when the message was
written: the user's newest item of that instance created up to the message's time.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE notification SET work_item_id = (
            SELECT MAX(work_item.id) FROM work_item
            WHERE work_item.instance_id = notification.instance_id
              AND work_item.assignee_id = notification.user_id
              AND work_item.kind = 'approve'
              AND work_item.created_at <= notification.created_at
        )
        WHERE work_item_id IS NULL
          AND instance_id IS NOT NULL
          AND kind IN ('todo', 'remind', 'overdue')
        """
    )


def downgrade() -> None:
    pass  # the filled-in ids are what the older code guessed anyway
