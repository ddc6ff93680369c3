"""Runtime expression errors: a 422 naming the element during the user's own start; later (a timer firing,
another approver's decision completing a node) the instance enters the error state (异常), which an
administrator sees, fixes and retries — with an audit event for each, and never a stuck instance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select
from support import expression_bpmn, log_in

from engine.core import Core
from engine.errors import DeployFailed
from engine.process import definitions
from engine.store.tables import event_log, instance, instance_timer, notification, user_account, work_item
from engine.work import consistency, deadlines, decisions, initiate, migration, timers

SH = ZoneInfo("Asia/Shanghai")


def deploy(core, content: bytes, name: str = "hostile.bpmn") -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: content}, None)


def status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def events(core, instance_id: int, kind: str) -> list:
    with core.db.read() as conn:
        return list(
            conn.execute(select(event_log).where(event_log.c.instance_id == instance_id, event_log.c.type == kind))
        )


def open_items(core, instance_id: int, username: str = "lisi") -> list[int]:
    with core.db.read() as conn:
        return [
            row.id
            for row in conn.execute(
                select(work_item.c.id)
                .join(user_account, user_account.c.id == work_item.c.assignee_id)
                .where(
                    work_item.c.instance_id == instance_id,
                    work_item.c.status == "open",
                    work_item.c.kind == "approve",
                    user_account.c.username == username,
                )
                .order_by(work_item.c.id)
            )
        ]


def messages_to(core, username: str, kind: str) -> list[str]:
    with core.db.read() as conn:
        return list(
            conn.execute(
                select(notification.c.title)
                .join(user_account, user_account.c.id == notification.c.user_id)
                .where(user_account.c.username == username, notification.c.kind == kind)
            ).scalars()
        )


def start(api, data: dict, process: str = "hostile"):
    return api("zhangsan").post("/api/v1/instances", json={"process": process, "data": data})


def decide(api, item_id: int, user: str = "lisi"):
    return api(user).post(f"/api/v1/work-items/{item_id}/complete", json={"decision": "approve", "opinion": "同意"})


def row_count(core, table) -> int:
    with core.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


# --- during the user's own command: a 422 naming the element ------------------------------------------


def test_an_assignee_condition_that_fails_at_start_is_a_422_naming_the_node(api, core):
    deploy(core, expression_bpmn("assignee", "amount / (amount - 5) > 1"))
    before = row_count(core, instance), row_count(core, event_log)
    response = start(api, {"amount": 5})
    body = response.get_json()
    assert response.status_code == 422, body
    assert body["element"] == "Task_a" and "“甲”（Task_a）" in body["error"] and "审批人规则" in body["error"]
    assert (row_count(core, instance), row_count(core, event_log)) == before  # nothing stored
    assert start(api, {"amount": 7}).status_code == 201  # the same rule works where it can be evaluated


def test_an_assignee_condition_reading_a_field_the_form_lacks_is_refused_at_deploy(core):
    with pytest.raises(DeployFailed) as failed:
        deploy(core, expression_bpmn("assignee", "budget > 10000"))
    (problem,) = failed.value.problems
    assert problem.element == "Task_a" and problem.line and "'budget'" in problem.message


# --- later: the error state, seen, fixed and retried ----------------------------------------------------


def test_a_failing_completion_condition_puts_the_instance_in_error_to_fix_and_retry(api, core):
    deploy(core, expression_bpmn("completionCondition", "amount / (amount - 5) > 1"))
    instance_id = start(api, {"amount": 5}).get_json()["id"]
    first, second = open_items(core, instance_id)

    response = decide(api, first)  # the completion condition fails when the first signer decides
    body = response.get_json()
    assert response.status_code == 422, body
    assert body["element"] == "Task_sign" and "异常" in body["error"] and "管理员" in body["error"]
    assert status(core, instance_id) == "error"
    assert [e.node_id for e in events(core, instance_id, "error")] == ["Task_sign"]
    assert open_items(core, instance_id) == [first, second]  # nothing of the failed decision was stored
    assert decide(api, second).status_code == 409  # 异常: nobody acts until it is retried
    assert any("异常" in title for title in messages_to(core, "zhangsan", "error"))
    assert consistency.problems(core, instance_id) == []

    listed = api("admin").get("/api/v1/admin/errors").get_json()["items"]
    assert [(e["id"], e["element"], e["status_label"]) for e in listed] == [(instance_id, "Task_sign", "异常")]
    assert api("zhangsan").get("/api/v1/admin/errors").status_code == 403
    assert api("zhangsan").post(f"/api/v1/admin/errors/{instance_id}/retry").status_code == 403

    # Retrying without a fix: the instance runs again, and the same decision fails the same way.
    assert api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry").get_json()["status"] == "running"
    assert decide(api, first).status_code == 422 and status(core, instance_id) == "error"

    # The fix: a corrected version, the instance migrated to it, then retried.
    deploy(core, expression_bpmn("completionCondition", "amount > 1000"))
    assert migration.migrate(core, "admin", "hostile", 1, 2, [instance_id])["migrated"] == [instance_id]
    retried = api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry")
    assert retried.status_code == 200 and retried.get_json()["notified"] == 1
    assert len(events(core, instance_id, "retried")) == 2
    assert any("已恢复" in title for title in messages_to(core, "lisi", "todo"))
    assert decide(api, first).status_code == 200 and decide(api, second).status_code == 200
    assert status(core, instance_id) == "approved"
    assert api("admin").get("/api/v1/admin/errors").get_json()["items"] == []
    assert api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry").status_code == 409


def test_a_timer_whose_path_fails_puts_the_instance_in_error_and_fires_again_after_the_fix(api, core):
    content = (
        expression_bpmn("timer", "PT5M")
        .replace(b'cancelActivity="false"', b'cancelActivity="true"')
        .replace(
            b'<bpmn:endEvent id="EndEvent_2" />',
            b'<bpmn:scriptTask id="Script_late" name="\xe8\xb6\x85\xe6\x97\xb6\xe5\xa4\x84\xe7\x90\x86">'
            b"<bpmn:script>ratio = amount / (amount - 5)</bpmn:script></bpmn:scriptTask>"
            b'<bpmn:endEvent id="EndEvent_2" />',
        )
        .replace(
            b'<bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_1" targetRef="EndEvent_2" />',
            b'<bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_1" targetRef="Script_late" />'
            b'<bpmn:sequenceFlow id="Flow_4" sourceRef="Script_late" targetRef="EndEvent_2" />',
        )
    )
    deploy(core, content)
    instance_id = start(api, {"amount": 5}).get_json()["id"]
    later = datetime.utcnow() + timedelta(hours=1)

    assert timers.fire_due(core, later) == 0  # the firing failed and was rolled back …
    assert status(core, instance_id) == "error"  # … and the instance waits for an administrator
    (event,) = events(core, instance_id, "error")
    assert event.node_id == "Script_late" and "超时处理" in event.message
    assert timers.fire_due(core, later) == 0 and len(events(core, instance_id, "error")) == 1  # not again and again
    assert any("异常" in title for title in messages_to(core, "admin", "error"))

    deploy(core, content.replace(b"amount / (amount - 5)", b"amount + 1"))
    assert migration.migrate(core, "admin", "hostile", 1, 2, [instance_id])["migrated"] == [instance_id]
    retried = api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry").get_json()
    assert retried["status"] == "running" and retried["timer_due"] is not None
    with core.db.read() as conn:  # the timer is still due: the scheduler fires it again
        assert conn.execute(select(instance_timer.c.due_at).where(instance_timer.c.instance_id == instance_id)).scalar()
    assert timers.fire_due(core, later) == 1
    assert status(core, instance_id) == "approved"


def test_the_admin_page_lists_instances_in_error_and_retries_them(api, core, client):
    deploy(core, expression_bpmn("completionCondition", "amount / (amount - 5) > 1"))
    instance_id = start(api, {"amount": 5}).get_json()["id"]
    decide(api, open_items(core, instance_id)[0])
    token = log_in(client, "admin")
    page = client.get("/admin/errors")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "异常申请" in html and "Task_sign" in html and "重试" in html
    response = client.post(f"/admin/errors/{instance_id}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/errors")
    assert status(core, instance_id) == "running"


def test_a_multi_instance_node_restored_in_a_fresh_process_still_completes(api, core, db_url):
    """After a restart (or a migration), the children of a multi-instance node were made by another spec
    object: the node must still learn that they finished, or it waits for ever."""
    deploy(core, expression_bpmn("loopCardinality", "2"))
    instance_id = start(api, {"amount": 1}).get_json()["id"]
    first, second = open_items(core, instance_id)
    restarted = Core(url=db_url)  # a new process: its own spec and workflow caches
    try:
        for item_id in (first, second):
            decisions.complete(restarted, "lisi", item_id, {}, "approve", "同意")
    finally:
        restarted.db.dispose()
    assert status(core, instance_id) == "approved"


def test_the_deadline_sweeps_automatic_approval_failing_puts_the_instance_in_error(core):
    """The sweep's 自动通过 opens the next node, whose assignee rule cannot be evaluated: the same path as a
    timer — nothing of it stored, the instance in 异常, the sweep not trying again and again."""
    content = (
        _EXPIRY.replace("{first}", "user:sunli")
        .replace("{second}", "user:huangwei if 1 / (len(initiator) - 8) > 0")  # zhangsan: 8 letters
        .encode()
    )
    deploy(core, content, "expiry.bpmn")
    with time_machine.travel(datetime(2025, 11, 3, 9, 0, tzinfo=SH), tick=False):
        instance_id = initiate.start(core, "zhangsan", "expiry", {}, "正常")["id"]
    with time_machine.travel(datetime(2025, 11, 3, 11, 1, tzinfo=SH), tick=False):
        assert deadlines.sweep(core) == 0
        assert status(core, instance_id) == "error"
        assert [e.node_id for e in events(core, instance_id, "error")] == ["Task_second"]
        assert open_items(core, instance_id, "sunli")  # the automatic decision was not stored
        deadlines.sweep(core)
        assert len(events(core, instance_id, "error")) == 1


_EXPIRY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_expiry" targetNamespace="https://oaflow.example/tests">
  <bpmn:process id="expiry" name="超时自动通过" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Task_first" name="经办审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{first}" />
        <spiffworkflow:property name="due_hours" value="2" />
        <spiffworkflow:property name="on_expiry" value="approve" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Task_second" name="分管领导审批">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{second}" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_first" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_first" targetRef="Task_second" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_second" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""
