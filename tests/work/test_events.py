"""External work (service tasks naming a Java class, connector or expression), messages, signals and timers:
what moves an instance from outside, through the REST API and the engine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.process import definitions, service_tasks
from engine.store.tables import event_log, instance, utcnow, work_item
from engine.work import timers

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
             id="defs_{key}" targetNamespace="https://oaflow.example/tests">
"""


def later(minutes: float) -> datetime:
    """Now plus some minutes, naive UTC: the scheduler's `now` for a timer that is not due yet."""
    return utcnow() + timedelta(minutes=minutes)


def process(key: str, body: str, before: str = "") -> bytes:
    text = HEAD.format(key=key) + before + f'  <process id="{key}" name="{key}" isExecutable="true">\n'
    return (text + body + "  </process>\n</definitions>\n").encode()


SERVICE = process(
    "svc",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="call" />
    <serviceTask id="call" name="查询信用" camunda:class="org.example.CreditCheck" />
    <sequenceFlow id="f2" sourceRef="call" targetRef="gw" />
    <exclusiveGateway id="gw" default="f4" />
    <sequenceFlow id="f3" sourceRef="gw" targetRef="review"><conditionExpression>${score &lt; 60}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f4" sourceRef="gw" targetRef="e" />
    <userTask id="review" name="人工复核" />
    <sequenceFlow id="f5" sourceRef="review" targetRef="e" />
    <endEvent id="e" />
""",
)

MESSAGES = process(
    "pay",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <receiveTask id="wait" name="等待到账" messageRef="m_paid" />
    <sequenceFlow id="f2" sourceRef="wait" targetRef="gw" />
    <exclusiveGateway id="gw" default="f4" />
    <sequenceFlow id="f3" sourceRef="gw" targetRef="check"><conditionExpression>${amount &gt; 100}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f4" sourceRef="gw" targetRef="e" />
    <userTask id="check" name="大额复核" />
    <sequenceFlow id="f5" sourceRef="check" targetRef="e" />
    <endEvent id="e" />
""",
    '  <message id="m_paid" name="付款到账" />\n',
)

ORDER = process(
    "order",
    """    <startEvent id="s"><messageEventDefinition messageRef="m_order" /></startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="handle" />
    <userTask id="handle" name="处理订单" />
    <sequenceFlow id="f2" sourceRef="handle" targetRef="e" />
    <endEvent id="e" />
""",
    '  <message id="m_order" name="新订单" />\n',
)

SIGNAL = process(
    "outage",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <intermediateCatchEvent id="wait" name="等待恢复供电">
      <signalEventDefinition signalRef="sig" /></intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="wait" targetRef="e" />
    <endEvent id="e" />
""",
    '  <signal id="sig" name="恢复供电" />\n',
)

TIMER = process(
    "later",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <intermediateCatchEvent id="wait" name="五分钟后"><timerEventDefinition><timeDuration>PT5M</timeDuration>
    </timerEventDefinition></intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="wait" targetRef="t" />
    <userTask id="t" name="继续办理" />
    <sequenceFlow id="f3" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
""",
)


def deploy(core, **files: bytes) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {f"{name}.bpmn": content for name, content in files.items()}, None)


def start(api, key: str, user: str = "admin") -> dict:
    response = api(user).post("/api/v1/instances", json={"process": key, "data": {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_nodes(core, instance_id: int) -> list[str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(work_item.c.node_id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        )
        return [row.node_id for row in rows]


def status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def waiting(api, instance_id: int, user: str = "admin") -> list[dict]:
    response = api(user).get(f"/api/v1/instances/{instance_id}/waiting")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


# --- external work ---------------------------------------------------------------------------------------


def test_service_task_waits_as_external_work_until_the_api_completes_it(api, core):
    deploy(core, svc=SERVICE)
    started = start(api, "svc")
    assert started["status"] == "running" and open_nodes(core, started["id"]) == []
    assert waiting(api, started["id"]) == [
        {"kind": "external", "element": "call", "name": "查询信用", "detail": "org.example.CreditCheck"}
    ]
    # Only administrators (integration accounts) complete external work.
    denied = api("zhangsan").post(f"/api/v1/instances/{started['id']}/external/call", json={"data": {"score": 1}})
    assert denied.status_code in (403, 404)
    wrong = api("admin").post(f"/api/v1/instances/{started['id']}/external/elsewhere", json={"data": {}})
    assert wrong.status_code == 409
    done = api("admin").post(f"/api/v1/instances/{started['id']}/external/call", json={"data": {"score": 42}})
    assert done.status_code == 200, done.get_json()
    # The data became process variables: score < 60 routes to the review step.
    assert open_nodes(core, started["id"]) == ["review"]
    assert waiting(api, started["id"]) == []
    with core.db.read() as conn:
        types = [r.type for r in conn.execute(select(event_log.c.type).where(event_log.c.instance_id == started["id"]))]
    assert "external_completed" in types


def test_external_data_must_be_an_object(api, core):
    deploy(core, svc=SERVICE)
    started = start(api, "svc")
    response = api("admin").post(f"/api/v1/instances/{started['id']}/external/call", json={"data": [1, 2]})
    assert response.status_code == 422


def test_a_registered_handler_runs_the_service_task_in_place(api, core):
    deploy(core, svc=SERVICE)
    service_tasks.register("org.example.CreditCheck", lambda data: {"score": 90})
    try:
        started = start(api, "svc")
    finally:
        service_tasks.unregister("org.example.CreditCheck")
    assert started["status"] == "approved"  # score 90: no review needed, the instance ended


def test_handlers_come_from_the_entry_point_group(api, core, tmp_path, monkeypatch):
    dist = tmp_path / "oaflow_test_handlers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: oaflow-test-handlers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[oaflow.service_tasks]\norg.example.CreditCheck = oaflow_test_handlers:credit_check\n"
    )
    (tmp_path / "oaflow_test_handlers.py").write_text("def credit_check(data):\n    return {'score': 10}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    service_tasks.reload_entry_points()
    try:
        assert "org.example.CreditCheck" in service_tasks.handler_keys()
        deploy(core, svc=SERVICE)
        started = start(api, "svc")
    finally:
        monkeypatch.undo()
        service_tasks.reload_entry_points()
    assert open_nodes(core, started["id"]) == ["review"]  # score 10 from the installed handler


def test_a_failing_handler_stores_nothing(api, core, row_counts):
    deploy(core, svc=SERVICE)
    before = row_counts()

    def broken(data):
        raise RuntimeError("信用系统不可用")

    service_tasks.register("org.example.CreditCheck", broken)
    try:
        response = api("admin").post("/api/v1/instances", json={"process": "svc", "data": {}})
    finally:
        service_tasks.unregister("org.example.CreditCheck")
    assert response.status_code == 422
    assert "信用系统不可用" in response.get_json()["error"]
    assert row_counts() == before


# --- messages and signals --------------------------------------------------------------------------------


def test_a_message_reaches_the_waiting_instance_with_its_payload(api, core):
    deploy(core, pay=MESSAGES)
    started = start(api, "pay")
    assert waiting(api, started["id"]) == [
        {"kind": "message", "element": "wait", "name": "等待到账", "detail": "付款到账"}
    ]
    url = f"/api/v1/instances/{started['id']}/messages"
    assert api("admin").post(url, json={"name": "别的消息", "payload": {}}).status_code == 409
    assert api("zhangsan").post(url, json={"name": "付款到账", "payload": {}}).status_code == 403
    response = api("admin").post(url, json={"name": "付款到账", "payload": {"amount": 500}})
    assert response.status_code == 200, response.get_json()
    assert open_nodes(core, started["id"]) == ["check"]  # amount 500 > 100


def test_a_message_start_event_starts_an_instance(api, core):
    deploy(core, order=ORDER)
    response = api("admin").post("/api/v1/messages", json={"name": "新订单", "payload": {"order_no": "A-1"}})
    assert response.status_code == 201, response.get_json()
    (instance_id,) = response.get_json()["started"]
    assert open_nodes(core, instance_id) == ["handle"]
    assert api("admin").post("/api/v1/messages", json={"name": "没人等", "payload": {}}).status_code == 404


def test_starting_by_message_is_for_administrators_only(api, core):
    deploy(core, order=ORDER)
    with core.db.read() as conn:
        before = conn.execute(select(instance.c.id)).all()
    response = api("zhangsan").post("/api/v1/messages", json={"name": "新订单", "payload": {"order_no": "A-1"}})
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"] == "只有管理员（或集成账号）可以执行此操作"
    with core.db.read() as conn:
        assert conn.execute(select(instance.c.id)).all() == before  # nothing started
    response = api("admin").post("/api/v1/messages", json={"name": "新订单", "payload": {"order_no": "A-1"}})
    assert response.status_code == 201, response.get_json()


def test_a_signal_reaches_every_waiting_instance(api, core):
    deploy(core, outage=SIGNAL)
    first, second = start(api, "outage"), start(api, "outage")
    assert api("zhangsan").post("/api/v1/signals", json={"name": "恢复供电"}).status_code == 403
    response = api("admin").post("/api/v1/signals", json={"name": "恢复供电", "payload": {}})
    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["caught"]) == sorted([first["id"], second["id"]])
    assert status(core, first["id"]) == status(core, second["id"]) == "approved"


# --- timers ----------------------------------------------------------------------------------------------


def test_timers_fire_when_due(api, core):
    deploy(core, later=TIMER)
    started = start(api, "later")
    (timer,) = waiting(api, started["id"])
    assert timer["kind"] == "timer" and timer["element"] == "wait"
    due = datetime.fromisoformat(timer["detail"])
    assert timedelta(minutes=4) < due - datetime.now(timezone.utc) <= timedelta(minutes=5)
    assert timers.fire_due(core) == 0  # not yet
    assert open_nodes(core, started["id"]) == []
    assert timers.fire_instance(core, started["id"], now=later(10)) == 1
    assert open_nodes(core, started["id"]) == ["t"]


@pytest.mark.parametrize("user", ["zhangsan"])
def test_waiting_is_only_shown_to_participants(api, core, user):
    deploy(core, later=TIMER)
    started = start(api, "later")
    assert api(user).get(f"/api/v1/instances/{started['id']}/waiting").status_code == 404


ESCALATE = process(
    "escalate",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="work" />
    <userTask id="work" name="办理" />
    <boundaryEvent id="late" attachedToRef="work"><timerEventDefinition><timeDuration>PT1H</timeDuration>
    </timerEventDefinition></boundaryEvent>
    <sequenceFlow id="f2" sourceRef="work" targetRef="e" />
    <sequenceFlow id="f3" sourceRef="late" targetRef="boss" />
    <userTask id="boss" name="督办" />
    <sequenceFlow id="f4" sourceRef="boss" targetRef="e2" />
    <endEvent id="e" />
    <endEvent id="e2" />
""",
)


def test_an_interrupting_boundary_timer_closes_the_work_item_it_interrupts(api, core):
    deploy(core, escalate=ESCALATE)
    started = start(api, "escalate")
    assert open_nodes(core, started["id"]) == ["work"]
    assert timers.fire_instance(core, started["id"], now=later(30)) == 0
    assert timers.fire_instance(core, started["id"], now=later(61)) == 1
    assert open_nodes(core, started["id"]) == ["boss"]
    with core.db.read() as conn:
        note = conn.execute(
            select(work_item.c.note).where(work_item.c.instance_id == started["id"], work_item.c.node_id == "work")
        ).scalar()
    assert note == "定时事件到期，已取消"
