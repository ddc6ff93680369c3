"""Tables (SQLAlchemy Core) and the transaction boundary.

Core, not the ORM: every command on the hot path is a handful of plain statements (DESIGN §8).
Schema changes go through Alembic (engine/migrations); these definitions mirror the newest revision.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
)

metadata = MetaData()


department = Table(
    "department",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("parent_id", Integer, ForeignKey("department.id")),
    Column("leader_id", Integer, ForeignKey("user_account.id", use_alter=True, name="fk_dept_leader")),
    # 分管领导: the leader who oversees this department, one level above its own leader.
    Column("supervisor_id", Integer, ForeignKey("user_account.id", use_alter=True, name="fk_dept_supervisor")),
)


user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("department_id", Integer, ForeignKey("department.id")),
    Column("is_admin", Boolean, nullable=False, default=False),  # 系统管理员
    Column("active", Boolean, nullable=False, default=True),
    Column("email", String(255)),
    Column("title", String(100)),
    Column("created_at", DateTime, nullable=False),
    Column("is_process_admin", Boolean, nullable=False, default=False),  # 流程管理员
    Column("is_file_admin", Boolean, nullable=False, default=False),  # 文件管理员 (公文 registers, 文号)
    Column("must_change_password", Boolean, nullable=False, default=False),  # an administrator's password
)


role = Table(
    "role",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)


user_role = Table(
    "user_role",
    metadata,
    Column("user_id", Integer, ForeignKey("user_account.id"), primary_key=True),
    Column("role_id", Integer, ForeignKey("role.id"), primary_key=True),
)


definition = Table(
    "definition",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("process_key", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("bpmn_file", String(255), nullable=False),
    Column("bpmn_xml", Text, nullable=False),
    # JSON: {"files": {name: text}} of every BPMN/form file the version needs, and the compiled model.
    Column("bundle", Text, nullable=False),
    Column("meta", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("deployed_by", Integer, ForeignKey("user_account.id")),
    Column("deployed_at", DateTime, nullable=False),
    UniqueConstraint("process_key", "version", name="uq_definition_key_version"),
)


instance = Table(
    "instance",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("definition_id", Integer, ForeignKey("definition.id"), nullable=False),
    Column("process_key", String(200), nullable=False),
    Column("title", String(500), nullable=False),
    Column("initiator_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("current_nodes", String(500), nullable=False, default=""),
    # The business data worth showing without deserializing the workflow (the start form's values).
    Column("data", Text, nullable=False),
    # SpiffWorkflow state *without* the spec (the spec comes from the compiled-spec cache).
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    # After 退回 with the "direct" option: the node the resubmission jumps straight back to.
    Column("jump_to", String(200)),
    Column("end_reason", Text),
    Index("ix_instance_initiator", "initiator_id", "created_at"),
    Index("ix_instance_status", "status"),
)


work_item = Table(
    "work_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False),
    Column("task_id", String(36), nullable=False),  # SpiffWorkflow task UUID
    Column("node_id", String(200), nullable=False),  # BPMN element id
    Column("node_name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # approve | cc
    Column("assignee_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("status", String(12), nullable=False),  # open | done | cancelled
    Column("decision", String(10)),  # approve | reject
    Column("opinion", Text),
    Column("note", String(200)),  # e.g. 已由他人处理 / 无审批人，转交流程管理员
    Column("created_at", DateTime, nullable=False),
    Column("completed_at", DateTime),
    Column("due_at", DateTime),
    Column("read_at", DateTime),
    # Approval operations (GLOSSARY): order within 依次 signing, how the signer got here
    # (rule | add_before | add_after | add_parallel | transfer | delegate | recall | send_back),
    # who added them (减签), the delegator's item a 委派 returns to, the user a 代理 acts for,
    # and the handwritten signature (PNG, base64) stored with the decision.
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    Column("origin", String(20), nullable=False, default="rule", server_default="rule"),
    Column("added_by_id", Integer, ForeignKey("user_account.id")),
    Column("parent_id", Integer, ForeignKey("work_item.id")),
    Column("proxy_for_id", Integer, ForeignKey("user_account.id")),
    Column("signature", Text),
    Index("ix_work_item_inbox", "assignee_id", "kind", "status", "created_at"),
    Index("ix_work_item_instance_kind", "instance_id", "kind", "status"),
    Index("ix_work_item_due", "status", "due_at"),
)


event_log = Table(
    "event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("instance.id")),
    Column("work_item_id", Integer, ForeignKey("work_item.id")),
    Column("type", String(40), nullable=False),
    Column("actor_id", Integer, ForeignKey("user_account.id")),
    Column("node_id", String(200)),
    Column("node_name", String(200)),
    Column("decision", String(10)),
    Column("opinion", Text),
    Column("message", Text),
    Column("created_at", DateTime, nullable=False),
    Index("ix_event_instance", "instance_id", "id"),
)


notification = Table(
    "notification",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("instance_id", Integer, ForeignKey("instance.id")),
    Column("kind", String(40), nullable=False),
    Column("title", String(500), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime),
    Index("ix_notification_user", "user_id", "read_at"),
)


# 代理: while active, new work items for `user_id` go to `delegate_id` (scope: all or some processes).
delegation = Table(
    "delegation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("delegate_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("processes", Text, nullable=False, default="", server_default=""),  # comma-separated; empty: all
    Column("reason", String(200)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Index("ix_delegation_user", "user_id", "active"),
)


# 常用意见: each user's reusable opinions.
user_phrase = Table(
    "user_phrase",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("text", String(500), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "text", name="uq_user_phrase"),
)


# One row per reminder/escalation step already taken: the primary key makes each step happen once,
# however many scheduler processes sweep at the same time (DESIGN §6).
reminder = Table(
    "reminder",
    metadata,
    Column("work_item_id", Integer, ForeignKey("work_item.id"), primary_key=True),
    Column("step", String(20), primary_key=True),
    Column("created_at", DateTime, nullable=False),
)


calendar_day = Table(
    "calendar_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("is_workday", Boolean, nullable=False),
    Column("note", String(100)),
    Column("source", String(40), nullable=False, default="chinesecalendar"),
)


setting = Table(
    "setting",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


# The deadline sweep's bookkeeping on each work item: the next step (remind | overdue | escalate2 |
# done | paused) and when it is due. The sweep reads only rows whose step is due (ix_work_item_step),
# and new items whose step is not yet set (ix_work_item_step_new): never every open item.
work_item.append_column(Column("next_step", String(20)))


work_item.append_column(Column("next_step_at", DateTime))


# Working minutes the item's instance spent suspended (挂起): its due time moved out by as much.
work_item.append_column(Column("paused_minutes", Integer, nullable=False, default=0, server_default="0"))


# Open or waiting (the item still counts). Spelled as OR, not IN: SQLAlchemy expands a literal IN list on
# every execution, which costs the command path as much as running the query (BENCHMARKS.md).
ITEM_ACTIVE = or_(work_item.c.status == "open", work_item.c.status == "waiting")


Index("ix_work_item_step", work_item.c.status, work_item.c.next_step_at)


Index("ix_work_item_step_new", work_item.c.status, work_item.c.kind, work_item.c.next_step)


# 待办 filtered by 已超时 / 即将超时 or sorted by 期限 (engine.work.views.filters).
Index("ix_work_item_inbox_due", work_item.c.assignee_id, work_item.c.kind, work_item.c.status, work_item.c.due_at)


# `notification` is the outbox: written in the same transaction as the change (engine.notify.outbox), shown in
# the browser at once, and delivered by e-mail / SMS after commit by the scheduler's delivery job.
notification.append_column(Column("work_item_id", Integer))


# pending → sending (claimed, next_attempt_at is the lease's end) → done | failed (after retries)
notification.append_column(
    Column("delivery_status", String(12), nullable=False, default="pending", server_default="pending")
)


notification.append_column(Column("attempts", Integer, nullable=False, default=0, server_default="0"))


notification.append_column(Column("next_attempt_at", DateTime, default=lambda: utcnow()))


notification.append_column(Column("last_error", Text))


notification.append_column(Column("delivered_at", DateTime))


Index("ix_notification_outbox", notification.c.delivery_status, notification.c.next_attempt_at)


# One row per (notification, external channel) once tried: a channel that succeeded is never sent again
# when another channel of the same notification is retried.
notification_delivery = Table(
    "notification_delivery",
    metadata,
    Column("notification_id", Integer, ForeignKey("notification.id"), primary_key=True),
    Column("channel", String(10), primary_key=True),  # email | sms
    Column("status", String(10), nullable=False),  # sent | error
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("updated_at", DateTime, nullable=False),
)


# Each user's channels (站内消息 is always on) and addresses.
notification_pref = Table(
    "notification_pref",
    metadata,
    Column("user_id", Integer, ForeignKey("user_account.id"), primary_key=True),
    Column("email_enabled", Boolean, nullable=False, default=False),
    Column("sms_enabled", Boolean, nullable=False, default=False),
    Column("email", String(255)),
    Column("phone", String(40)),
    Column("updated_at", DateTime, nullable=False),
)


# 挂起 / 恢复: one row per suspension; the open one has no resumed_at.
suspension = Table(
    "suspension",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False),
    Column("suspended_at", DateTime, nullable=False),
    Column("suspended_by", Integer, ForeignKey("user_account.id")),
    Column("reason", Text, nullable=False),
    Column("resumed_at", DateTime),
    Column("resumed_by", Integer, ForeignKey("user_account.id")),
    Column("paused_minutes", Integer),
    Index("ix_suspension_instance", "instance_id", "resumed_at"),
)


# The next BPMN timer (boundary / intermediate) of each instance that waits on one, so the timer job
# reads only instances whose timer is due.
instance_timer = Table(
    "instance_timer",
    metadata,
    Column("instance_id", Integer, ForeignKey("instance.id"), primary_key=True),
    Column("due_at", DateTime, nullable=False),
    Index("ix_instance_timer_due", "due_at"),
)


# Timer start events of the newest version of each process: when the next instance starts.
timer_start = Table(
    "timer_start",
    metadata,
    Column("process_key", String(200), primary_key=True),
    Column("node_id", String(200), primary_key=True),
    Column("definition_id", Integer, ForeignKey("definition.id"), nullable=False),
    Column("expression", String(200), nullable=False),
    Column("next_fire_at", DateTime),  # NULL: no more firings
    Column("remaining", Integer),  # cycles left (NULL: unbounded)
    Column("fired", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_timer_start_next", "next_fire_at"),
)


# Monthly statistics snapshots (§五 2.7), on the 28th and at month end; one row per key: a second scheduler adds none.
monthly_stat = Table(
    "monthly_stat",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("snapshot", String(12), nullable=False),  # day28 | month_end
    Column("scope", String(12), nullable=False),  # person | department | process
    Column("key", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("department", String(100)),
    Column("handled", Integer, nullable=False),
    Column("avg_hours", Float),
    Column("open_at_end", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("overdue_rate", Float),
    Column("urged", Integer, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("taken_at", DateTime, nullable=False),
    UniqueConstraint("month", "snapshot", "scope", "key", name="uq_monthly_stat"),
)


def utcnow() -> datetime:
    """Naive UTC: what every DateTime column stores (DESIGN §6)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
