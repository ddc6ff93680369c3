"""Organisation lookups answered from memory while the organisation is unchanged.

A command asks who the user is, who the initiator is, which departments lead up from theirs and whether
anyone stands in for the next approver: a handful of statements per command, each a round trip on
PostgreSQL, about answers that change a few times a month.

Database triggers (migration 0007) write a new random token to `setting.org_version` in the same
transaction as any change to users, departments, roles, role members or delegations, whoever makes it
(this process, another one, a directory sync writing the tables). A transaction reads the token once;
cached answers are used only while the token equals the one they were read under, and are cleared when
it moves on. A transaction that changes the organisation itself (`changed`) bypasses the cache until it
ends, since its own changes are not committed yet.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy.engine import Connection

from engine.store import stamps

ORG_VERSION = "org_version"
MAX_ENTRIES = 50_000

_BYPASS = "oaflow_org_bypass"  # conn.info: the transaction that changed the organisation
_MISSING = object()


class _Cache:
    def __init__(self):
        self.token: str | None = None
        self.entries: dict[tuple, object] = {}
        self.lock = threading.Lock()


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one per Engine (database)
_CACHES_LOCK = threading.Lock()


def _cache_of(conn: Connection) -> _Cache:
    engine = conn.engine
    cache = _CACHES.get(engine)
    if cache is None:
        with _CACHES_LOCK:
            cache = _CACHES.setdefault(engine, _Cache())
    return cache


def _token(conn: Connection, cache: _Cache) -> str | None:
    """This transaction's organisation token (read once per transaction); None: do not use the cache."""
    transaction = conn.get_transaction()
    if transaction is None:
        return None
    bypass = conn.info.get(_BYPASS)
    if bypass is not None and bypass is transaction:
        return None
    token = stamps.read(conn, ORG_VERSION)
    if token is not None and token != cache.token:
        with cache.lock:
            cache.entries.clear()
            cache.token = token
    return token


def lookup(conn: Connection, key: tuple, load):
    """The cached answer for `key`, or `load()` (from the database), remembered under this transaction's
    token. Only answers that are not None are kept: what does not exist yet may exist a moment later."""
    cache = _cache_of(conn)
    token = _token(conn, cache)
    if token is None:
        return load()
    with cache.lock:  # the entry and the token it belongs to, read together
        value = cache.entries.get(key, _MISSING) if cache.token == token else _MISSING
    if value is not _MISSING:
        return value
    value = load()
    if value is not None:
        with cache.lock:
            if cache.token == token:
                if len(cache.entries) >= MAX_ENTRIES:
                    cache.entries.clear()
                cache.entries[key] = value
    return value


def changed(conn: Connection) -> None:
    """This transaction changed the organisation: answer from the database until it ends."""
    conn.info[_BYPASS] = conn.get_transaction()
    cache = _cache_of(conn)
    with cache.lock:
        cache.entries.clear()
