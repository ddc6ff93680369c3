"""The restore drill: `oaflow backup` while a server-like load runs (threads starting 请假 and approving
them), `oaflow restore` into a new data directory and database, and then:

- everything acknowledged before the backup began is there, at least as far as it was acknowledged;
- nothing started after the backup returned is;
- the workflow state and the work items agree for every application;
- the applications still running go on to the end after the restore.

SQLite, and PostgreSQL with pg_dump (skipped without it, unless OAFLOW_REQUIRE_PG is set)."""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.core import Core
from engine.store.tables import instance, user_account, work_item
from engine.work import consistency, decisions, initiate
from webapp.cli import main

WRITERS = 3
# 2 days: 部门负责人 only; 5: and 分管领导; 12: and 总经理.
LEAVES = {
    2: ("2026-11-23", "2026-11-24"),
    5: ("2026-11-23", "2026-11-27"),
    12: ("2026-11-23", "2026-12-08"),
}


@dataclass(frozen=True)
class Ack:
    called: float  # just before the call
    acked: float  # the call returned: the change is committed
    instance_id: int
    item_id: int | None  # the work item approved, or None for 发起
    status: str


def open_items(core, instance_id: int | None = None) -> list:
    query = (
        select(work_item.c.id, work_item.c.instance_id, user_account.c.username)
        .join(user_account, user_account.c.id == work_item.c.assignee_id)
        .where(work_item.c.kind == "approve", work_item.c.status == "open")
        .order_by(work_item.c.id)
    )
    if instance_id is not None:
        query = query.where(work_item.c.instance_id == instance_id)
    with core.db.read() as conn:
        return list(conn.execute(query))


class Load:
    """Server-like writers: each thread starts applications and approves some of their steps."""

    def __init__(self, core):
        self.core = core
        self.acks: list[Ack] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)]

    def _write(self, seed: int) -> None:
        chance = random.Random(seed)
        try:
            while not self.stop.is_set():
                days = chance.choice(list(LEAVES))
                start, end = LEAVES[days]
                data = {"leave_type": "年假", "start_date": start, "end_date": end, "reason": "探亲"}
                called = time.monotonic()
                started = initiate.start(self.core, chance.choice(["zhangsan", "lisi"]), "leave", data)
                self.acks.append(Ack(called, time.monotonic(), started["id"], None, started["status"]))
                for _ in range(chance.randint(0, 3)):
                    items = open_items(self.core, started["id"])
                    if not items:
                        break
                    called = time.monotonic()
                    done = decisions.complete(self.core, items[0].username, items[0].id, {}, "approve", "同意")
                    self.acks.append(Ack(called, time.monotonic(), started["id"], items[0].id, done["status"]))
        except Exception as error:  # reported by the test
            self.errors.append(repr(error))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


@pytest.fixture
def restore_target(backend, tmp_path_factory, request):
    """A new data directory and, on PostgreSQL, a new empty database: (environment for the CLI, URL)."""
    data_dir = tmp_path_factory.mktemp("restored")
    if backend == "sqlite":
        url = f"sqlite:///{data_dir / 'oaflow.sqlite3'}"
        yield {"OAFLOW_DATA_DIR": str(data_dir), "OAFLOW_DATABASE_URL": None}, url
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("OAFLOW_REQUIRE_PG"):
            pytest.fail("OAFLOW_REQUIRE_PG is set but pg_dump/pg_restore are not installed")
        pytest.skip("pg_dump/pg_restore are not installed (apt-get install postgresql-client)")
    server = request.getfixturevalue("pg_server")
    name = f"{server.prefix}_drill"
    server._execute(f'CREATE DATABASE "{name}"')
    url = server.admin_url.rsplit("/", 1)[0] + "/" + name
    yield {"OAFLOW_DATA_DIR": str(data_dir), "OAFLOW_DATABASE_URL": url}, url
    server.drop(url)


def test_restore_drill(core, db_url, backend, tmp_path, restore_target):
    source_data = tmp_path if backend == "sqlite" else tmp_path / "data"  # SQLite: the database lives there too
    (source_data / "attachments").mkdir(parents=True)
    (source_data / "secret.key").write_bytes(os.urandom(48))
    (source_data / "attachments" / "scan.pdf").write_bytes(os.urandom(200_000))
    archive = tmp_path / "drill.tar.gz"
    runner = CliRunner()
    source_env = {"OAFLOW_DATA_DIR": str(source_data), "OAFLOW_DATABASE_URL": db_url}

    with Load(core) as load:
        while len(load.acks) < 15 and not load.errors:
            time.sleep(0.05)
        began = time.monotonic()
        made = runner.invoke(main, ["backup", str(archive)], env=source_env, catch_exceptions=False)
        returned = time.monotonic()
        time.sleep(0.3)  # the load goes on after the backup
    assert load.errors == []
    assert made.exit_code == 0, made.output
    assert "[3/3] 写入备份文件" in made.output and "备份完成" in made.output

    target_env, target_url = restore_target
    restored_run = runner.invoke(main, ["restore", str(archive)], env=target_env, catch_exceptions=False)
    assert restored_run.exit_code == 0, restored_run.output
    assert "[6/6] 恢复数据目录" in restored_run.output and "恢复完成" in restored_run.output
    target_data = target_env["OAFLOW_DATA_DIR"]
    for name in ("secret.key", "attachments/scan.pdf"):
        assert open(os.path.join(target_data, name), "rb").read() == (source_data / name).read_bytes()

    restored = Core(url=target_url)
    try:
        with restored.db.read() as conn:
            status = dict(conn.execute(select(instance.c.id, instance.c.status)).all())
            item_status = dict(conn.execute(select(work_item.c.id, work_item.c.status)).all())
        before = [a for a in load.acks if a.acked < began]
        after = [a for a in load.acks if a.called > returned and a.item_id is None]
        assert before and after, "the load ran on both sides of the backup"
        during = [a for a in load.acks if a.called > began and a.acked < returned]
        assert during, "writers went on committing while the backup ran"
        for ack in before:
            assert ack.instance_id in status, f"application {ack.instance_id} was acknowledged before the backup"
            if ack.item_id is not None:
                assert item_status[ack.item_id] == "done", ack
            if ack.status == "approved":
                assert status[ack.instance_id] == "approved", ack
        assert not [a.instance_id for a in after if a.instance_id in status], "started after the backup returned"
        for instance_id in status:
            assert consistency.problems(restored, instance_id) == [], instance_id

        running = [i for i, s in status.items() if s == "running"]
        assert running, "some applications were still running at the backup"
        for _round in range(4):  # at most three approval steps, plus one to spare
            for item in open_items(restored):
                decisions.complete(restored, item.username, item.id, {}, "approve", "同意")
        with restored.db.read() as conn:
            final = dict(conn.execute(select(instance.c.id, instance.c.status)).all())
        assert {final[i] for i in running} == {"approved"}
        for instance_id in running:
            assert consistency.problems(restored, instance_id) == [], instance_id
    finally:
        restored.db.dispose()
