"""reminder: each deadline step recorded once per work item

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_item.id"]),
        sa.PrimaryKeyConstraint("work_item_id", "step"),
    )


def downgrade() -> None:
    op.drop_table("reminder")
