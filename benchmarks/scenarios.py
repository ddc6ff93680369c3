"""The benchmark scenarios. Each yields Result objects; all data is built here, quickly, in bulk."""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, text, update

from engine.core import Core
from engine.org import demo, users
from engine.process import bpmn, definitions, library
from engine.process.state import dump_state, load_state
from engine.store import schema
from engine.store.tables import instance, user_account, utcnow, work_item
from engine.time import working_days
from engine.work import deadlines, decisions, initiate
from engine.work.views import worklist

from .stats import Result, timed

LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-27", "reason": "bench"}  # 5 days
TWO_DAYS = {**LEAVE, "end_date": "2026-11-24"}  # 天数 is computed by the server from the dates


# --- databases ---------------------------------------------------------------------------------


def _fresh_url(tmp: Path, backend: str, url: str | None, name: str) -> str:
    if backend == "sqlite":
        path = tmp / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg  # noqa: PLC0415 (optional: installed with .[postgres], needed only on PostgreSQL)

    admin = url.replace("postgresql+psycopg://", "postgresql://")
    db = f"oaflow_bench_{name}_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    _CREATED.append((admin, db))
    return admin.rsplit("/", 1)[0] + "/" + db


_CREATED: list[tuple[str, str]] = []


def drop_databases() -> None:
    """Drop the PostgreSQL databases this run created (the SQLite files go with the temporary folder)."""
    import psycopg  # noqa: PLC0415 (optional: installed with .[postgres], needed only on PostgreSQL)

    for core, _ in _DATASETS.values():
        core.db.dispose()
    _DATASETS.clear()
    while _CREATED:
        admin, db = _CREATED.pop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _prepared(tmp: Path, backend: str, url: str | None, name: str) -> Core:
    core = Core(url=_fresh_url(tmp, backend, url, name))
    schema.upgrade(core.db)
    with core.db.write() as conn:
        working_days.seed_from_chinesecalendar(conn)
        demo.seed(conn)
        definitions.deploy(conn, library.library_files(), None)
    return core


def _open_items(core: Core, instance_id: int) -> list[tuple[int, str]]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(work_item.c.id, user_account.c.username)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve")
        )
        return [(row.id, row.username) for row in rows]


# --- 1. floor: raw SpiffWorkflow ---------------------------------------------------------------


def floor(tmp, backend, url, *, quick, progress):
    """The leave BPMN, start + two user tasks, state serialized and restored at each step, spec cached."""
    files = library.library_files()
    tree = bpmn.parse_xml(files["leave.bpmn"], "leave.bpmn")
    spec, subprocesses = bpmn.spiff_specs({"leave.bpmn": tree}, "leave")

    def flow():
        workflow = BpmnWorkflow(spec, subprocesses)
        workflow.task_tree.data.update({**LEAVE, "days": 5})  # bare SpiffWorkflow: no form computes 天数
        workflow.do_engine_steps()
        state = dump_state(workflow)
        for _ in range(2):
            workflow = load_state(state, spec, subprocesses, None)
            workflow.script_engine = _default_engine
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data["approved"] = True
            task.run()
            workflow.do_engine_steps()
            for extra in workflow.get_tasks(state=TaskState.READY, manual=True):  # the 知会 pass-through
                extra.run()
            workflow.do_engine_steps()
            state = dump_state(workflow)
        assert workflow.is_completed()

    timed(flow, 20)  # warm up
    yield Result("floor: start + 2 tasks", backend, timed(flow, 50 if quick else 1000), note="raw SpiffWorkflow")


from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402

_default_engine = PythonScriptEngine()


# --- 2. engine flow ----------------------------------------------------------------------------


def engine(tmp, backend, url, *, quick, progress):
    core = _prepared(tmp, backend, url, "engine")

    def flow():
        started = initiate.start(core, "zhangsan", "leave", LEAVE)
        for _ in range(2):
            item_id, username = _open_items(core, started["id"])[0]
            decisions.complete(core, username, item_id, {}, "approve", "同意")

    def flow_commands_only():
        values = []
        started_at = time.perf_counter()
        started = initiate.start(core, "zhangsan", "leave", LEAVE)
        values.append(time.perf_counter() - started_at)
        for _ in range(2):
            item_id, username = _open_items(core, started["id"])[0]  # the client's inbox query: not counted
            t = time.perf_counter()
            decisions.complete(core, username, item_id, {}, "approve", "同意")
            values.append(time.perf_counter() - t)
        return sum(values) * 1000

    timed(flow, 10)
    samples = [flow_commands_only() for _ in range(30 if quick else 500)]
    yield Result(
        "engine flow", backend, samples, goal="≤ 1.5 × floor", note="3 commands, durable commits", vs_floor=True
    )
    # The same with every command restoring its workflow from the stored state, as a command does when
    # another process handled the instance last (engine.workflow_cache).
    core.workflows.size = 0
    samples = [flow_commands_only() for _ in range(30 if quick else 500)]
    yield Result("engine flow, no workflow cache", backend, samples, note="every command restores", vs_floor=True)
    core.db.dispose()


# --- 3. REST flow ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real `oaflow` web process (waitress, one worker thread) on a prepared database."""

    def __init__(self, db_url: str, threads: int = 1):
        self.port = _free_port()
        env = {**os.environ, "OAFLOW_DATABASE_URL": db_url, "OAFLOW_SECRET_KEY": "bench"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server", str(self.port), str(threads)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("benchmark server did not start: " + self.process.stderr.read().decode())

    def client(self, username: str) -> Client:
        return Client(self.port, username)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Client:
    def __init__(self, port: int, username: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        token = self.call("POST", "/api/v1/auth/token", {"username": username, "password": demo.DEMO_PASSWORD})
        self.headers = {"Authorization": "Bearer " + token["token"], "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None):
        headers = getattr(self, "headers", {"Content-Type": "application/json"})
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload) if payload else None


def rest(tmp, backend, url, *, quick, progress):
    core = _prepared(tmp, backend, url, "rest")
    server = Server(str(core.db.engine.url.render_as_string(hide_password=False)))
    try:
        clients = {name: server.client(name) for name in ("zhangsan", "sunli", "huangwei")}

        def sample():
            t = time.perf_counter()
            started = clients["zhangsan"].call("POST", "/api/v1/instances", {"process": "leave", "data": LEAVE})
            start_ms = (time.perf_counter() - t) * 1000
            rest_ms = 0.0
            for _ in range(2):
                item_id, username = _open_items(core, started["id"])[0]
                t = time.perf_counter()
                clients[username].call(
                    "POST", f"/api/v1/work-items/{item_id}/complete", {"decision": "approve", "opinion": "同意"}
                )
                rest_ms += (time.perf_counter() - t) * 1000
            return start_ms + rest_ms

        for _ in range(10):
            sample()
        yield Result(
            "REST flow",
            backend,
            [sample() for _ in range(30 if quick else 500)],
            goal="≤ 10 ms median",
            note="POST /instances + 2 × POST complete, one worker",
            vs_floor=True,
        )
    finally:
        server.stop()
        core.db.dispose()


# --- 4/5. inbox and sweep on a large data set ----------------------------------------------------

_DATASETS: dict[str, tuple[Core, list[int]]] = {}


def _dataset(tmp, backend, url, quick, progress) -> tuple[Core, list[int]]:
    """USERS users, ITEMS open work items spread over them, on INSTANCES instances (bulk inserts)."""
    key = f"{backend}-{quick}"
    if key in _DATASETS:
        return _DATASETS[key]
    users, items = (200, 20_000) if quick else (10_000, 1_000_000)
    core = _prepared(tmp, backend, url, "large")
    now = utcnow()
    with core.db.write() as conn:
        hash_ = conn.execute(select(user_account.c.password_hash).where(user_account.c.username == "zhangsan")).scalar()
        definition_id = definitions.latest(conn, "leave").id
        first_user = conn.execute(select(user_account.c.id).order_by(user_account.c.id.desc()).limit(1)).scalar() + 1
        for start in range(0, users, 5000):
            conn.execute(
                insert(user_account),
                [
                    {
                        "username": f"u{n}",
                        "display_name": f"用户{n}",
                        "password_hash": hash_,
                        "is_admin": False,
                        "active": True,
                        "created_at": now,
                    }
                    for n in range(start, min(users, start + 5000))
                ],
            )
    user_ids = list(range(first_user, first_user + users))
    instances = items // 10
    progress(f"generating {instances:,} instances and {items:,} open work items")
    chunk = 10_000
    with core.db.write() as conn:
        first_instance = (conn.execute(select(instance.c.id).order_by(instance.c.id.desc()).limit(1)).scalar() or 0) + 1
        for start in range(0, instances, chunk):
            conn.execute(
                insert(instance),
                [
                    {
                        "definition_id": definition_id,
                        "process_key": "leave",
                        "title": f"基准申请 {n}",
                        "initiator_id": user_ids[n % users],
                        "status": "running",
                        "priority": "正常",
                        "current_nodes": "部门负责人审批",
                        "data": "{}",
                        "state": "{}",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(instances, start + chunk))
                ],
            )
    rng = random.Random(7)
    future = now + timedelta(days=30)
    for start in range(0, items, 50_000):
        with core.db.write() as conn:
            conn.execute(
                insert(work_item),
                [
                    {
                        "instance_id": first_instance + n // 10,
                        "task_id": f"00000000-0000-0000-0000-{n:012d}",
                        "node_id": "Task_dept_leader",
                        "node_name": "部门负责人审批",
                        "kind": "approve",
                        "assignee_id": user_ids[rng.randrange(users)],
                        "status": "open",
                        "created_at": now - timedelta(minutes=n % 10_000),
                        "due_at": future,
                        "seq": 0,
                        "origin": "rule",
                        # planned as the engine plans a new item: the early reminder is its next step
                        "next_step": "remind",
                        "next_step_at": future - timedelta(hours=2),
                    }
                    for n in range(start, min(items, start + 50_000))
                ],
            )
        if start % 200_000 == 0:
            progress(f"  {start + 50_000:,} work items")
    with core.db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    _DATASETS[key] = (core, user_ids)
    return core, user_ids


def inbox(tmp, backend, url, *, quick, progress):
    core, user_ids = _dataset(tmp, backend, url, quick, progress)

    rng = random.Random(11)
    with core.db.read() as conn:
        people = [users.get_user(conn, uid) for uid in rng.sample(user_ids, 50)]

    def one():
        with core.db.read() as conn:
            result = worklist.inbox(conn, rng.choice(people), "todo", "", 1, 20)
        assert result["total"] > 0

    timed(one, 20)
    yield Result(
        "inbox: todo page 1 + total",
        backend,
        timed(one, 100 if quick else 1000),
        goal="p95 ≤ 15 ms",
        note=f"{len(user_ids):,} users",
    )


def sweep(tmp, backend, url, *, quick, progress):
    core, _ = _dataset(tmp, backend, url, quick, progress)
    with core.db.read() as conn:
        ids = [row.id for row in conn.execute(select(work_item.c.id).where(work_item.c.status == "open").limit(20_000))]
    rounds = 3 if quick else 10
    picked = random.Random(5).sample(ids, 1000 * rounds)  # each round its own 1,000 items
    now = utcnow()
    due_samples = []
    for round_ in range(rounds):
        batch = picked[round_ * 1000 : (round_ + 1) * 1000]
        with core.db.write() as conn:
            conn.execute(
                update(work_item)
                .where(work_item.c.id.in_(batch))
                .values(due_at=now - timedelta(minutes=5), next_step="overdue", next_step_at=now - timedelta(minutes=5))
            )
        t = time.perf_counter()
        taken = deadlines.sweep(core, now)
        due_samples.append((time.perf_counter() - t) * 1000)
        assert taken >= 1000, taken  # overdue reminders (and the leaders' notices) for this round's items
        with core.db.write() as conn:  # nothing further due for them in later rounds
            conn.execute(update(work_item).where(work_item.c.id.in_(batch)).values(next_step="done", next_step_at=None))
    yield Result("sweep: 1,000 due", backend, due_samples, goal="≤ 1 s")
    yield Result(
        "sweep: none due", backend, timed(lambda: deadlines.sweep(core, now), 10 if quick else 50), goal="≤ 50 ms"
    )


# --- 6. concurrency (PostgreSQL) ------------------------------------------------------------------


def concurrency(tmp, backend, url, *, quick, progress):
    core = _prepared(tmp, backend, url, "concurrency")
    flows = 80 if quick else 1600
    instance_ids = [initiate.start(core, "zhangsan", "leave", TWO_DAYS)["id"] for _ in range(flows)]
    items = [_open_items(core, i)[0][0] for i in instance_ids]
    db_url = str(core.db.engine.url.render_as_string(hide_password=False))
    # Two threads per process, as README recommends for PostgreSQL deployments: request handling is
    # CPU-bound Python, and more threads per process only contend for the GIL (4 threads: ~120/s, 2: ~170/s).
    servers = [Server(db_url, threads=2), Server(db_url, threads=2)]
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(items)

    def worker(index: int):
        client = servers[index % 2].client("sunli")
        while True:
            with lock:
                if not queue:
                    return
                item_id = queue.pop()
            t = time.perf_counter()
            client.call("POST", f"/api/v1/work-items/{item_id}/complete", {"decision": "approve", "opinion": "同意"})
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(elapsed)

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        for server in servers:
            server.stop()
    with core.db.read() as conn:
        approved = conn.execute(
            select(instance.c.id).where(instance.c.id.in_(instance_ids), instance.c.status == "approved")
        ).all()
    lost = flows - len(approved)
    throughput = Result(
        "concurrency: completions/s",
        backend,
        [flows / wall],
        unit="/s",
        goal="≥ 200/s, 0 lost",
        note=f"{lost} lost of {flows}",
    )
    yield throughput
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    yield Result("concurrency: p99 latency", backend, [p99], note="2 processes × 2 threads, 8 clients")
    core.db.dispose()


# --- 7. memory ---------------------------------------------------------------------------------


def memory(tmp, backend, url, *, quick, progress):
    core = _prepared(tmp, backend, url, "memory")
    server = Server(str(core.db.engine.url.render_as_string(hide_password=False)))
    total = 300 if quick else int(os.environ.get("OAFLOW_BENCH_MEMORY_FLOWS", "100000"))
    try:
        applicant, leader = server.client("zhangsan"), server.client("sunli")
        readings = []
        for n in range(1, total + 1):
            started = applicant.call("POST", "/api/v1/instances", {"process": "leave", "data": TWO_DAYS})
            item_id = started["work_items"][0]["id"]
            leader.call("POST", f"/api/v1/work-items/{item_id}/complete", {"decision": "approve", "opinion": "同意"})
            if n % max(1, total // 10) == 0:
                readings.append(server.rss_mb())
                progress(f"{n:,} flows: RSS {readings[-1]:.0f} MB")
        yield Result(
            f"memory: RSS after {total:,} flows",
            backend,
            [readings[-1]],
            unit="MB",
            goal="≤ 150 MB, flat",
            note="readings " + ", ".join(f"{r:.0f}" for r in readings),
        )
    finally:
        server.stop()
        core.db.dispose()
