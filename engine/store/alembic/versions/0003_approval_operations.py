"""approval operations: signer bookkeeping on work items, 代理 delegations, 常用意见

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_item") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("origin", sa.String(length=20), nullable=False, server_default="rule"))
        batch.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("proxy_for_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("signature", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_work_item_added_by", "user_account", ["added_by_id"], ["id"])
        batch.create_foreign_key("fk_work_item_parent", "work_item", ["parent_id"], ["id"])
        batch.create_foreign_key("fk_work_item_proxy_for", "user_account", ["proxy_for_id"], ["id"])
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("jump_to", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("end_reason", sa.Text(), nullable=True))
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("processes", sa.Text(), nullable=False, server_default=""),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["delegate_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegation_user", "delegation", ["user_id", "active"])
    op.create_table(
        "user_phrase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "text", name="uq_user_phrase"),
    )


def downgrade() -> None:
    op.drop_table("user_phrase")
    op.drop_index("ix_delegation_user", table_name="delegation")
    op.drop_table("delegation")
    with op.batch_alter_table("instance") as batch:
        batch.drop_column("end_reason")
        batch.drop_column("jump_to")
    with op.batch_alter_table("work_item") as batch:
        batch.drop_constraint("fk_work_item_proxy_for", type_="foreignkey")
        batch.drop_constraint("fk_work_item_parent", type_="foreignkey")
        batch.drop_constraint("fk_work_item_added_by", type_="foreignkey")
        batch.drop_column("signature")
        batch.drop_column("proxy_for_id")
        batch.drop_column("parent_id")
        batch.drop_column("added_by_id")
        batch.drop_column("origin")
        batch.drop_column("seq")
