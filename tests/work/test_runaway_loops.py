"""Runaway loops: a cycle of automatic steps only (manual tasks passed through, scripts, gateways) is refused at
deploy when it has no way out at all, and otherwise stopped within the command's budget with a located
Chinese message — at the start nothing is stored; after a decision the instance enters 异常 — and the next
user's write goes through at once (the write lock was not held)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from support import DATA, LEAVE

from engine.errors import DeployFailed
from engine.process import definitions
from engine.store.tables import instance, work_item

# The command budget is 1 s of CPU (limits.ENGINE_SECONDS); the wall clock of a loaded test machine is longer.
PROMPT = 15


def deploy(core, name: str) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: (DATA / name).read_bytes()}, None)


def counts(core) -> tuple[int, int]:
    with core.db.read() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (instance, work_item))


def status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def next_write_goes_through(api) -> None:
    began = time.perf_counter()
    assert api("wangfang").post("/api/v1/instances", json={"process": "leave", "data": LEAVE}).status_code == 201
    assert time.perf_counter() - began < 2


def test_a_cycle_of_automatic_steps_with_no_way_out_is_refused_at_deploy(core):
    with pytest.raises(DeployFailed) as failed:
        deploy(core, "rt_closed_loop.bpmn")
    (problem,) = [p for p in failed.value.problems if "循环" in p.message]
    assert problem.element == "join" and problem.line == 8, problem
    assert "join、check、count" in problem.message and "没有出口" in problem.message


@pytest.mark.parametrize("name", ["rt_manual_loop.bpmn", "rt_loop_after_review.bpmn"])
def test_a_cycle_with_a_way_out_deploys(core, name):
    deploy(core, name)


def test_a_cycle_through_a_person_deploys(core):
    content = (DATA / "rt_closed_loop.bpmn").read_bytes().replace(b"manualTask", b"userTask")
    with core.db.write() as conn:
        definitions.deploy(conn, {"rt_closed_loop.bpmn": content}, None)


def test_a_loop_at_the_start_is_stopped_within_the_budget_and_stores_nothing(api, core):
    deploy(core, "rt_manual_loop.bpmn")
    before = counts(core)
    began = time.perf_counter()
    response = api("zhangsan").post("/api/v1/instances", json={"process": "rt_manual_loop", "data": {}})
    took = time.perf_counter() - began
    body = response.get_json()
    assert response.status_code == 422, body  # was a 500 when a passed-through manual task hit the budget
    assert body["element"] in {"check", "count", "gw"} and f"（{body['element']}）" in body["error"], body
    assert "一次操作" in body["error"], body
    assert took < PROMPT, took
    assert counts(core) == before
    next_write_goes_through(api)


def test_a_loop_after_a_decision_puts_the_instance_in_error(api, core):
    deploy(core, "rt_loop_after_review.bpmn")
    started = api("zhangsan").post("/api/v1/instances", json={"process": "rt_loop_after_review", "data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    with core.db.read() as conn:
        query = select(work_item.c.id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        (item_id,) = conn.execute(query).scalars()
    began = time.perf_counter()
    response = api("lisi").post(
        f"/api/v1/work-items/{item_id}/complete", json={"decision": "approve", "opinion": "同意"}
    )
    took = time.perf_counter() - began
    assert response.status_code == 422, response.get_json()
    assert "一次操作" in response.get_json()["error"] and "异常" in response.get_json()["error"]
    assert took < PROMPT, took
    assert status(core, instance_id) == "error"
    next_write_goes_through(api)
