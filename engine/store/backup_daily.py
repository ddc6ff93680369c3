"""每日备份: one backup a day, by whichever scheduler gets there first, keeping the newest N.

The scheduler asks every few minutes rather than once at the configured time: an office machine that
was off at 02:00 still gets its backup when it starts. The day is claimed in the `setting` row
`backup.daily` by compare-and-set (the UPDATE only succeeds on the value it read), so with several
schedulers exactly one makes the day's backup. A claim is a lease: a scheduler that dies mid-backup
leaves it to expire, and a failed backup is retried a little later.

Settings (environment): OAFLOW_BACKUP_DIR (default `<data dir>/backups`), OAFLOW_BACKUP_KEEP (default 7;
0 turns the daily backup off), OAFLOW_BACKUP_AT (HH:MM office time, default 02:00).
"""

from __future__ import annotations

import logging
import os
import time as clock
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.store import backup
from engine.store.backup_archive import PARTIAL, BackupError
from engine.store.tables import setting

KEY = "backup.daily"
DEFAULT_KEEP = 7
DEFAULT_AT = time(2, 0)
# Longer than any backup takes; a scheduler that died holding the claim gives way after it.
LEASE = timedelta(hours=2)
RETRY_AFTER = timedelta(minutes=30)
STALE_PARTIAL_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailySettings:
    directory: Path
    keep: int
    at: time


def daily_settings(core) -> DailySettings | None:
    """The daily backup's settings from the environment; None when it is turned off."""
    raw_keep = os.environ.get("OAFLOW_BACKUP_KEEP", "").strip()
    try:
        keep = int(raw_keep) if raw_keep else DEFAULT_KEEP
    except ValueError:
        keep = -1
    if keep < 0:
        raise BackupError(
            f"OAFLOW_BACKUP_KEEP 必须是 0 或正整数（保留最近几份；0 表示关闭每日备份），现在是“{raw_keep}”"
        )
    if keep == 0:
        return None
    raw_at = os.environ.get("OAFLOW_BACKUP_AT", "").strip()
    try:
        at = time.fromisoformat(raw_at) if raw_at else DEFAULT_AT
    except ValueError:
        raise BackupError(f"OAFLOW_BACKUP_AT 必须是 时:分，例如 02:30，现在是“{raw_at}”") from None
    return DailySettings(backup.backup_folder(core), keep, at.replace(tzinfo=None))


def run_daily(core, now: datetime, settings: DailySettings) -> backup.Result | None:
    """Make today's backup if it is time and no scheduler has made or is making it; returns it, or None
    when there was nothing to do. `now` is aware, in office time (the day and the hour are office time)."""
    if now.time().replace(tzinfo=None) < settings.at:
        return None
    day = now.date().isoformat()
    claim = _claim(core, day, now)
    if claim is None:
        return None
    try:
        settings.directory.mkdir(parents=True, exist_ok=True)
        result = backup.create(core, settings.directory, now=now)
    except BaseException:
        _swap(core, claim, _claimed(day, now + RETRY_AFTER))
        raise
    if not _swap(core, claim, f"{day} done {result.path.name}"):
        log.warning("daily backup %s finished after its claim expired", result.path)
    prune(core, settings.directory, settings.keep)
    return result


def _claimed(day: str, until: datetime) -> str:
    return f"{day} claimed {until.astimezone(timezone.utc).isoformat(timespec='seconds')}"


def _claimable(value: str | None, day: str, now: datetime) -> bool:
    if value is None:
        return True
    parts = value.split(" ")
    if len(parts) < 2 or parts[0] < day:
        return True
    if parts[0] > day or parts[1] == "done":
        return False
    try:
        return datetime.fromisoformat(parts[2]) <= now
    except (IndexError, ValueError):
        return True


def _claim(core, day: str, now: datetime) -> str | None:
    """Take the day for this process, or None when another has it (or has done it)."""
    new = _claimed(day, now + LEASE)
    try:
        with core.db.write() as conn:
            old = conn.execute(select(setting.c.value).where(setting.c.key == KEY)).scalar()
            if not _claimable(old, day, now):
                return None
            if old is None:
                conn.execute(insert(setting).values(key=KEY, value=new))
            elif conn.execute(_compare_and_set(old, new)).rowcount != 1:
                return None
    except IntegrityError:  # another scheduler inserted the first claim at the same moment
        return None
    return new


def _swap(core, old: str, new: str) -> bool:
    with core.db.write() as conn:
        return conn.execute(_compare_and_set(old, new)).rowcount == 1


def _compare_and_set(old: str, new: str):
    return update(setting).where(setting.c.key == KEY, setting.c.value == old).values(value=new)


def prune(core, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `directory` (only files named like backups, newest by
    the date and time in the name), and unfinished ones older than a day. Returns what was deleted."""
    archives = sorted(directory.glob(f"{backup.ARCHIVE_PREFIX}*{backup.ARCHIVE_SUFFIX}"))
    doomed = archives[:-keep] if keep > 0 else []
    cutoff = clock.time() - STALE_PARTIAL_SECONDS
    doomed += [
        p
        for p in directory.glob(f"{backup.ARCHIVE_PREFIX}*{backup.ARCHIVE_SUFFIX}{PARTIAL}")
        if p.stat().st_mtime < cutoff
    ]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
