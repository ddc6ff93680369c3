"""Alembic environment: the connection is handed in by engine.store.schema (no alembic.ini needed)."""

from alembic import context

from engine.store import (
    tables_auth,  # noqa: F401  (its tables join the metadata)
    tables_bell,  # noqa: F401  (its index belongs to the metadata)
    tables_budget,  # noqa: F401  (its tables join the metadata)
    tables_doc_numbers,  # noqa: F401  (its tables join the metadata)
    tables_files,  # noqa: F401  (its table joins the metadata)
    tables_logs,  # noqa: F401  (the 登录日志 and the search indexes join the metadata)
    tables_rounds,  # noqa: F401  (its table joins the metadata)
)
from engine.store.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("oaflow migrations run online only: use `oaflow db upgrade`")
run_migrations_online()
