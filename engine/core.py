"""The engine's services bundle: one database, one compiled-spec cache and one workflow cache per process."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import insert, select

from engine.process.spec_cache import SpecCache
from engine.store.database import Database
from engine.store.tables import setting
from engine.work.cache import WorkflowCache


class Core:
    def __init__(self, db: Database | None = None, *, url: str | None = None):
        self.db = db or Database(url)
        self.specs = SpecCache()
        self.workflows = WorkflowCache()

    def secret_key(self) -> str:
        """The key that signs sessions and API tokens: one for every process sharing the database, so both
        work behind a load balancer (made once, kept in `setting`); OAFLOW_SECRET_KEY overrides it."""
        configured = os.environ.get("OAFLOW_SECRET_KEY")
        if configured:
            return configured
        with self.db.write() as conn:
            value = conn.execute(select(setting.c.value).where(setting.c.key == "secret_key")).scalar()
            if value is None:
                value = secrets.token_urlsafe(48)
                conn.execute(insert(setting).values(key="secret_key", value=value))
        return value
