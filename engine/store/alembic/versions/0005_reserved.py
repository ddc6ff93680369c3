"""process versions and migration

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Reserved so that the three pieces of work can add their tables in parallel without forking the
migration history; it changes nothing until that work fills it in.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
