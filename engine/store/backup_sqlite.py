"""SQLite: copy the live database while oaflow serves it, check a copy, and put one in place.

The copy uses SQLite's online backup API from a connection that holds one read transaction for the whole
copy. In WAL mode a reader never blocks a writer, so commands keep committing while the copy runs, and
the copy is exactly the database as of its first page: SQLite does not restart the copy when another
connection writes, because this connection's snapshot does not change. Copying a single step would do
the same; the chunks with a short pause let the server's own reads and fsyncs through on a large file.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from engine.store.backup_archive import BackupError, sync_directory
from engine.store.tables import definition, instance, user_account, work_item

PAGES_PER_STEP = 1024  # 4 MB at SQLite's default page size
PAUSE_SECONDS = 0.005
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Snapshot:
    revision: str | None
    instances: int
    work_items: int


def live_files(path: Path) -> set[Path]:
    """The database file and the files SQLite keeps beside it."""
    return {path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)}


def copy(source: Path, target: Path) -> Snapshot:
    """Copy the database at `source` into the new file `target`; returns what the copy holds."""
    src = sqlite3.connect(source, timeout=30, isolation_level=None)
    try:
        src.execute("BEGIN")  # deferred: the first read below fixes the snapshot the copy is taken from
        snapshot = describe(src)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=PAGES_PER_STEP, progress=lambda *_: time.sleep(PAUSE_SECONDS))
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as error:
        raise BackupError(f"复制 SQLite 数据库失败：{error}") from None
    finally:
        src.close()
    return snapshot


def describe(conn: sqlite3.Connection) -> Snapshot:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no tables yet
        return Snapshot(None, 0, 0)
    return Snapshot(
        row[0] if row else None,
        conn.execute(f"SELECT count(*) FROM {instance.name}").fetchone()[0],
        conn.execute(f"SELECT count(*) FROM {work_item.name}").fetchone()[0],
    )


def check(path: Path) -> Snapshot:
    """A restored copy before it goes into place: intact, and standalone (no log beside it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"备份中的数据库副本已损坏（SQLite 完整性检查：{verdict}）")
        return describe(conn)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"备份中的数据库副本无法打开：{error}") from None
    finally:
        conn.close()


def seal(path: Path) -> None:
    """Fold any write-ahead log into the file itself, so that moving the file moves all of it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    if any(side.exists() for side in live_files(path) - {path}):
        raise BackupError(f"无法整理数据库副本 {path}：还有其他程序打开了它")


def contents(path: Path) -> dict[str, int] | None:
    """What the database holds that a restore would overwrite: accounts, processes and applications;
    None when the file or its tables do not exist yet."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        return {
            "accounts": conn.execute(f"SELECT count(*) FROM {user_account.name}").fetchone()[0],
            "processes": conn.execute(f"SELECT count(*) FROM {definition.name}").fetchone()[0],
            "instances": conn.execute(f"SELECT count(*) FROM {instance.name}").fetchone()[0],
        }
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return None
        raise BackupError(f"无法读取当前数据库 {path}：{error}") from None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"当前数据库 {path} 无法读取（{error}）：如确定要用备份替换它，请加 --force") from None
    finally:
        conn.close()


def in_use(path: Path) -> bool:
    """Whether another connection has the database open (a running oaflow serve, scheduler or demo).

    Every WAL connection holds a shared lock for as long as it is open, idle or not, so an exclusive
    lock is refused while any is; it is taken and dropped at once."""
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def replace(copy_path: Path, live: Path) -> None:
    """Put the checked copy in place of the live database. The old log files go first: left beside the
    new file, SQLite would replay the old database's last changes into it. The new file keeps the old
    one's permissions (and owner, when run as root), so the server's account can still open it."""
    if live.exists():
        info = live.stat()
        os.chmod(copy_path, stat.S_IMODE(info.st_mode))
        if os.name == "posix" and os.geteuid() == 0:
            os.chown(copy_path, info.st_uid, info.st_gid)
    for side in live_files(live) - {live}:
        side.unlink(missing_ok=True)
    os.replace(copy_path, live)
    sync_directory(live.parent)
