"""A message an instance throws that nothing inside it catches starts the processes whose start event catches
it, in the same command (how 发文's 分发 starts each unit's 收文): the payload reaches the new instance through
its start form, the new instance's initiator is its process administrator, the history says what started,
and a chain of messages that never ends is stopped without storing anything."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.process import definitions
from engine.store.tables import instance

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
             id="defs_{key}" targetNamespace="https://oaflow.example/tests">
  <message id="m_order" name="新订单" />
  <message id="m_back" name="回执" />
"""


def process(key: str, body: str, admin: str = "") -> bytes:
    props = (
        f'<extensionElements><spiffworkflow:properties><spiffworkflow:property name="admin" value="{admin}" />'
        "</spiffworkflow:properties></extensionElements>"
        if admin
        else ""
    )
    text = HEAD.format(key=key) + f'  <process id="{key}" name="{key}" isExecutable="true">{props}\n'
    return (text + body + "  </process>\n</definitions>\n").encode()


SENDER = process(
    "sender",
    """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="send" />
    <intermediateThrowEvent id="send" name="下单">
      <messageEventDefinition messageRef="m_order">
        <extensionElements>
          <spiffworkflow:messagePayload>{'order_no': 'A-1', 'note': 'extra'}</spiffworkflow:messagePayload>
        </extensionElements>
      </messageEventDefinition>
    </intermediateThrowEvent>
    <sequenceFlow id="f2" sourceRef="send" targetRef="t" />
    <userTask id="t" name="跟进" />
    <sequenceFlow id="f3" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
""",
)

RECEIVER = process(
    "receiver",
    """    <startEvent id="s"><extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="order_form" /></spiffworkflow:properties></extensionElements>
      <messageEventDefinition messageRef="m_order" /></startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="handle" />
    <userTask id="handle" name="处理订单"><extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="assignee" value="user:sunli" /></spiffworkflow:properties></extensionElements>
    </userTask>
    <sequenceFlow id="f2" sourceRef="handle" targetRef="e" />
    <endEvent id="e" />
""",
    admin="wangfang",
)
ORDER_FORM = b'{"type": "object", "properties": {"order_no": {"title": "\\u8ba2\\u5355\\u53f7", "type": "string"}}}'

# A process started by 新订单 that answers 回执, and one started by 回执 that orders again: without end.
ECHO = process(
    "echo",
    """    <startEvent id="s"><messageEventDefinition messageRef="m_order" /></startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="send" />
    <intermediateThrowEvent id="send"><messageEventDefinition messageRef="m_back" /></intermediateThrowEvent>
    <sequenceFlow id="f2" sourceRef="send" targetRef="e" />
    <endEvent id="e" />
""",
)
REORDER = process(
    "reorder",
    """    <startEvent id="s"><messageEventDefinition messageRef="m_back" /></startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="send" />
    <intermediateThrowEvent id="send"><messageEventDefinition messageRef="m_order" /></intermediateThrowEvent>
    <sequenceFlow id="f2" sourceRef="send" targetRef="e" />
    <endEvent id="e" />
""",
)


def deploy(core, files: dict[str, bytes]) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, files, None)


def start(api, key: str, user: str = "zhangsan"):
    return api(user).post("/api/v1/instances", json={"process": key, "data": {}})


def detail(api, instance_id: int) -> dict:
    return api("admin").get(f"/api/v1/instances/{instance_id}").get_json()


def instances(core) -> int:
    with core.db.read() as conn:
        return conn.execute(select(func.count()).select_from(instance)).scalar()


def test_a_thrown_message_starts_the_process_that_catches_it(api, core):
    deploy(core, {"sender.bpmn": SENDER, "receiver.bpmn": RECEIVER, "order_form.json": ORDER_FORM})
    response = start(api, "sender")
    assert response.status_code == 201, response.get_json()
    sender = detail(api, response.get_json()["id"])
    assert sender["current_nodes"] == ["跟进"]
    assert "发出消息“新订单”，已启动“王芳的receiver”" in [e["message"] for e in sender["history"]]
    received = detail(api, response.get_json()["id"] + 1)
    assert received["process"] == "receiver" and received["initiator"] == "wangfang"
    assert received["data"] == {"order_no": "A-1"}  # what the start form defines
    assert received["current_nodes"] == ["处理订单"]


def test_a_message_nobody_catches_is_noted_and_the_instance_moves_on(api, core):
    deploy(core, {"sender.bpmn": SENDER})
    response = start(api, "sender")
    assert response.status_code == 201
    sender = detail(api, response.get_json()["id"])
    assert "发出消息“新订单”，没有流程接收" in [e["message"] for e in sender["history"]]
    assert sender["current_nodes"] == ["跟进"]


def test_messages_that_start_each_other_without_end_are_stopped(api, core):
    deploy(core, {"sender.bpmn": SENDER, "echo.bpmn": ECHO, "reorder.bpmn": REORDER})
    before = instances(core)
    response = start(api, "sender")
    assert response.status_code == 422
    assert "消息最多启动 100 个流程" in response.get_json()["error"]
    assert instances(core) == before
