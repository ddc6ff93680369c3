"""What one command may do (engine/process/limits.py): no definition holds the write lock for long.

A zero-period timer cycle, a loop that never ends, a multi-instance of 20,000, a list-reference bomb, a
20,000-line script: each is refused at deploy where its value is literal, or stopped at run time with a 422
that names the BPMN element — and the next command (another user's) goes through at once.
"""

from __future__ import annotations

import time

import pytest
from hostile import LIST_BOMB, LONG_SCRIPT, STRING_BOMB
from sqlalchemy import func, select
from support import expression_bpmn

from engine.errors import DeployFailed
from engine.process import definitions, limits
from engine.store.tables import instance, work_item

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Definitions_1" targetNamespace="https://oaflow.example/tests">
"""


def cycle_bpmn(value: str) -> bytes:
    """The issue's reproduction: a non-interrupting boundary timer cycle on a user task (the start form
    has a text field `tick` a computed cycle may read)."""
    return (
        HEAD
        + f"""  <bpmn:process id="cycle" name="催办提醒" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="tick" label="周期" type="string" />
    </camunda:formData></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:userTask id="Task_first" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="user:lisi" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_tick" name="提醒" attachedToRef="Task_first" cancelActivity="false">
      <bpmn:timerEventDefinition id="TimerDef_tick"><bpmn:timeCycle>{value}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_2" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_first" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_first" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_tick" targetRef="EndEvent_2" />
  </bpmn:process>
</bpmn:definitions>
"""
    ).encode()


LOOP = (
    HEAD
    + """  <bpmn:process id="spin" name="死循环" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:scriptTask id="Script_init" name="置零"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gateway_join" />
    <bpmn:scriptTask id="Script_inc" name="加一"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gateway_loop" default="Flow_out" />
    <bpmn:userTask id="Task_a" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="user:lisi" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_init" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_init" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_join" targetRef="Script_inc" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Script_inc" targetRef="Gateway_loop" />
    <bpmn:sequenceFlow id="Flow_back" sourceRef="Gateway_loop" targetRef="Gateway_join">
      <bpmn:conditionExpression>i &lt; 1000000000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_out" sourceRef="Gateway_loop" targetRef="Task_a" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_a" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""
).encode()


def deploy(core, name: str, content: bytes) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: content}, None)


def refusal(core, name: str, content: bytes):
    with pytest.raises(DeployFailed) as failed:
        deploy(core, name, content)
    return failed.value.problems


# Without the budgets these requests never answer; with them they answer in well under a second of CPU. The
# wall-clock bound only tells a hang from an answer on a loaded machine (timings are in the note).
HANG_SECONDS = 30


def counts(core) -> tuple[int, int]:
    with core.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(instance)).scalar(),
            conn.execute(select(func.count()).select_from(work_item)).scalar(),
        )


def start_fails_fast(api, core, process: str, data: dict, element: str | None, words: str) -> dict:
    """POST /instances answers 422 naming `element` within seconds, stores nothing, and the next write
    (another user's leave request) goes through: the write lock was not held."""
    before = counts(core)
    began = time.perf_counter()
    response = api("zhangsan").post("/api/v1/instances", json={"process": process, "data": data})
    took = time.perf_counter() - began
    body = response.get_json()
    assert response.status_code == 422, body
    assert words in body["error"], body
    if element is not None:
        assert element in body["error"] and body["element"] == element, body
    assert took < HANG_SECONDS, took  # a hang guard, not a speed test: the budgets count CPU time
    assert counts(core) == before
    leave = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "days": 2, "reason": "探亲"}
    began = time.perf_counter()
    assert api("wangfang").post("/api/v1/instances", json={"process": "leave", "data": leave}).status_code == 201
    assert time.perf_counter() - began < HANG_SECONDS
    return body


# --- timers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["R/PT0S", '"R/PT0S"', "R/P0D", "R5/PT1S", "R/PT0.5S", "${'R/PT0S'}"])
def test_a_timer_cycle_faster_than_a_minute_is_refused_at_deploy(core, value):
    content = cycle_bpmn(value)
    line = next(n for n, text in enumerate(content.decode().splitlines(), 1) if "<bpmn:timeCycle>" in text)
    problems = refusal(core, "cycle.bpmn", content)
    assert [(p.element, p.line) for p in problems] == [("Timer_tick", line)]
    assert "至少为 60 秒" in problems[0].message


def test_a_negative_timer_duration_is_refused_at_deploy(core):
    problems = refusal(core, "hostile.bpmn", expression_bpmn("timer", '"-PT5M"'))
    assert [p.element for p in problems] == ["Timer_1"] and "不能为负" in problems[0].message


def test_a_sound_timer_cycle_still_deploys(core):
    deploy(core, "cycle.bpmn", cycle_bpmn("R3/PT10M"))


def test_a_computed_zero_cycle_stops_the_start_with_a_422_naming_the_timer(api, core):
    deploy(core, "cycle.bpmn", cycle_bpmn("${tick}"))  # the form asks for `tick`: the initiator types R/PT0S
    start_fails_fast(api, core, "cycle", {"tick": "R/PT0S"}, "Timer_tick", "定时事件")


# --- engine steps ---------------------------------------------------------------------------------------


def test_a_loop_that_never_ends_is_stopped_within_the_command_budget(api, core):
    deploy(core, "spin.bpmn", LOOP)
    body = start_fails_fast(api, core, "spin", {}, None, "一次操作")
    assert body["element"] in {"Script_init", "Gateway_join", "Script_inc", "Gateway_loop"}


# --- multi-instance and work items ----------------------------------------------------------------------


def test_a_literal_loop_cardinality_over_the_limit_is_refused_at_deploy(core):
    problems = refusal(core, "hostile.bpmn", expression_bpmn("loopCardinality", "20000"))
    assert [p.element for p in problems] == ["Task_sign"]
    assert f"最多 {limits.LOOP_CARDINALITY}" in problems[0].message and problems[0].line


def test_a_computed_loop_cardinality_over_the_limit_stops_the_start(api, core):
    deploy(core, "hostile.bpmn", expression_bpmn("loopCardinality", "amount"))
    start_fails_fast(api, core, "hostile", {"amount": 20000}, "Task_sign", "loopCardinality")


def test_one_command_opens_at_most_its_budget_of_work_items(api, core, monkeypatch):
    deploy(core, "hostile.bpmn", expression_bpmn("loopCardinality", "amount"))
    monkeypatch.setattr(limits, "WORK_ITEMS", 3)
    start_fails_fast(api, core, "hostile", {"amount": 5}, "Task_sign", "最多创建 3 个待办")
    response = api("zhangsan").post("/api/v1/instances", json={"process": "hostile", "data": {"amount": 3}})
    assert response.status_code == 201, response.get_json()


# --- scripts --------------------------------------------------------------------------------------------


def test_a_twenty_thousand_line_script_is_refused_at_deploy(core):
    problems = refusal(core, "hostile.bpmn", expression_bpmn("script", LONG_SCRIPT))
    assert [p.element for p in problems] == ["Script_1"] and "脚本过长" in problems[0].message


def test_a_long_script_within_the_character_limit_is_refused_by_its_lines(core):
    script = "\n".join(f"v{i} = {i}" for i in range(limits.SCRIPT_LINES + 1))
    problems = refusal(core, "hostile.bpmn", expression_bpmn("script", script))
    assert "最多 200 行" in problems[0].message


@pytest.mark.parametrize(("script", "words"), [(LIST_BOMB, "个元素"), (STRING_BOMB, "个字符")])
def test_a_script_building_a_huge_value_is_stopped_naming_the_line(api, core, script, words):
    deploy(core, "hostile.bpmn", expression_bpmn("script", script))
    body = start_fails_fast(api, core, "hostile", {"amount": 1}, "Script_1", words)
    assert "脚本第 2 行" in body["error"]
