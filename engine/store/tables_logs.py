"""The 登录日志: one row per sign-in attempt (who, when, from which address, whether it opened a session).
The 操作日志 is the audit trail itself (engine.store.audit): nothing is copied for it."""

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table

from engine.store.tables import event_log, instance, metadata

login_log = Table(
    "login_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),  # as typed (trimmed and cut to the column): may name nobody
    Column("user_id", Integer),  # the account the name opened, when it names one
    Column("address", String(64)),  # the client's IP address
    Column("kind", String(10), nullable=False),  # browser | api
    Column("success", Boolean, nullable=False),
    Column("reason", String(100)),  # why it failed, in the words the user was told
    Index("ix_login_log_at", "at"),
    Index("ix_login_log_user", "username", "at"),
)

# The top bar's search matches a title by its beginning: an index range, never a scan (engine.work.views.search).
# PostgreSQL's text_pattern_ops lets LIKE 'prefix%' use it under any database collation.
Index("ix_instance_title", instance.c.title, postgresql_ops={"title": "text_pattern_ops"})
# Newest first for the 流程监控 list and the search results without a narrower index.
Index("ix_instance_created", instance.c.created_at)
# 流程监控 and the search narrowed to one process, newest first.
Index("ix_instance_process", instance.c.process_key, instance.c.created_at)
# The 操作日志's pages, newest first.
Index("ix_event_created", event_log.c.created_at)
