"""deadlines, notifications and monthly statistics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

The deadline sweep's bookkeeping on work_item, the notification table turned into an outbox (delivery
status, attempts, back-off), per-channel deliveries, users' channel choices, suspensions (挂起), BPMN
timer indexes and monthly statistics snapshots.
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("next_step_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("paused_minutes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_work_item_step", ["status", "next_step_at"], unique=False)
        batch_op.create_index("ix_work_item_step_new", ["status", "kind", "next_step"], unique=False)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_status", sa.String(length=12), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_notification_outbox", ["delivery_status", "next_attempt_at"], unique=False)
    # Messages written before the outbox existed were shown in the browser already: never e-mail them now.
    op.execute("UPDATE notification SET delivery_status = 'done'")

    # Holiday names seeded earlier in English (as chinesecalendar names them) are shown in Chinese.
    for english, chinese in (
        ("New Year's Day", "元旦"),
        ("Spring Festival", "春节"),
        ("Tomb-sweeping Day", "清明节"),
        ("Labour Day", "劳动节"),
        ("Dragon Boat Festival", "端午节"),
        ("National Day", "国庆节"),
        ("Mid-autumn Festival", "中秋节"),
    ):
        op.execute(
            sa.text(
                "UPDATE calendar_day SET note = :chinese WHERE note = :english AND source = 'chinesecalendar'"
            ).bindparams(chinese=chinese, english=english)
        )

    op.create_table(
        "notification_delivery",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.PrimaryKeyConstraint("notification_id", "channel"),
    )
    op.create_table(
        "notification_pref",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("sms_enabled", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "suspension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(), nullable=False),
        sa.Column("suspended_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resumed_at", sa.DateTime(), nullable=True),
        sa.Column("resumed_by", sa.Integer(), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["suspended_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["resumed_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suspension_instance", "suspension", ["instance_id", "resumed_at"], unique=False)
    op.create_table(
        "instance_timer",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.create_index("ix_instance_timer_due", "instance_timer", ["due_at"], unique=False)
    op.create_table(
        "timer_start",
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("expression", sa.String(length=200), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["definition_id"], ["definition.id"]),
        sa.PrimaryKeyConstraint("process_key", "node_id"),
    )
    op.create_index("ix_timer_start_next", "timer_start", ["next_fire_at"], unique=False)
    op.create_table(
        "monthly_stat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("snapshot", sa.String(length=12), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("avg_hours", sa.Float(), nullable=True),
        sa.Column("open_at_end", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("overdue_rate", sa.Float(), nullable=True),
        sa.Column("urged", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "snapshot", "scope", "key", name="uq_monthly_stat"),
    )


def downgrade() -> None:
    op.drop_table("monthly_stat")
    op.drop_index("ix_timer_start_next", table_name="timer_start")
    op.drop_table("timer_start")
    op.drop_index("ix_instance_timer_due", table_name="instance_timer")
    op.drop_table("instance_timer")
    op.drop_index("ix_suspension_instance", table_name="suspension")
    op.drop_table("suspension")
    op.drop_table("notification_pref")
    op.drop_table("notification_delivery")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_outbox")
        for column in ("delivered_at", "last_error", "next_attempt_at", "attempts", "delivery_status", "work_item_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_index("ix_work_item_step_new")
        batch_op.drop_index("ix_work_item_step")
        for column in ("paused_minutes", "next_step_at", "next_step"):
            batch_op.drop_column(column)
