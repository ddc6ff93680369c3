"""Instances waiting on several events at once: an event-based gateway (a message or a timer, whichever comes
first; the other is cancelled) and a parallel-multiple start event (every one of its events, in any order).
What they wait on is listed, their timers are fired by the scheduler's sweep, messages and signals reach
them, through the engine and the REST API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import DeployFailed
from engine.org import users
from engine.process import definitions
from engine.store.tables import instance, instance_timer, utcnow, work_item
from engine.work import events, initiate, timers
from engine.work.views import detail

DATA = Path(__file__).parent.parent / "data"
CORPUS = Path("/work/shared/bpmn-corpus/valid-tricky")
ALERT_AND_TIMER = "camunda-bpm-platform__EventBasedGatewayTest.testCatchAlertAndTimer.bpmn20.xml"


def later(minutes: float) -> datetime:
    return utcnow() + timedelta(minutes=minutes)


def deploy(core, name: str, content: bytes) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: content}, None)


def alert_and_timer() -> bytes:
    """Camunda's EventBasedGatewayTest.testCatchAlertAndTimer with a timer that really waits (PT5M)."""
    return (CORPUS / ALERT_AND_TIMER).read_bytes().replace(b"PT0S", b"PT5M")


def open_nodes(core, instance_id: int) -> list[str]:
    with core.db.read() as conn:
        query = select(work_item.c.node_id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        return sorted(conn.execute(query).scalars())


def status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def timer_row(core, instance_id: int):
    with core.db.read() as conn:
        query = select(instance_timer.c.due_at).where(instance_timer.c.instance_id == instance_id)
        return conn.execute(query).scalar()


def waiting(core, instance_id: int) -> list[dict]:
    with core.db.read() as conn:
        admin = users.find_user(conn, "admin")
    return detail.waiting_for(core, admin, instance_id)


# --- event-based gateway ---------------------------------------------------------------------------------


def test_the_gateway_lists_each_catch_event_and_its_timer_fires_from_the_sweep(core):
    deploy(core, "alert.bpmn", alert_and_timer())
    started = initiate.start(core, "admin", "catchSignal", {})
    listed = waiting(core, started["id"])
    assert [(w["kind"], w["element"], w["detail"] if w["kind"] != "timer" else None) for w in listed] == [
        ("signal", "signalEvent", "alert"),
        ("timer", "timerEvent", None),
    ]
    due = datetime.fromisoformat(listed[1]["detail"])
    assert timedelta(minutes=4) < due - datetime.now(timezone.utc) <= timedelta(minutes=5)
    assert timer_row(core, started["id"]) is not None  # indexed for the scheduler
    assert timers.fire_due(core, now=later(1)) == 0  # not yet
    assert timers.fire_due(core, now=later(6)) == 1  # the scheduler's sweep
    assert open_nodes(core, started["id"]) == ["task1"]
    assert waiting(core, started["id"]) == [] and timer_row(core, started["id"]) is None
    # The signal lost: broadcasting it now reaches no one.
    assert events.broadcast_signal(core, "admin", "alert", {}) == {"caught": [], "started": [], "failed": []}
    assert open_nodes(core, started["id"]) == ["task1"]


def test_a_signal_at_the_gateway_wins_and_cancels_the_timer(core):
    deploy(core, "alert.bpmn", alert_and_timer())
    started = initiate.start(core, "admin", "catchSignal", {})
    assert events.broadcast_signal(core, "admin", "alert", {})["caught"] == [started["id"]]
    assert open_nodes(core, started["id"]) == ["task2"]
    assert waiting(core, started["id"]) == [] and timer_row(core, started["id"]) is None
    assert timers.fire_instance(core, started["id"], now=later(60)) == 0  # the timer was cancelled
    assert open_nodes(core, started["id"]) == ["task2"]


def test_a_message_at_the_gateway_wins_with_its_payload(core):
    deploy(core, "rt_event_gateway.bpmn", (DATA / "rt_event_gateway.bpmn").read_bytes())
    started = initiate.start(core, "admin", "rt_gateway", {})
    assert [(w["kind"], w["element"], w["name"]) for w in waiting(core, started["id"])] == [
        ("message", "paid", "收到付款"),
        ("timer", "late", "五分钟未付"),
    ]
    events.send_message(core, "admin", started["id"], "付款到账", {"amount": 120})
    assert open_nodes(core, started["id"]) == ["ship"]
    assert timer_row(core, started["id"]) is None
    assert timers.fire_instance(core, started["id"], now=later(60)) == 0
    assert open_nodes(core, started["id"]) == ["ship"]


def test_the_gateway_over_the_rest_api(api, core):
    deploy(core, "rt_event_gateway.bpmn", (DATA / "rt_event_gateway.bpmn").read_bytes())
    response = api("admin").post("/api/v1/instances", json={"process": "rt_gateway", "data": {}})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    listed = api("admin").get(f"/api/v1/instances/{instance_id}/waiting").get_json()["items"]
    assert [(w["kind"], w["element"], w["detail"]) for w in listed][0] == ("message", "paid", "付款到账")
    assert [w["kind"] for w in listed] == ["message", "timer"]
    url = f"/api/v1/instances/{instance_id}/messages"
    assert api("admin").post(url, json={"name": "别的消息", "payload": {}}).status_code == 409
    response = api("admin").post(url, json={"name": "付款到账", "payload": {"amount": 120}})
    assert response.status_code == 200, response.get_json()
    assert open_nodes(core, instance_id) == ["ship"]
    assert api("admin").get(f"/api/v1/instances/{instance_id}/waiting").get_json()["items"] == []
    # The message was caught once: a second one is not awaited.
    assert api("admin").post(url, json={"name": "付款到账", "payload": {}}).status_code == 409


def test_a_gateway_waiting_on_two_timers_is_refused_at_deploy(core):
    with pytest.raises(DeployFailed) as failed:
        deploy(core, "rt_gateway_two_timers.bpmn", (DATA / "rt_gateway_two_timers.bpmn").read_bytes())
    (problem,) = failed.value.problems
    assert (problem.element, problem.line) == ("gw", 10) and "late、later" in problem.message


# --- parallel-multiple start event -----------------------------------------------------------------------


def test_a_parallel_multiple_start_waits_for_every_event_in_any_order(core):
    deploy(core, "rt_parallel_start.bpmn", (DATA / "rt_parallel_start.bpmn").read_bytes())
    first = events.start_by_message(core, "admin", "材料到齐", {"case_no": "S-1"})
    (instance_id,) = first["started"]
    assert [(w["kind"], w["element"], w["detail"]) for w in waiting(core, instance_id)] == [
        ("signal", "start", "开始受理")
    ]
    assert open_nodes(core, instance_id) == []
    # The signal completes the start of the waiting instance; it starts no second one.
    assert events.broadcast_signal(core, "admin", "开始受理", {}) == {
        "caught": [instance_id],
        "started": [],
        "failed": [],
    }
    assert open_nodes(core, instance_id) == ["handle"] and waiting(core, instance_id) == []
    # Signal first, then the message: the message joins the instance the signal opened.
    opened = events.broadcast_signal(core, "admin", "开始受理", {})
    assert opened["caught"] == [] and len(opened["started"]) == 1
    (second,) = opened["started"]
    assert [w["detail"] for w in waiting(core, second)] == ["材料到齐"]
    assert events.start_by_message(core, "admin", "材料到齐", {}) == {"started": [], "caught": [second]}
    assert open_nodes(core, second) == ["handle"] and status(core, second) == "running"


def test_a_parallel_multiple_start_started_by_hand_lists_both_events(api, core):
    deploy(core, "rt_parallel_start.bpmn", (DATA / "rt_parallel_start.bpmn").read_bytes())
    started = initiate.start(core, "admin", "rt_parallel_start", {})
    assert [(w["kind"], w["detail"]) for w in waiting(core, started["id"])] == [
        ("message", "材料到齐"),
        ("signal", "开始受理"),
    ]
    url = f"/api/v1/instances/{started['id']}/messages"
    assert api("admin").post(url, json={"name": "材料到齐", "payload": {}}).status_code == 200
    assert [w["detail"] for w in waiting(core, started["id"])] == ["开始受理"]
    assert api("admin").post("/api/v1/signals", json={"name": "开始受理"}).get_json()["caught"] == [started["id"]]
    assert open_nodes(core, started["id"]) == ["handle"]
