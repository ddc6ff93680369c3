"""APScheduler triggers the engine's periodic jobs; the jobs' state lives in our own tables, so any
number of scheduler processes can run (APScheduler's job store is never shared, DESIGN §8).

Jobs: the deadline sweep (every minute), BPMN timers (every second, so a timer fires within 2 s of its
time), notification delivery (every 15 s), the monthly statistics snapshots (the 28th and the last
day of each month, §五 2.7), the daily purge of the 登录日志 past its retention and the daily backup
(asked every 5 minutes; made once a day from OAFLOW_BACKUP_AT on). Each job claims its rows with row
locks (the backup: its day), so running it in several processes at once does each piece of work once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.notify import delivery
from engine.org import sign_in_log
from engine.reports import monthly
from engine.store import backup_daily
from engine.work import deadlines, timers

log = logging.getLogger("oaflow.scheduler")
TZ = "Asia/Shanghai"


def deadline_sweep(core) -> None:
    try:
        taken = deadlines.sweep(core)
        if taken:
            log.info("deadline sweep: %d step(s) taken", taken)
    except Exception:  # one failed sweep must not stop the next
        log.exception("deadline sweep failed")


def timer_tick(core) -> None:
    try:
        fired = timers.fire_due(core)
        if fired:
            log.info("timers: %d fired", fired)
    except Exception:
        log.exception("timer job failed")


def start_timer_sync(core) -> None:
    try:
        timers.sync_start_timers(core)
    except Exception:
        log.exception("timer start event sync failed")


def deliver_notifications(core) -> None:
    try:
        stats = delivery.deliver(core)
        if stats["sent"] or stats["failed"] or stats["retry"]:
            log.info("notifications: %s", stats)
    except Exception:
        log.exception("notification delivery failed")


def monthly_snapshot(core, snapshot: str) -> None:
    try:
        monthly.take_snapshot(core, snapshot)
    except Exception:
        log.exception("monthly statistics snapshot failed")


def daily_backup(core, settings: backup_daily.DailySettings) -> None:
    try:
        result = backup_daily.run_daily(core, datetime.now(ZoneInfo(TZ)), settings)
        if result is not None:
            log.info("daily backup: %s (%s, %.1f s)", result.path, result.size, result.seconds)
    except Exception:  # retried by this or another scheduler half an hour later
        log.exception("daily backup failed")


def purge_sign_in_log(core) -> None:
    try:
        removed = sign_in_log.purge_old(core)
        if removed:
            log.info("登录日志: %d attempt(s) past the retention removed", removed)
    except Exception:
        log.exception("purging the sign-in log failed")


def _configure(scheduler, core):
    backup_settings = backup_daily.daily_settings(core)  # a wrong OAFLOW_BACKUP_* stops the start
    now = datetime.now(scheduler.timezone)
    common = dict(args=[core], max_instances=1, coalesce=True, replace_existing=True)
    scheduler.add_job(deadline_sweep, "interval", minutes=1, id="deadline_sweep", next_run_time=now, **common)
    scheduler.add_job(timer_tick, "interval", seconds=1, id="bpmn_timers", next_run_time=now, **common)
    scheduler.add_job(start_timer_sync, "interval", seconds=30, id="timer_start_sync", next_run_time=now, **common)
    scheduler.add_job(
        deliver_notifications, "interval", seconds=15, id="notification_delivery", next_run_time=now, **common
    )
    scheduler.add_job(
        purge_sign_in_log,
        "cron",
        hour=3,
        minute=30,
        id="sign_in_log_purge",
        args=[core],
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    # §五 2.7: statistics are handed over before the 28th; a month-end snapshot closes the month.
    scheduler.add_job(
        monthly_snapshot,
        "cron",
        day=28,
        hour=18,
        minute=0,
        id="monthly_day28",
        args=[core, "day28"],
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    scheduler.add_job(
        monthly_snapshot,
        "cron",
        day="last",
        hour=23,
        minute=50,
        id="monthly_month_end",
        args=[core, "month_end"],
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    if backup_settings is not None:  # OAFLOW_BACKUP_KEEP=0 turns it off
        scheduler.add_job(
            daily_backup,
            "interval",
            minutes=5,
            id="daily_backup",
            args=[core, backup_settings],
            next_run_time=now + timedelta(minutes=1),  # not in the middle of starting up
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    return scheduler


def start_background(core) -> BackgroundScheduler:
    scheduler = _configure(BackgroundScheduler(timezone=TZ), core)
    scheduler.start()
    return scheduler


def run_blocking(core) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = _configure(BlockingScheduler(timezone=TZ), core)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
