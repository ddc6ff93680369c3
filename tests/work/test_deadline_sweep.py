"""The deadline sweep with a controlled clock (time-machine): remind before the due time, overdue + the
department leader at it, one level up a working day later, each exactly once; automatic approval or
transfer on expiry; 挂起 stopping the clock; and the sweep reading only due items (indexes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select, text

from engine.errors import Conflict, Forbidden, InvalidData
from engine.org import delegations, users
from engine.process import definitions
from engine.store.tables import event_log, instance, notification, reminder, user_account, work_item
from engine.work import consistency, deadlines, decisions, initiate, suspension

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
LEAVE = {"leave_type": "年假", "start_date": "2025-10-13", "end_date": "2025-10-14", "reason": "探亲"}


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SH), tick=False)


def local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(SH).replace(tzinfo=None)


def messages(core, since_id: int = 0) -> list[tuple[str, str, str]]:
    """(username, kind, title) of every notification after `since_id`."""
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username, notification.c.kind, notification.c.title)
            .join(user_account, user_account.c.id == notification.c.user_id)
            .where(notification.c.id > since_id, notification.c.kind != "todo")
            .order_by(notification.c.id)
        )
        return [tuple(row) for row in rows]


def last_notification_id(core) -> int:
    with core.db.read() as conn:
        return conn.execute(select(func.coalesce(func.max(notification.c.id), 0))).scalar()


def item_of(core, instance_id: int):
    with core.db.read() as conn:
        return conn.execute(
            select(work_item).where(work_item.c.instance_id == instance_id, work_item.c.kind == "approve")
        ).all()


def events(core, instance_id: int) -> list[tuple[str, str]]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(event_log.c.type, event_log.c.message)
            .where(event_log.c.instance_id == instance_id)
            .order_by(event_log.c.id)
        )
        return [tuple(row) for row in rows]


def test_remind_overdue_and_escalation_chain(core, api):
    with at(2025, 9, 30, 10, 0):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
        assert deadlines.sweep(core) == 0  # only plans the new item
    [item] = item_of(core, started["id"])
    assert local(item.due_at) == datetime(2025, 10, 9, 17, 30)
    assert (item.next_step, local(item.next_step_at)) == ("remind", datetime(2025, 10, 9, 15, 30))
    before = last_notification_id(core)

    with at(2025, 10, 9, 15, 29):
        assert deadlines.sweep(core) == 0
    with at(2025, 10, 9, 15, 31):
        assert deadlines.sweep(core) == 1
        assert deadlines.sweep(core) == 0  # taken once
    assert messages(core, before) == [
        ("sunli", "remind", "待办即将超时：张三的请假申请（年假 2 天）（部门负责人审批），请于 2025-10-09 17:30 前办理")
    ]

    with at(2025, 10, 9, 17, 31):
        assert deadlines.sweep(core) == 2  # overdue (assignee) + escalate1 (her leader)
        listed = api("sunli").get("/api/v1/work-items?box=todo").get_json()["items"]
        assert listed[0]["overdue"] is True
    assert messages(core, before)[1:] == [
        ("sunli", "overdue", "待办已超时：张三的请假申请（年假 2 天）（部门负责人审批），请尽快办理"),
        ("huangwei", "escalated", "孙丽的待办已超时：张三的请假申请（年假 2 天）（部门负责人审批），请督促办理"),
    ]

    with at(2025, 10, 10, 17, 29):  # one working day (7.5 office hours) later is 10-10 17:30
        assert deadlines.sweep(core) == 0
    with at(2025, 10, 10, 17, 31):
        assert deadlines.sweep(core) == 1
    assert messages(core, before)[3:] == [
        (
            "zhengqiang",
            "escalated",
            "孙丽的待办超时已逾 1 个工作日：张三的请假申请（年假 2 天）（部门负责人审批），请督促办理",
        )
    ]
    with at(2025, 10, 20, 9, 0):
        assert deadlines.sweep(core) == 0
    with core.db.read() as conn:
        steps = sorted(r.step for r in conn.execute(select(reminder).where(reminder.c.work_item_id == item.id)))
    assert steps == ["escalate1", "escalate2", "overdue", "remind"]
    kinds = [kind for kind, _message in events(core, started["id"])]
    assert kinds.count("reminded") == 1 and kinds.count("overdue") == 1 and kinds.count("escalated") == 2
    assert ("overdue", "审批超时，系统自动提醒") in events(core, started["id"])


def test_a_late_sweep_skips_the_early_reminder_but_not_the_escalations(core):
    with at(2025, 9, 30, 10, 0):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
    before = last_notification_id(core)
    with at(2025, 10, 13, 9, 0):  # the scheduler was down for days
        assert deadlines.sweep(core) == 3
    assert [kind for _u, kind, _t in messages(core, before)] == ["overdue", "escalated", "escalated"]
    assert item_of(core, started["id"])[0].next_step == "done"


def test_many_due_items_in_one_batch_each_get_their_steps_once(core):
    with at(2025, 9, 30, 10, 0):
        ids = [initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")["id"] for _ in range(5)]
        deadlines.sweep(core)
    before = last_notification_id(core)
    with at(2025, 10, 9, 17, 31):
        assert deadlines.sweep(core, batch=3) == 10  # overdue + escalate1 for each of the five
        assert deadlines.sweep(core, batch=3) == 0
    got = messages(core, before)
    assert [kind for _u, kind, _t in got] == ["overdue", "escalated"] * 5
    for instance_id in ids:
        kinds = [kind for kind, _message in events(core, instance_id)]
        assert kinds.count("overdue") == 1 and kinds.count("escalated") == 1


def test_a_failing_batch_falls_back_to_one_item_at_a_time(core, monkeypatch):
    with at(2025, 9, 30, 10, 0):
        ids = [initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")["id"] for _ in range(2)]
        deadlines.sweep(core)

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure in the batch path")

    monkeypatch.setattr(deadlines, "_advance_batch", broken)
    before = last_notification_id(core)
    with at(2025, 10, 9, 17, 31):
        assert deadlines.sweep(core) == 4
        assert deadlines.sweep(core) == 0
    assert [kind for _u, kind, _t in messages(core, before)] == ["overdue", "escalated"] * 2
    assert {item_of(core, i)[0].next_step for i in ids} == {"escalate2"}


def test_handled_items_are_not_reminded(core):
    with at(2025, 9, 30, 10, 0):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
        deadlines.sweep(core)
        [item] = item_of(core, started["id"])
        decisions.complete(core, "sunli", item.id, {}, "approve", "同意")
    before = last_notification_id(core)
    with at(2025, 10, 13, 9, 0):
        assert deadlines.sweep(core) == 0
    assert messages(core, before) == []


def _two_step_bpmn(key: str, policy: str, first: str, hours: str = "2", sign_mode: str = "single") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="https://oaflow.example/tests">
  <bpmn:process id="{key}" name="超时策略 {policy}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="提交" />
    <bpmn:userTask id="Task_first" name="经办审核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="assignee" value="{first}" />
          <spiffworkflow:property name="due_hours" value="{hours}" />
          <spiffworkflow:property name="on_expiry" value="{policy}" />
          <spiffworkflow:property name="sign_mode" value="{sign_mode}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Task_second" name="分管领导审批">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="assignee" value="user:huangwei" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" name="结束" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_first" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_first" targetRef="Task_second" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_second" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy(core, key: str, content: bytes) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {f"{key}.bpmn": content}, None)


def test_automatic_approval_on_expiry(core):
    deploy(core, "expiry_approve", _two_step_bpmn("expiry_approve", "approve", "user:sunli"))
    with at(2025, 11, 3, 9, 0):
        started = initiate.start(core, "zhangsan", "expiry_approve", {}, "正常")
    [first] = item_of(core, started["id"])
    assert local(first.due_at) == datetime(2025, 11, 3, 11, 0)  # 2 working hours
    with at(2025, 11, 3, 11, 1):
        assert deadlines.sweep(core) == 1  # past due: no early reminder, only the approval
        assert deadlines.sweep(core) == 0
    items = {row.node_id: row for row in item_of(core, started["id"])}
    assert (items["Task_first"].status, items["Task_first"].decision) == ("done", "approve")
    assert items["Task_first"].opinion == "审批超时，系统自动通过"
    assert items["Task_second"].status == "open"
    assert ("auto_approved", "审批超时，系统自动通过") in events(core, started["id"])
    assert ("sunli", "auto_approved", "您的待办“张三的超时策略 approve（经办审核）”已超时，系统已自动通过") in messages(
        core
    )


def test_automatic_transfer_to_the_leader_on_expiry(core):
    deploy(core, "expiry_transfer", _two_step_bpmn("expiry_transfer", "transfer", "user:lisi"))
    with at(2025, 11, 3, 9, 0):
        started = initiate.start(core, "zhangsan", "expiry_transfer", {}, "正常")
    with at(2025, 11, 3, 11, 1):
        deadlines.sweep(core)
    # The same 转办 as a user's: lisi's item is closed as handed over, his leader holds a new one.
    old, item = item_of(core, started["id"])
    with core.db.read() as conn:
        holder = conn.execute(select(user_account.c.username).where(user_account.c.id == item.assignee_id)).scalar()
    assert (old.status, old.decision) == ("done", "transfer")
    assert (holder, item.status, item.node_id, item.origin) == ("sunli", "open", "Task_first", "transfer")
    assert item.note == "超时转交，原办理人：李四" and item.next_step == "done"  # not escalated again
    assert ("transferred", "审批超时，系统自动转交上级") in events(core, started["id"])
    assert any(u == "lisi" and k == "transferred" for u, k, _t in messages(core))
    # The leader decides as usual, and the process goes on.
    with at(2025, 11, 3, 14, 0):
        decisions.complete(core, "sunli", item.id, {}, "approve", "同意")
    assert {
        row.node_id: row.status
        for row in item_of(core, started["id"])
        if row.status != "done" or row.decision != "transfer"
    } == {
        "Task_first": "done",
        "Task_second": "open",
    }


def test_automatic_transfer_never_reaches_the_applicant(core):
    # lisi's leader is sunli, who applied: the sweep hands the item to the leader above her instead.
    deploy(core, "expiry_transfer", _two_step_bpmn("expiry_transfer", "transfer", "user:lisi"))
    with at(2025, 11, 3, 9, 0):
        started = initiate.start(core, "sunli", "expiry_transfer", {}, "正常")
    with at(2025, 11, 3, 11, 1):
        deadlines.sweep(core)
    _old, item = item_of(core, started["id"])
    with core.db.read() as conn:
        holder = conn.execute(select(user_account.c.username).where(user_account.c.id == item.assignee_id)).scalar()
    assert (holder, item.status, item.origin) == ("huangwei", "open", "transfer")


def test_automatic_approval_follows_the_sign_mode(core):
    # 依次: the sweep's 同意 is one signer's decision, like anyone's: the next signer's turn comes, the node
    # does not pass on one signature (it used to run the task and leave the second signer waiting forever).
    bpmn = _two_step_bpmn("expiry_sequential", "approve", "user:chenjing, user:zhaolei", sign_mode="sequential")
    deploy(core, "expiry_sequential", bpmn)
    with at(2025, 11, 3, 9, 0):
        started = initiate.start(core, "zhangsan", "expiry_sequential", {}, "正常")
    with at(2025, 11, 3, 11, 1):
        assert deadlines.sweep(core) == 1
    rows = item_of(core, started["id"])
    assert [(r.node_id, r.status, r.decision, r.opinion) for r in rows] == [
        ("Task_first", "done", "approve", "审批超时，系统自动通过"),
        ("Task_first", "open", None, None),  # zhaolei's turn now
    ]
    assert consistency.problems(core, started["id"]) == []


def test_automatic_transfer_goes_to_the_leaders_proxy(core):
    # The sweep's 转办 is the users' 转办: a leader who is away (代理) has the item go to their delegate.
    deploy(core, "expiry_transfer", _two_step_bpmn("expiry_transfer", "transfer", "user:lisi"))
    with core.db.write() as conn:
        sunli = users.find_user(conn, "sunli")
        delegations.create(conn, sunli, "wangfang", "2025-11-01", "2025-11-30", reason="出差")
    with at(2025, 11, 3, 9, 0):
        started = initiate.start(core, "zhangsan", "expiry_transfer", {}, "正常")
    with at(2025, 11, 3, 11, 1):
        deadlines.sweep(core)
    _old, item = item_of(core, started["id"])
    with core.db.read() as conn:
        holder = conn.execute(select(user_account.c.username).where(user_account.c.id == item.assignee_id)).scalar()
    assert (holder, item.status, item.proxy_for_id) == ("wangfang", "open", sunli.id)
    assert item.note == "超时转交，原办理人：李四（代理 孙丽）"


def test_suspension_stops_the_clock(core):
    with at(2025, 9, 30, 10, 0):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
        deadlines.sweep(core)
    instance_id = started["id"]
    with at(2025, 10, 9, 9, 30):
        with pytest.raises(Forbidden):
            suspension.suspend(core, "zhangsan", instance_id, "材料不全")
        with pytest.raises(InvalidData) as caught:
            suspension.suspend(core, "admin", instance_id, "  ")
        assert caught.value.errors[0].field == "reason"
        suspension.suspend(core, "admin", instance_id, "等待补充材料")
        with pytest.raises(Conflict):
            suspension.suspend(core, "admin", instance_id, "again")
    before = last_notification_id(core)
    with at(2025, 10, 9, 17, 31):
        assert deadlines.sweep(core) == 0  # the clock stands still
        [item] = item_of(core, instance_id)
        with pytest.raises(Conflict, match="已挂起"):
            decisions.complete(core, "sunli", item.id, {}, "approve", "同意")
    assert messages(core, before) == []
    with at(2025, 10, 10, 9, 30):
        result = suspension.resume(core, "admin", instance_id)
    # Suspended 10-09 09:30 → 10-10 09:30: 6.5 + 1 = 7.5 office hours, added to the due time.
    assert result["paused_minutes"] == 450
    [item] = item_of(core, instance_id)
    assert local(item.due_at) == datetime(2025, 10, 10, 17, 30)
    assert item.paused_minutes == 450
    with core.db.read() as conn:
        assert conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar() == "running"
    kinds = [k for k, _m in events(core, instance_id)]
    assert "suspended" in kinds and "resumed" in kinds
    with at(2025, 10, 10, 15, 31):
        assert deadlines.sweep(core) == 1  # the reminder, planned again from the new due time
    with at(2025, 10, 10, 17, 31):
        assert deadlines.sweep(core) == 2


def test_suspend_and_resume_endpoints(core, api, leave):
    started = leave.start()
    path = f"/api/v1/instances/{started['id']}"
    assert api("zhangsan").post(path + "/suspend", json={"reason": "x"}).status_code == 403
    bad = api("admin").post(path + "/suspend", json={})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "reason"
    response = api("admin").post(path + "/suspend", json={"reason": "等待补充材料"})
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert leave.detail(started["id"])["status_label"] == "已挂起"
    assert api("admin").post(path + "/suspend", json={"reason": "再次"}).status_code == 409
    assert api("admin").post("/api/v1/instances/999999/resume", json={}).status_code == 404
    response = api("admin").post(path + "/resume", json={})
    assert response.status_code == 200 and response.get_json()["status"] == "running"
    assert api("admin").post(path + "/resume", json={}).status_code == 409


def test_calendar_change_replans_the_steps(core, api):
    with at(2025, 9, 30, 10, 0):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
        deadlines.sweep(core)
    admin = api("admin")
    response = admin.client.put(
        "/api/v1/admin/calendar/days/2025-10-09", headers=admin.headers, json={"is_workday": False, "note": "停电"}
    )
    assert response.status_code == 200
    [item] = item_of(core, started["id"])
    assert local(item.due_at) == datetime(2025, 10, 10, 17, 30) and item.next_step is None
    with at(2025, 10, 9, 17, 31):
        assert deadlines.sweep(core) == 0
    with at(2025, 10, 10, 15, 31):
        assert deadlines.sweep(core) == 1


def test_the_sweep_reads_only_due_items(core, backend):
    """Many open items planned for later: the sweep's queries go through the (status, next_step_at) and
    (status, kind, next_step) indexes, and a sweep with nothing due takes no step."""
    with at(2025, 9, 30, 10, 0):
        for _ in range(30):
            initiate.start(core, "zhangsan", "leave", LEAVE, "正常")
        deadlines.sweep(core)
    with at(2025, 10, 1, 10, 0):
        assert deadlines.sweep(core) == 0
    if backend != "sqlite":
        return  # the planner's choice on a tiny PostgreSQL table says nothing; SQLite's plan is fixed
    now = datetime(2025, 10, 1, 2, 0)
    with core.db.read() as conn:
        for sql, params, index in (
            (
                "SELECT id FROM work_item WHERE status = 'open' AND next_step_at <= :now ORDER BY next_step_at",
                {"now": now},
                "ix_work_item_step",
            ),
            (
                "SELECT id FROM work_item WHERE status = 'open' AND kind = 'approve' AND next_step IS NULL",
                {},
                "ix_work_item_step_new",
            ),
        ):
            plan = " ".join(row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params))
            assert index in plan, plan
