"""每日备份 on the engine API: its settings, one backup a day from the configured time on, the claim that
makes it once whichever scheduler asks, a retry after a failure, and keeping the newest N."""

from __future__ import annotations

import os
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from engine.store import backup_daily
from engine.store.backup_archive import BackupError
from engine.store.backup_daily import DailySettings, daily_settings, prune, run_daily
from engine.store.tables import setting

OFFICE = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 5, 11, 2, 30, tzinfo=OFFICE)


def claim_value(core) -> str | None:
    with core.db.read() as conn:
        return conn.execute(select(setting.c.value).where(setting.c.key == backup_daily.KEY)).scalar()


@pytest.fixture
def settings(tmp_path, monkeypatch) -> DailySettings:
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    return DailySettings(tmp_path / "backups", keep=2, at=time(2, 0))


def test_settings_from_the_environment(core, tmp_path, monkeypatch):
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    for name in ("OAFLOW_BACKUP_DIR", "OAFLOW_BACKUP_KEEP", "OAFLOW_BACKUP_AT"):
        monkeypatch.delenv(name, raising=False)
    assert daily_settings(core) == DailySettings((tmp_path / "data" / "backups").resolve(), 7, time(2, 0))

    monkeypatch.setenv("OAFLOW_BACKUP_DIR", str(tmp_path / "nas"))
    monkeypatch.setenv("OAFLOW_BACKUP_KEEP", "30")
    monkeypatch.setenv("OAFLOW_BACKUP_AT", "23:15")
    assert daily_settings(core) == DailySettings((tmp_path / "nas").resolve(), 30, time(23, 15))

    monkeypatch.setenv("OAFLOW_BACKUP_KEEP", "0")
    assert daily_settings(core) is None

    monkeypatch.setenv("OAFLOW_BACKUP_KEEP", "七")
    with pytest.raises(BackupError, match="OAFLOW_BACKUP_KEEP 必须是 0 或正整数"):
        daily_settings(core)
    monkeypatch.setenv("OAFLOW_BACKUP_KEEP", "7")
    monkeypatch.setenv("OAFLOW_BACKUP_AT", "25:00")
    with pytest.raises(BackupError, match="OAFLOW_BACKUP_AT 必须是 时:分，例如 02:30"):
        daily_settings(core)


def test_one_backup_a_day_from_the_configured_time(core, settings):
    assert run_daily(core, MORNING.replace(hour=1, minute=59), settings) is None
    assert not settings.directory.exists()

    made = run_daily(core, MORNING, settings)
    assert made is not None and made.path.parent == settings.directory.resolve()
    assert made.path.name == "oaflow-backup-20260511-023000.tar.gz"
    assert claim_value(core) == f"2026-05-11 done {made.path.name}"
    assert run_daily(core, MORNING + timedelta(hours=20), settings) is None  # the same office day

    # An office machine that was off at 02:00 makes the next day's backup when it runs again.
    later = run_daily(core, MORNING + timedelta(days=1, hours=6), settings)
    assert later is not None and later.path.name == "oaflow-backup-20260512-083000.tar.gz"
    assert sorted(p.name for p in settings.directory.iterdir()) == [made.path.name, later.path.name]


def test_a_failed_backup_is_retried_half_an_hour_later(core, settings):
    settings.directory.parent.mkdir(parents=True, exist_ok=True)
    settings.directory.write_text("not a folder")  # the backup cannot be written
    with pytest.raises(FileExistsError):
        run_daily(core, MORNING, settings)
    assert claim_value(core).startswith("2026-05-11 claimed ")
    assert run_daily(core, MORNING + timedelta(minutes=5), settings) is None  # not every five minutes

    settings.directory.unlink()
    made = run_daily(core, MORNING + timedelta(minutes=31), settings)
    assert made is not None and claim_value(core).startswith("2026-05-11 done ")


def test_a_claim_held_by_a_scheduler_that_died_expires(core, settings):
    until = MORNING + timedelta(minutes=10)
    with core.db.write() as conn:
        conn.execute(insert(setting).values(key=backup_daily.KEY, value=backup_daily._claimed("2026-05-11", until)))
    assert run_daily(core, MORNING, settings) is None  # someone is on it
    assert run_daily(core, until + timedelta(seconds=1), settings) is not None


def test_only_the_newest_backups_are_kept(core, settings, tmp_path):
    folder = tmp_path / "kept"
    folder.mkdir()
    names = [f"oaflow-backup-202605{day:02d}-020000.tar.gz" for day in range(1, 6)]
    for name in names:
        (folder / name).write_bytes(b"x")
    (folder / "notes.txt").write_text("mine")
    stale = folder / "oaflow-backup-20260430-020000.tar.gz.partial"
    fresh = folder / "oaflow-backup-20260506-020000.tar.gz.partial"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    two_days_ago = clock.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))

    deleted = prune(core, folder, 2)
    assert sorted(p.name for p in deleted) == sorted([*names[:3], stale.name])
    assert sorted(p.name for p in folder.iterdir()) == sorted([*names[3:], "notes.txt", fresh.name])


def test_the_daily_folder_is_never_inside_a_backup(core, settings):
    data = Path(os.environ["OAFLOW_DATA_DIR"])
    (data / "backups").mkdir(parents=True)
    (data / "secret.key").write_bytes(b"k")
    in_data = DailySettings(data / "backups", keep=2, at=time(2, 0))
    first = run_daily(core, MORNING, in_data)
    second = run_daily(core, MORNING + timedelta(days=1), in_data)
    assert first.files == second.files == 1
