"""approval operations (issue 3): delegation, signers, comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Reserved so that the three pieces of work can add their tables in parallel without forking the
migration history; it changes nothing until that work fills it in.
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
