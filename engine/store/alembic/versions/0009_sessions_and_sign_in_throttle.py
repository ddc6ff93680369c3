"""server-side sessions and API tokens, and the sign-in throttle

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Sessions and tokens used to be signed data only: nothing (signing out, changing the password,
deactivating the account) could end a copy. Each one is now a row, stored by the SHA-256 of its secret,
that signing out, a password change and deactivation delete. Failed sign-ins are counted per account and
per client address in a table, so every web process sees the same counts.

Browser cookies and API tokens from before this revision name a user, not a session row: they open
nothing, and everybody signs in once more. The signing key an older release left in `setting.secret_key`
is not touched here: the first process to start moves it into the data directory
(engine.store.signing_key).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auth_session_user", "auth_session", ["user_id"])
    op.create_index("ix_auth_session_age", "auth_session", ["kind", "created_at"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_login_throttle_last_failed", "login_throttle", ["last_failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_last_failed", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_auth_session_age", table_name="auth_session")
    op.drop_index("ix_auth_session_user", table_name="auth_session")
    op.drop_table("auth_session")
