"""APScheduler triggers the engine's periodic jobs; the jobs' state lives in our own tables, so any
number of scheduler processes can run (APScheduler's job store is never shared, DESIGN §8)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine import deadlines, external

log = logging.getLogger("oaflow.scheduler")


def deadline_sweep(core) -> None:
    try:
        sent = deadlines.sweep(core)
        if sent:
            log.info("deadline sweep: %d reminder(s) sent", sent)
    except Exception:  # one failed sweep must not stop the next
        log.exception("deadline sweep failed")


def bpmn_timers(core) -> None:
    try:
        fired = external.fire_due_timers(core)
        if fired:
            log.info("BPMN timers: %d fired", fired)
    except Exception:  # one failed sweep must not stop the next
        log.exception("BPMN timer sweep failed")


def _configure(scheduler, core):
    scheduler.add_job(
        deadline_sweep,
        "interval",
        minutes=1,
        args=[core],
        id="deadline_sweep",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    scheduler.add_job(bpmn_timers, "interval", minutes=1, args=[core], id="bpmn_timers", max_instances=1, coalesce=True)
    return scheduler


def start_background(core) -> BackgroundScheduler:
    scheduler = _configure(BackgroundScheduler(timezone="Asia/Shanghai"), core)
    scheduler.start()
    return scheduler


def run_blocking(core) -> None:
    scheduler = _configure(BlockingScheduler(timezone="Asia/Shanghai"), core)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
