"""BPMN timer events driven by the scheduler: an interrupting boundary timer, an intermediate timer, a timer
start event, bare ISO-8601 values (`PT5M`) as designers write them, and the real scheduler firing one."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from engine.process import definitions
from engine.process.timer_values import quote_bare
from engine.store.tables import event_log, instance, instance_timer, timer_start, user_account, work_item
from engine.work import decisions, initiate, suspension, timers
from schedulers import start_background

SH = ZoneInfo("Asia/Shanghai")
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="https://oaflow.example/tests">"""


def task(ident: str, name: str, who: str) -> str:
    return f"""
    <bpmn:userTask id="{ident}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{who}" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>"""


def boundary_bpmn(value: str) -> bytes:
    return (
        HEAD.format(key="timer_boundary")
        + f"""
  <bpmn:process id="timer_boundary" name="超时转办" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    {task("Task_first", "经办人审核", "user:lisi")}
    <bpmn:boundaryEvent id="Timer_late" name="5 分钟未办" attachedToRef="Task_first">
      <bpmn:timerEventDefinition id="TimerDef_late">
        <bpmn:timeDuration>{value}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    {task("Task_backup", "负责人代办", "user:sunli")}
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_first" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_first" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_late" targetRef="Task_backup" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_backup" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""
    ).encode()


def intermediate_bpmn(value: str) -> bytes:
    return (
        HEAD.format(key="timer_wait")
        + f"""
  <bpmn:process id="timer_wait" name="冷静期" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:intermediateCatchEvent id="Timer_wait" name="等待">
      <bpmn:timerEventDefinition id="TimerDef_wait">
        <bpmn:timeDuration>{value}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    {task("Task_after", "冷静期后审批", "user:sunli")}
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Timer_wait" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Timer_wait" targetRef="Task_after" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_after" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""
    ).encode()


def start_bpmn(kind: str, value: str, admin: str = "") -> bytes:
    prop = f'<spiffworkflow:property name="admin" value="{admin}" />' if admin else ""
    return (
        HEAD.format(key="timer_start")
        + f"""
  <bpmn:process id="timer_start" name="月度自查" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>{prop}</spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="StartEvent_timer" name="定时">
      <bpmn:timerEventDefinition id="TimerDef_start"><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    {task("Task_check", "自查", "user:wangfang")}
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_timer" targetRef="Task_check" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_check" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""
    ).encode()


def deploy(core, name: str, content: bytes) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: content}, None)


def items(core, instance_id: int) -> dict[str, str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(work_item.c.node_id, work_item.c.status).where(work_item.c.instance_id == instance_id)
        )
        return {row.node_id: row.status for row in rows}


def at(value: datetime):
    return time_machine.travel(value, tick=False)


@pytest.mark.parametrize("value", ["PT5M", '"PT5M"'])
def test_boundary_timer_interrupts_the_task(core, value):
    deploy(core, "timer_boundary.bpmn", boundary_bpmn(value))
    start = datetime(2025, 11, 3, 9, 0, tzinfo=SH)
    with at(start):
        started = initiate.start(core, "zhangsan", "timer_boundary", {})
    assert items(core, started["id"]) == {"Task_first": "open"}
    with core.db.read() as conn:
        due = conn.execute(
            select(instance_timer.c.due_at).where(instance_timer.c.instance_id == started["id"])
        ).scalar()
    assert due == datetime(2025, 11, 3, 1, 5)  # 09:05 in Beijing, as UTC
    with at(start + timedelta(minutes=4, seconds=59)):
        assert timers.fire_due(core) == 0
    with at(start + timedelta(minutes=5, seconds=1)):
        assert timers.fire_due(core) == 1
        assert timers.fire_due(core) == 0  # fired once
    assert items(core, started["id"]) == {"Task_first": "cancelled", "Task_backup": "open"}
    with core.db.read() as conn:
        assert conn.execute(select(instance_timer).where(instance_timer.c.instance_id == started["id"])).first() is None
        assert conn.execute(select(event_log.c.type).where(event_log.c.type == "timer_fired")).scalar() == "timer_fired"


def test_the_scheduler_path_fires_what_is_due_by_its_now(core):
    # One way to fire a timer: the scheduler's. Its `now` decides what is due, so a scheduler (or a test)
    # passing a later time fires exactly as it would then; the library's own clock used to veto it.
    deploy(core, "timer_boundary.bpmn", boundary_bpmn("PT5M"))
    started = initiate.start(core, "zhangsan", "timer_boundary", {})
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert timers.fire_due(core, now + timedelta(minutes=4)) == 0
    assert timers.fire_due(core, now + timedelta(minutes=6)) == 1
    assert items(core, started["id"]) == {"Task_first": "cancelled", "Task_backup": "open"}
    with core.db.read() as conn:
        note = conn.execute(select(work_item.c.note).where(work_item.c.node_id == "Task_first")).scalar()
        assert conn.execute(select(instance_timer).where(instance_timer.c.instance_id == started["id"])).first() is None
    assert note == "定时事件到期，已取消"


def test_boundary_timer_is_dropped_when_the_task_is_done_first(core):
    deploy(core, "timer_boundary.bpmn", boundary_bpmn("PT5M"))
    start = datetime(2025, 11, 3, 9, 0, tzinfo=SH)
    with at(start):
        started = initiate.start(core, "zhangsan", "timer_boundary", {})
    with core.db.read() as conn:
        item_id = conn.execute(select(work_item.c.id).where(work_item.c.instance_id == started["id"])).scalar()
    with at(start + timedelta(minutes=1)):
        result = decisions.complete(core, "lisi", item_id, {}, "approve", "同意")
    assert result["status"] == "approved"
    with at(start + timedelta(minutes=10)):
        assert timers.fire_due(core) == 0
    assert items(core, started["id"]) == {"Task_first": "done"}


def test_intermediate_timer_waits_then_continues(core):
    deploy(core, "timer_wait.bpmn", intermediate_bpmn("PT1H"))
    start = datetime(2025, 11, 3, 9, 0, tzinfo=SH)
    with at(start):
        started = initiate.start(core, "zhangsan", "timer_wait", {})
    assert items(core, started["id"]) == {}
    with at(start + timedelta(minutes=59)):
        assert timers.fire_due(core) == 0
    with at(start + timedelta(hours=1, seconds=1)):
        assert timers.fire_due(core) == 1
    assert items(core, started["id"]) == {"Task_after": "open"}


def test_suspended_instances_do_not_fire(core):

    deploy(core, "timer_wait.bpmn", intermediate_bpmn("PT1H"))
    start = datetime(2025, 11, 3, 9, 0, tzinfo=SH)
    with at(start):
        started = initiate.start(core, "zhangsan", "timer_wait", {})
        suspension.suspend(core, "admin", started["id"], "暂停")
    with at(start + timedelta(hours=2)):
        assert timers.fire_due(core) == 0
        suspension.resume(core, "admin", started["id"])
        assert timers.fire_due(core) == 1
    assert items(core, started["id"]) == {"Task_after": "open"}


def test_timer_start_event_starts_instances_on_schedule(core):
    deployed = datetime(2025, 11, 3, 9, 0, tzinfo=SH)
    with at(deployed):
        deploy(core, "timer_start.bpmn", start_bpmn("timeCycle", "R2/PT1H", admin="wangfang"))
        timers.sync_start_timers(core)
        assert timers.fire_due(core) == 0
    with core.db.read() as conn:
        row = conn.execute(select(timer_start)).one()
    assert (row.process_key, row.next_fire_at, row.remaining) == ("timer_start", datetime(2025, 11, 3, 2, 0), 1)
    for hour in (1, 2, 3):
        with at(deployed + timedelta(hours=hour, seconds=1)):
            timers.sync_start_timers(core)  # a resync keeps the schedule of the same version
            assert timers.fire_due(core) == (1 if hour <= 2 else 0)
    with core.db.read() as conn:
        started = conn.execute(
            select(instance.c.id, user_account.c.username)
            .join(user_account, user_account.c.id == instance.c.initiator_id)
            .where(instance.c.process_key == "timer_start")
        ).all()
    assert [name for _id, name in started] == ["wangfang", "wangfang"]  # the process property `admin`
    assert all(items(core, instance_id) == {"Task_check": "open"} for instance_id, _n in started)


def test_timer_date_start_uses_the_first_administrator(core):
    with at(datetime(2025, 11, 3, 9, 0, tzinfo=SH)):
        deploy(core, "timer_start.bpmn", start_bpmn("timeDate", "2025-11-03T10:00"))  # naive: office time
        timers.sync_start_timers(core)
    with at(datetime(2025, 11, 3, 10, 0, 1, tzinfo=SH)):
        assert timers.fire_due(core) == 1
        assert timers.fire_due(core) == 0
    with core.db.read() as conn:
        initiator = conn.execute(
            select(user_account.c.username).join(instance, instance.c.initiator_id == user_account.c.id)
        ).scalar()
    assert initiator == "admin"


def test_bare_timer_values_are_quoted():
    assert quote_bare("PT5M") == '"PT5M"'
    assert quote_bare('"PT5M"') == '"PT5M"'
    assert quote_bare("R3/PT1H") == '"R3/PT1H"'
    assert quote_bare("2026-12-01T09:00") == '"2026-12-01T09:00+08:00"'
    assert quote_bare("timeout_days") == "timeout_days"  # an expression stays an expression


def test_the_scheduler_fires_a_timer_within_seconds(core):
    """The real background scheduler (one-second job): a PT1S timer gives its work item soon after."""

    deploy(core, "timer_wait.bpmn", intermediate_bpmn("PT1S"))
    started = initiate.start(core, "zhangsan", "timer_wait", {})
    scheduler = start_background(core)
    try:
        for _ in range(100):
            if items(core, started["id"]):
                break
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert items(core, started["id"]) == {"Task_after": "open"}
