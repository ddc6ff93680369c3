"""deadlines, notifications and monthly statistics (issue 4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Reserved so that the three pieces of work can add their tables in parallel without forking the
migration history; it changes nothing until that work fills it in.
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
