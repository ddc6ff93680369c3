"""the 发文字号 register

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08

公文 get their 文号 (示例办发〔2026〕12号) when the node with doc_no="allocate" completes: one counter per
(机关代字, year) in doc_number_sequence, and one row per number given out, voided or reserved in doc_number
(unique per prefix, year and number; indexed by its text for the 文号 search and by instance).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_number_sequence",
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    op.create_table(
        "doc_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix", "year", "number", name="uq_doc_number"),
    )
    op.create_index("ix_doc_number_text", "doc_number", ["text"])
    op.create_index("ix_doc_number_instance", "doc_number", ["instance_id"])
    op.create_index("ix_doc_number_status", "doc_number", ["prefix", "year", "status", "number"])


def downgrade() -> None:
    op.drop_index("ix_doc_number_status", table_name="doc_number")
    op.drop_index("ix_doc_number_instance", table_name="doc_number")
    op.drop_index("ix_doc_number_text", table_name="doc_number")
    op.drop_table("doc_number")
    op.drop_table("doc_number_sequence")
