"""The engine's services bundle: one database and one compiled-spec cache per process."""

from __future__ import annotations

from .db import Database
from .definitions import SpecCache


class Core:
    def __init__(self, db: Database | None = None, *, url: str | None = None):
        self.db = db or Database(url)
        self.specs = SpecCache()
