"""SQLite: copy the write-ahead log back into the database file from a background thread.

By default SQLite does this inside whichever commit pushes the log past 1,000 pages, so one command in
about every sixty paid 5 ms for everyone's writes (BENCHMARKS.md). Here a thread checkpoints a moment
after commits happen, with its own connection, in PASSIVE mode (never waiting for readers or writers);
commands no longer do. SQLite's own checkpoint stays as a safety net at a larger log size, should the
thread fall behind. Durability is unchanged: a commit is as durable as before the moment it returns.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref

# At most one checkpoint a second under steady writes: each copies the pages written since the last, so the
# hot pages (the tables' and indexes' last pages) once a second instead of five times; the log stays at a
# few hundred pages.
INTERVAL_SECONDS = 1.0
# SQLite still checkpoints by itself past this many log pages (~40 MB): only if the thread falls behind.
SAFETY_NET_PAGES = 10_000

THREAD_NAME = "oaflow-wal-checkpoint"

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: str):
        self.path = path
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def committed(self) -> None:
        """A transaction committed: checkpoint soon (the thread starts with the first commit)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=_run,
                        args=(weakref.ref(self), self.path, self._dirty, self._stop),
                        name=THREAD_NAME,
                        daemon=True,
                    )
                    self._thread.start()
        self._dirty.set()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)


def _run(owner, path: str, dirty: threading.Event, stop: threading.Event) -> None:
    """The thread's loop. It holds no reference to its Checkpointer, so an abandoned one ends it too."""
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=0, check_same_thread=False, isolation_level=None)
        while not stop.is_set() and owner() is not None:
            if not dirty.wait(1.0):
                continue
            stop.wait(INTERVAL_SECONDS)  # let a burst of commits finish first
            dirty.clear()
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # busy or locked: the next round catches up
                log.debug("WAL checkpoint skipped: %s", error)
    except sqlite3.Error as error:
        log.warning("WAL checkpoints for %s stopped: %s", path, error)
    finally:
        if conn is not None:
            conn.close()
