"""the 待办 box filtered or sorted by due time reads an index

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-20

待办 narrowed to 已超时 / 即将超时, or sorted by 期限, asks for one user's open items by due time:
ix_work_item_inbox_due (assignee, kind, status, due_at) answers it by an index range, as ix_work_item_inbox
does for the arrival time.
"""

from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.create_index("ix_work_item_inbox_due", ["assignee_id", "kind", "status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_index("ix_work_item_inbox_due")
