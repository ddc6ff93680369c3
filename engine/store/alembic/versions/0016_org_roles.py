"""administrators' roles and the password to change at first sign-in

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

流程管理员 and 文件管理员 are two flags beside is_admin (系统管理员); an account with none of them is a
普通用户. must_change_password: the account was created or its password reset by an administrator, and
its holder must choose their own before doing anything else.

Plain ADD COLUMN (no batch mode): SQLite would otherwise rebuild the table and drop the org_version
triggers of migration 0007.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("is_process_admin", "is_file_admin", "must_change_password")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("user_account", sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for name in COLUMNS:  # SQLite 3.35+ drops a column in place (no table rebuild, the triggers stay)
        op.drop_column("user_account", name)
