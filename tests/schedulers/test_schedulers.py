"""Several scheduler processes against one PostgreSQL database: 1,000 overdue work items, three
`oaflow scheduler` processes started at once, and every reminder and escalation exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from engine.core import Core
from engine.store.tables import event_log, instance, notification, reminder, user_account, utcnow, work_item
from engine.work import initiate

ITEMS = 1000
# Each of these has two leaders above them, so every item takes three steps: overdue (and its first
# escalation, recorded as its own step) and the second escalation a working day later.
ASSIGNEES = ("zhangsan", "lisi", "sunli", "chenjing", "zhaolei")
LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}


@pytest.fixture
def pg_core(pg_server):
    url = pg_server.fresh()
    core = Core(url=url)
    yield core, url
    core.db.dispose()
    pg_server.drop(url)


def _seed_overdue_items(core) -> list[int]:
    started = initiate.start(core, "zhangsan", "leave", LEAVE)
    long_ago = utcnow() - timedelta(days=30)
    with core.db.write() as conn:
        ids = dict(conn.execute(select(user_account.c.username, user_account.c.id)).all())
        rows = [
            {
                "instance_id": started["id"],
                "task_id": str(uuid.uuid4()),
                "node_id": "Task_dept_leader",
                "node_name": "部门负责人审批",
                "kind": "approve",
                "assignee_id": ids[ASSIGNEES[n % len(ASSIGNEES)]],
                "status": "open",
                "created_at": long_ago - timedelta(days=5),
                "due_at": long_ago,
            }
            for n in range(ITEMS)
        ]
        conn.execute(insert(work_item), rows)
        conn.execute(
            work_item.update().where(work_item.c.instance_id == started["id"], work_item.c.due_at > long_ago),
            {"status": "cancelled"},
        )
        return [
            row.id
            for row in conn.execute(
                select(work_item.c.id).where(work_item.c.instance_id == started["id"], work_item.c.status == "open")
            )
        ]


def _scheduler(url: str) -> subprocess.Popen:
    env = {**os.environ, "OAFLOW_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "scheduler"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.postgres
def test_three_schedulers_notify_each_step_exactly_once(pg_core):
    core, url = pg_core
    item_ids = _seed_overdue_items(core)
    assert len(item_ids) == ITEMS
    processes = [_scheduler(url) for _ in range(3)]
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with core.db.read() as conn:
                steps = conn.execute(select(func.count()).select_from(reminder)).scalar()
            if steps >= 3 * ITEMS or any(p.poll() is not None for p in processes):
                break
            time.sleep(0.5)
        time.sleep(2)  # let a straggling sweep finish; it must add nothing
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        errors = []
        for process in processes:
            try:
                _out, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _out, err = process.communicate()
            errors.append(err.decode(errors="replace"))
    assert not any("Traceback" in e for e in errors), "\n".join(errors)

    with core.db.read() as conn:
        steps = Counter(
            (row.work_item_id, row.step)
            for row in conn.execute(
                select(reminder.c.work_item_id, reminder.c.step).where(reminder.c.work_item_id.in_(item_ids))
            )
        )
        sent = Counter(
            (row.work_item_id, row.kind, row.user_id)
            for row in conn.execute(
                select(notification.c.work_item_id, notification.c.kind, notification.c.user_id).where(
                    notification.c.work_item_id.in_(item_ids)
                )
            )
        )
        logged = Counter(
            row.type for row in conn.execute(select(event_log.c.type).where(event_log.c.work_item_id.in_(item_ids)))
        )
        status = conn.execute(select(instance.c.status)).scalars().all()
    assert len(steps) == 3 * ITEMS and set(steps.values()) == {1}
    assert {step for _item, step in steps} == {"overdue", "escalate1", "escalate2"}
    # 1,000 已超时 to the assignees, 2,000 escalations to their leaders: each exactly once.
    assert sum(sent.values()) == 3 * ITEMS and set(sent.values()) == {1}
    assert Counter(kind for _item, kind, _user in sent) == {"overdue": ITEMS, "escalated": 2 * ITEMS}
    assert logged == {"overdue": ITEMS, "escalated": 2 * ITEMS}
    assert status == ["running"]
