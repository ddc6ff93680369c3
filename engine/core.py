"""The engine's services bundle: one database, one compiled-spec cache and one workflow cache per process,
and the files directory uploads are kept in."""

from __future__ import annotations

from pathlib import Path

from engine.process import service_tasks
from engine.process.spec_cache import SpecCache
from engine.store import signing_key
from engine.store.blobs import BlobStore
from engine.store.database import Database
from engine.work import account_requests
from engine.work.cache import WorkflowCache

# The handlers the product ships that act on the organisation: registered here, above the engine's layers.
service_tasks.ship(account_requests.HANDLER, account_requests.apply)


class Core:
    def __init__(self, db: Database | None = None, *, url: str | None = None, files_dir: Path | None = None):
        self.db = db or Database(url)
        self.specs = SpecCache()
        self.workflows = WorkflowCache()
        self.files = BlobStore(files_dir)  # OAFLOW_FILES_DIR, else <data dir>/files

    def secret_key(self) -> str:
        """The key that signs browser cookies: OAFLOW_SECRET_KEY, else `secret.key` in the data directory
        (made on first start, never kept in the database), one for every process on the host."""
        return signing_key.load(self.db)
