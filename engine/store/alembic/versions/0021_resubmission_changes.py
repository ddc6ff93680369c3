"""resubmission changes: the fields a 重新提交 changed, with their earlier values

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05

After a 退回 the drafter corrects the application and resubmits it; the approvers of the next round see
which fields changed since the round they (or their colleagues) decided (engine.store.tables_rounds).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resubmission_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_item.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resubmission_change_instance", "resubmission_change", ["instance_id", "work_item_id"])


def downgrade() -> None:
    op.drop_index("ix_resubmission_change_instance", table_name="resubmission_change")
    op.drop_table("resubmission_change")
