"""How long one admin action takes to migrate 1,000 running 请假 instances from v1 to a v2 that adds a step.

    python -m benchmarks.migration                 # SQLite in a temporary directory
    python -m benchmarks.migration --url postgresql://postgres@127.0.0.1:5432/oaflow_bench --runs 3

The instances wait on 部门负责人审批; version 2 adds 人事部备案 after it, so every instance is safe to move.
Each run times `migration.migrate` (dry-run checks included: every instance is judged again under its row
lock), then moves the instances back to version 1 untimed, so every run starts from the same state.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from engine.core import Core
from engine.org import demo
from engine.process import definitions, library
from engine.store import schema
from engine.store.database import Database
from engine.time import working_days
from engine.work import initiate, migration

TO_GW3 = b'<bpmn:sequenceFlow id="Flow_to_gw3" sourceRef="Task_dept_leader" targetRef="Gateway_over3" />'
HR_STEP = """
    <bpmn:userTask id="Task_hr_record" name="人事部备案">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="leave_approve" />
          <spiffworkflow:property name="assignee" value="dept_leader:人事部" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_hr_to_gw3" sourceRef="Task_hr_record" targetRef="Gateway_over3" />
""".encode()
LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}  # 2 days
STAFF = ("zhangsan", "lisi")


def leave_v2() -> bytes:
    xml = library.library_files()["leave.bpmn"]
    return xml.replace(TO_GW3, TO_GW3.replace(b'"Gateway_over3"', b'"Task_hr_record"') + HR_STEP)


def prepare(url: str, count: int) -> Core:
    db = Database(url)
    schema.upgrade(db)
    with db.write() as conn:
        working_days.seed_from_chinesecalendar(conn)
        demo.seed(conn)
        definitions.deploy(conn, library.library_files(), None)
    db.dispose()
    core = Core(url=url)
    started = time.perf_counter()
    for n in range(count):
        initiate.start(core, STAFF[n % len(STAFF)], "leave", LEAVE)
    print(f"started {count} instances on v1 in {time.perf_counter() - started:.1f} s")
    with core.db.write() as conn:
        definitions.deploy(conn, {"leave.bpmn": leave_v2()}, None)
    return core


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    core = prepare(url, args.instances)

    started = time.perf_counter()
    dry = migration.dry_run(core, "admin", "leave", 1, 2)
    print(f"dry run: {dry['safe']} safe, {dry['unsafe']} unsafe in {time.perf_counter() - started:.2f} s")

    times = []
    for run in range(args.runs):
        started = time.perf_counter()
        result = migration.migrate(core, "admin", "leave", 1, 2)
        elapsed = time.perf_counter() - started
        assert len(result["migrated"]) == args.instances, result["unsafe"]
        times.append(elapsed)
        print(f"run {run + 1}: migrated {len(result['migrated'])} instances v1 → v2 in {elapsed:.2f} s")
        back = migration.migrate(core, "admin", "leave", 2, 1)  # untimed: the next run starts from v1 again
        assert len(back["migrated"]) == args.instances
    median = statistics.median(times)
    backend = "SQLite" if core.db.is_sqlite else "PostgreSQL"
    print(
        f"median of {args.runs} runs ({backend}): {median:.2f} s for {args.instances} instances "
        f"({args.instances / median:.0f} instances/s)"
    )
    core.db.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
