"""The daily backup job: configured from OAFLOW_BACKUP_*, off with OAFLOW_BACKUP_KEEP=0, a wrong setting
stops the start, and several schedulers asking at the same moment make one backup (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import time

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

import schedulers
from engine.core import Core
from engine.store import backup_daily
from engine.store.backup_archive import BackupError
from engine.store.tables import setting

SCHEDULERS = 4


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    for name in ("OAFLOW_BACKUP_DIR", "OAFLOW_BACKUP_KEEP", "OAFLOW_BACKUP_AT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def configured(core) -> BackgroundScheduler:
    return schedulers._configure(BackgroundScheduler(timezone=schedulers.TZ), core)


def test_the_job_follows_the_settings(core, env, tmp_path):
    job = configured(core).get_job("daily_backup")
    assert job is not None and job.trigger.interval.total_seconds() == 300
    settings = job.args[1]
    assert (settings.directory, settings.keep, settings.at) == ((tmp_path / "data" / "backups").resolve(), 7, time(2))

    env.setenv("OAFLOW_BACKUP_DIR", str(tmp_path / "nas"))
    env.setenv("OAFLOW_BACKUP_KEEP", "14")
    env.setenv("OAFLOW_BACKUP_AT", "22:30")
    settings = configured(core).get_job("daily_backup").args[1]
    assert (settings.directory, settings.keep, settings.at) == ((tmp_path / "nas").resolve(), 14, time(22, 30))

    env.setenv("OAFLOW_BACKUP_KEEP", "0")
    assert configured(core).get_job("daily_backup") is None
    assert configured(core).get_job("deadline_sweep") is not None  # the other jobs are unaffected

    env.setenv("OAFLOW_BACKUP_KEEP", "3")
    env.setenv("OAFLOW_BACKUP_AT", "两点")
    with pytest.raises(BackupError, match="OAFLOW_BACKUP_AT"):
        configured(core)


def test_several_schedulers_make_one_backup_a_day(core, db_url, env, tmp_path):
    """Four schedulers (each with its own connections, as separate processes have) run the job at once."""
    folder = tmp_path / "backups"
    settings = backup_daily.DailySettings(folder, keep=7, at=time(0, 0))
    cores = [Core(url=db_url) for _ in range(SCHEDULERS)]
    barrier = threading.Barrier(SCHEDULERS)

    def one_scheduler(own: Core) -> None:
        barrier.wait()
        schedulers.daily_backup(own, settings)  # logs and swallows any error, as the scheduler does

    threads = [threading.Thread(target=one_scheduler, args=(own,)) for own in cores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        schedulers.daily_backup(cores[0], settings)  # later the same day: nothing more
    finally:
        for own in cores:
            own.db.dispose()
    made = sorted(folder.glob("oaflow-backup-*.tar.gz"))
    assert len(made) == 1, made
    assert not list(folder.glob("*.partial"))
    with core.db.read() as conn:
        claim = conn.execute(select(setting.c.value).where(setting.c.key == backup_daily.KEY)).scalar()
    assert claim.endswith(f" done {made[0].name}")
