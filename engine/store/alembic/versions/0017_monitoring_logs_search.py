"""the 登录日志, and the indexes of 流程监控 and the search

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

login_log keeps every sign-in attempt (who, when, from which address, success or failure) for the 登录日志;
the 操作日志 reads the audit trail, indexed by time (ix_event_created) for its newest-first pages.
The top bar's search matches titles by their beginning through ix_instance_title (text_pattern_ops on
PostgreSQL, so LIKE 'prefix%' uses it under any collation); ix_instance_created orders 流程监控's list.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_log_at", "login_log", ["at"])
    op.create_index("ix_login_log_user", "login_log", ["username", "at"])
    op.create_index("ix_instance_title", "instance", ["title"], postgresql_ops={"title": "text_pattern_ops"})
    op.create_index("ix_instance_created", "instance", ["created_at"])
    op.create_index("ix_instance_process", "instance", ["process_key", "created_at"])
    op.create_index("ix_event_created", "event", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_event_created", table_name="event")
    op.drop_index("ix_instance_process", table_name="instance")
    op.drop_index("ix_instance_created", table_name="instance")
    op.drop_index("ix_instance_title", table_name="instance")
    op.drop_index("ix_login_log_user", table_name="login_log")
    op.drop_index("ix_login_log_at", table_name="login_log")
    op.drop_table("login_log")
