"""What the tests share besides fixtures: clients that speak as the demo users, the 请假 and approval-operation
drivers, browser sessions, the test data folder. The fixtures that build them are in conftest.py."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine.org import accounts, demo, sessions
from engine.process import definitions
from engine.store.tables import event_log, instance, notification, user_account, work_item
from engine.work import consistency

PASSWORD = demo.DEMO_PASSWORD
DATA = Path(__file__).parent / "data"


class ApiClient:
    """A Flask test client that sends one user's bearer token with every call."""

    def __init__(self, client, username: str):
        self.client = client
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": "Bearer " + response.get_json()["token"]}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)


LEAVE = {
    "leave_type": "年假",
    "start_date": "2026-11-23",
    "end_date": "2026-11-24",  # the server counts 天数 = 2 working days
    "reason": "回老家探亲",
}

# A 合同会签 as the engine tests start it.
CONTRACT = {
    "contract_name": "办公设备采购合同",
    "counterparty": "某某科技有限公司",
    "amount": 120000,
    "contract_type": "采购类",
    "payment_terms": "验收后付清",
    "main_terms": "供货 20 台电脑",
}


def leave_range(days: float, start: date = date(2026, 11, 23)) -> dict:
    """The dates of a leave of `days` working days (steps of 0.5) from a Monday in late 2026, a stretch with
    no holiday and no 调休: 天数 is computed by the server from these, never sent."""
    whole = math.ceil(days)
    end = start
    counted = 1
    while counted < whole:
        end += timedelta(days=1)
        if end.weekday() < 5:
            counted += 1
    dates = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    if whole != days:
        dates["end_half"] = "上午"
    return dates


class Weekdays:
    """A working calendar of Monday–Friday without holidays, as computed fields ask for it (forms.validate's
    `env`): enough to check a form without a database."""

    def working_days(self, start: date, end: date, *, start_afternoon: bool, end_morning: bool) -> float:
        days = sum(1 for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5)
        return days - 0.5 * (start_afternoon and start.weekday() < 5) - 0.5 * (end_morning and end.weekday() < 5)


class LeaveFlow:
    """Drive the 请假 process through the REST API as the demo users."""

    def __init__(self, api, leave_data):
        self.api = api
        self.leave_data = leave_data

    def start(self, user: str = "zhangsan", *, priority: str | None = None, **overrides) -> dict:
        body = {"process": "leave", "data": self.leave_data(**overrides)}
        if priority is not None:
            body["priority"] = priority
        response = self.api(user).post("/api/v1/instances", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def detail(self, instance_id: int, user: str = "admin") -> dict:
        response = self.api(user).get(f"/api/v1/instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_items(self, instance_id: int) -> list[dict]:
        """The instance's open approval items (not 知会 copies), in creation order."""
        return [w for w in self.detail(instance_id)["work_items"] if w["kind"] == "approve" and w["status"] == "open"]

    def my_item(self, user: str, instance_id: int) -> dict:
        """The one open item `user` holds for this instance, as listed in the user's 待办."""
        listed = self.api(user).get("/api/v1/work-items?box=todo&per_page=100").get_json()["items"]
        mine = [item for item in listed if item["instance_id"] == instance_id]
        assert len(mine) == 1, f"{user} should hold exactly one open item of instance {instance_id}: {listed}"
        return mine[0]

    def complete(self, user: str, item_id: int, decision: str = "approve", opinion: str | None = "同意", **extra):
        body = {"decision": decision, **extra}
        if opinion is not None:
            body["opinion"] = opinion
        return self.api(user).post(f"/api/v1/work-items/{item_id}/complete", json=body)

    def decide(self, user: str, instance_id: int, decision: str = "approve", opinion: str | None = "同意") -> dict:
        """`user` decides the item they hold for this instance; the call must succeed."""
        item = self.my_item(user, instance_id)
        response = self.complete(user, item["id"], decision, opinion)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


class Ops:
    """REST calls as the demo users; every successful call is followed by the consistency check."""

    def __init__(self, api, core, leave):
        self.api = api
        self.core = core
        self.leave = leave

    # --- setup ---

    def deploy(self, *names: str) -> None:
        with self.core.db.write() as conn:
            definitions.deploy(conn, {name: (DATA / name).read_bytes() for name in names}, None)

    def start(self, process: str = "leave", user: str = "zhangsan", **data) -> int:
        if process == "leave":
            instance_id = self.leave.start(user, **data)["id"]
        else:
            response = self.api(user).post("/api/v1/instances", json={"process": process, "data": data})
            assert response.status_code == 201, response.get_json()
            instance_id = response.get_json()["id"]
        self.check()
        return instance_id

    # --- the invariant ---

    def check(self) -> None:
        with self.core.db.read() as conn:
            ids = [row.id for row in conn.execute(select(instance.c.id))]
        for instance_id in ids:
            assert consistency.problems(self.core, instance_id) == [], instance_id

    def snapshot(self) -> tuple:
        """Everything an operation could change: instances, work items, events, notifications."""
        with self.core.db.read() as conn:
            return (
                [tuple(r) for r in conn.execute(select(instance).order_by(instance.c.id))],
                [tuple(r) for r in conn.execute(select(work_item).order_by(work_item.c.id))],
                conn.execute(select(func.count()).select_from(event_log)).scalar(),
                conn.execute(select(func.count()).select_from(notification)).scalar(),
            )

    # --- calls ---

    def do(self, user: str, path: str, body: dict | None = None) -> dict:
        response = self.api(user).post(f"/api/v1{path}", json=body if body is not None else {})
        assert response.status_code == 200, (path, response.get_json())
        self.check()
        return response.get_json()

    def refused(self, user: str, path: str, body: dict | None, status: int, error: str | None = None) -> dict:
        """The call fails with `status` (and exactly `error`, when given) and changes nothing."""
        before = self.snapshot()
        response = self.api(user).post(f"/api/v1{path}", json=body if body is not None else {})
        assert response.status_code == status, (path, response.get_json())
        result = response.get_json()
        if error is not None:
            assert result["error"] == error
        assert self.snapshot() == before
        self.check()
        return result

    def field_error(self, user: str, path: str, body: dict | None, field: str, message: str | None = None) -> None:
        result = self.refused(user, path, body, 422)
        assert [e["field"] for e in result["errors"]] == [field], result
        if message is not None:
            assert result["errors"][0]["message"] == message

    def complete(self, user: str, item_id: int, decision="approve", opinion: str | None = "同意", **extra) -> dict:
        body = {"decision": decision, **extra}
        if opinion is not None:
            body["opinion"] = opinion
        return self.do(user, f"/work-items/{item_id}/complete", body)

    def decide(self, user: str, instance_id: int, decision="approve", opinion: str | None = "同意") -> dict:
        return self.complete(user, self.mine(user, instance_id), decision, opinion)

    # --- reading ---

    def mine(self, user: str, instance_id: int) -> int:
        """The id of the one open item `user` holds for the instance (from the user's 待办)."""
        return self.leave.my_item(user, instance_id)["id"]

    def detail(self, instance_id: int, user: str = "admin") -> dict:
        return self.leave.detail(instance_id, user)

    def item(self, user: str, item_id: int) -> dict:
        response = self.api(user).get(f"/api/v1/work-items/{item_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_items(self, instance_id: int) -> list[tuple[str, str]]:
        return [(w["node"], w["assignee"]) for w in self.leave.open_items(instance_id)]

    def items(self, instance_id: int) -> list[tuple]:
        """(node, assignee, status, decision, note) of every approval item, in creation order."""
        return [
            (w["node"], w["assignee"], w["status"], w["decision"], w["note"])
            for w in self.detail(instance_id)["work_items"]
            if w["kind"] == "approve"
        ]

    def history(self, instance_id: int) -> list[dict]:
        return self.detail(instance_id)["history"]

    def last_event(self, instance_id: int) -> dict:
        return self.history(instance_id)[-1]

    def status(self, instance_id: int) -> str:
        return self.detail(instance_id)["status"]

    def todo(self, user: str) -> list[int]:
        listed = self.api(user).get("/api/v1/work-items?box=todo&per_page=100").get_json()["items"]
        return [i["instance_id"] for i in listed]

    def notifications(self, user: str, kind: str) -> list[str]:
        with self.core.db.read() as conn:
            rows = conn.execute(
                select(notification.c.title)
                .join(user_account, user_account.c.id == notification.c.user_id)
                .where(user_account.c.username == user, notification.c.kind == kind)
                .order_by(notification.c.id)
            )
            return [row.title for row in rows]


def sign_in(client, core, username: str) -> str:
    """A browser session for `username` without the login form (its CSRF token is "test-csrf")."""
    secret = accounts.start_session(core, username, kind=sessions.WEB)
    with client.session_transaction() as session:
        session["sid"] = secret
        session["csrf"] = "test-csrf"
    return "test-csrf"


def log_in(client, username: str = "admin") -> str:
    """Log in through the login form, as a browser does; returns the session's CSRF token."""
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf"]
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as session:
        return session["csrf"]


# --- BPMN with one expression in one place (budgets, the sandbox catalogue, runtime expression errors) ----

PLACES = ("condition", "script", "loopCardinality", "completionCondition", "timer", "assignee", "form default")

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Definitions_{key}" targetNamespace="https://oaflow.example/tests">
  <bpmn:process id="{key}" name="表达式 {key}" isExecutable="true">
"""
_TAIL = """  </bpmn:process>
</bpmn:definitions>
"""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _task(ident: str, name: str, who: str, inner: str = "") -> str:
    return f"""    <bpmn:userTask id="{ident}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{_xml(who)}" />
      </spiffworkflow:properties></bpmn:extensionElements>{inner}
    </bpmn:userTask>
"""


def _flow(ident: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{ident}" sourceRef="{source}" targetRef="{target}" />\n'
    return (
        f'    <bpmn:sequenceFlow id="{ident}" sourceRef="{source}" targetRef="{target}">\n'
        f"      <bpmn:conditionExpression>{_xml(condition)}</bpmn:conditionExpression>\n"
        "    </bpmn:sequenceFlow>\n"
    )


def expression_bpmn(place: str, expression: str, key: str = "hostile", form_field: str = "amount") -> bytes:
    """A small process with `expression` standing in `place` (one of PLACES). The start form has a number
    field `form_field` (where the place allows one), so conditions may read it."""
    start_form = (
        '    <bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><camunda:formData>'
        f'<camunda:formField id="{form_field}" label="金额" type="long" /></camunda:formData>'
        "</bpmn:extensionElements></bpmn:startEvent>\n"
    )
    end = '    <bpmn:endEvent id="EndEvent_1" />\n'
    if place == "condition":
        body = (
            start_form
            + '    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_b" />\n'
            + _task("Task_a", "甲", "user:lisi")
            + _task("Task_b", "乙", "user:wangfang")
            + end
            + _flow("Flow_1", "StartEvent_1", "Gateway_1")
            + _flow("Flow_a", "Gateway_1", "Task_a", expression)
            + _flow("Flow_b", "Gateway_1", "Task_b")
            + _flow("Flow_2", "Task_a", "EndEvent_1")
            + _flow("Flow_3", "Task_b", "EndEvent_1")
        )
    elif place == "script":
        body = (
            start_form
            + '    <bpmn:scriptTask id="Script_1" name="计算">'
            + f"<bpmn:script>{_xml(expression)}</bpmn:script></bpmn:scriptTask>\n"
            + _task("Task_a", "甲", "user:lisi")
            + end
            + _flow("Flow_1", "StartEvent_1", "Script_1")
            + _flow("Flow_2", "Script_1", "Task_a")
            + _flow("Flow_3", "Task_a", "EndEvent_1")
        )
    elif place in ("loopCardinality", "completionCondition"):
        if place == "loopCardinality":
            loop = f"<bpmn:loopCardinality>{_xml(expression)}</bpmn:loopCardinality>"
        else:
            loop = (
                "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
                f"<bpmn:completionCondition>{_xml(expression)}</bpmn:completionCondition>"
            )
        inner = (
            '\n      <bpmn:multiInstanceLoopCharacteristics isSequential="false">'
            f"{loop}</bpmn:multiInstanceLoopCharacteristics>"
        )
        body = (
            start_form
            + _task("Task_sign", "会签", "user:lisi", inner)
            + end
            + _flow("Flow_1", "StartEvent_1", "Task_sign")
            + _flow("Flow_2", "Task_sign", "EndEvent_1")
        )
    elif place == "timer":
        body = (
            start_form
            + _task("Task_a", "甲", "user:lisi")
            + '    <bpmn:boundaryEvent id="Timer_1" name="超时" attachedToRef="Task_a" cancelActivity="false">\n'
            + '      <bpmn:timerEventDefinition id="TimerDef_1">'
            + f"<bpmn:timeDuration>{_xml(expression)}</bpmn:timeDuration>"
            + "</bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n"
            + end
            + '    <bpmn:endEvent id="EndEvent_2" />\n'
            + _flow("Flow_1", "StartEvent_1", "Task_a")
            + _flow("Flow_2", "Task_a", "EndEvent_1")
            + _flow("Flow_3", "Timer_1", "EndEvent_2")
        )
    elif place == "assignee":
        body = (
            start_form
            + _task("Task_a", "甲", f"user:lisi if {expression}")
            + end
            + _flow("Flow_1", "StartEvent_1", "Task_a")
            + _flow("Flow_2", "Task_a", "EndEvent_1")
        )
    elif place == "form default":
        body = (
            '    <bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><camunda:formData>'
            f'<camunda:formField id="note" label="备注" type="string" defaultValue="{_xml(expression)}" />'
            "</camunda:formData></bpmn:extensionElements></bpmn:startEvent>\n"
            + _task("Task_a", "甲", "user:lisi")
            + end
            + _flow("Flow_1", "StartEvent_1", "Task_a")
            + _flow("Flow_2", "Task_a", "EndEvent_1")
        )
    else:
        raise ValueError(place)
    return (_HEAD.format(key=key) + body + _TAIL).encode()
