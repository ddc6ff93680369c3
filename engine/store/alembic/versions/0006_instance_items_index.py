"""per-instance work item index covers the kind

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

The command path asks for one instance's items of one kind and status (open approvals, the last
decision). With the old (instance_id, status) index SQLite's planner, lacking statistics, could pick the
(status, kind, next_step) index instead and scan every finished item in the database. Three equality
columns on (instance_id, kind, status) make the per-instance index the plain choice on both backends.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.create_index("ix_work_item_instance_kind", ["instance_id", "kind", "status"], unique=False)
        batch_op.drop_index("ix_work_item_instance")


def downgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.create_index("ix_work_item_instance", ["instance_id", "status"], unique=False)
        batch_op.drop_index("ix_work_item_instance_kind")
