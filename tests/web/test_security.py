"""Who may do what: tokens, participants, admins, double submissions, and data that tries to reach
further than a form field."""

from __future__ import annotations

import io
import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from engine.process import library
from engine.store.tables import instance, user_account

CJK = re.compile(r"[\u4e00-\u9fff]")

PROTECTED = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/processes"),
    ("get", "/api/v1/processes/leave"),
    ("get", "/api/v1/work-items"),
    ("get", "/api/v1/work-items/1"),
    ("post", "/api/v1/work-items/1/complete"),
    ("get", "/api/v1/instances/1"),
    ("post", "/api/v1/instances"),
    ("post", "/api/v1/deployments"),
]


def user_id(core, username: str) -> int:
    with core.db.read() as conn:
        return conn.execute(select(user_account.c.id).where(user_account.c.username == username)).scalar_one()


def call(client, method: str, path: str, headers=None):
    kwargs = {"json": {"process": "leave", "data": {}}} if method == "post" else {}
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


# --- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_token_is_401(client, row_counts, method, path):
    before = row_counts()
    response = call(client, method, path)
    assert response.status_code == 401
    assert CJK.search(response.get_json()["error"])
    assert row_counts() == before


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer garbage",
        "Bearer eyJ1Ijo1fQ.ZZZZZZ.xxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "Basic emhhbmdzYW46b2FmbG93LWRlbW8=",  # zhangsan:oaflow-demo
    ],
    ids=["empty", "garbage", "forged-signature", "basic-auth"],
)
def test_bad_token_is_401(client, header):
    assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401
    assert client.post("/api/v1/instances", headers={"Authorization": header}, json={}).status_code == 401


def test_token_signed_with_another_key_is_401(client, core, leave_data):
    forged = URLSafeTimedSerializer("not-the-server-key", salt="oaflow-api-token").dumps({"u": user_id(core, "admin")})
    headers = {"Authorization": f"Bearer {forged}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/instances/1", headers=headers).status_code == 401


def test_wrong_password_gets_no_token(client):
    response = client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "wrong-password"})
    assert response.status_code == 401
    assert "token" not in response.get_json()
    assert client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}).status_code == 401
    assert client.post("/api/v1/auth/token", data="zhangsan").status_code == 422  # not JSON: names "body"


def test_token_identifies_the_user(api):
    me = api("lisi").get("/api/v1/me").get_json()
    assert me["user"]["username"] == "lisi"
    assert me["user"]["is_admin"] is False
    assert api("admin").get("/api/v1/me").get_json()["user"]["is_admin"] is True


def test_expired_token_is_401(api, app):
    zhangsan = api("zhangsan")
    assert zhangsan.get("/api/v1/me").status_code == 200
    app.config["TOKEN_MAX_AGE"] = -1
    assert zhangsan.get("/api/v1/me").status_code == 401


def test_deactivated_user_token_stops_working(api, core):
    zhangsan = api("zhangsan")
    assert zhangsan.get("/api/v1/me").status_code == 200
    with core.db.write() as conn:
        conn.execute(update(user_account).where(user_account.c.username == "zhangsan").values(active=False))
    assert zhangsan.get("/api/v1/me").status_code == 401


# --- someone else's work item -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intruder", "status"),
    [("zhangsan", 403), ("lisi", 404), ("chenjing", 404), ("liuyang", 404), ("huangwei", 404)],
    ids=["initiator", "colleague", "other-dept", "hr", "next-approver"],
)
def test_completing_another_users_item(leave, row_counts, intruder, status):
    instance_id = leave.start(days=5)["id"]
    item = leave.my_item("sunli", instance_id)
    before = row_counts()

    response = leave.complete(intruder, item["id"])

    assert response.status_code == status
    assert CJK.search(response.get_json()["error"])
    assert row_counts() == before
    assert [(w["assignee"], w["status"]) for w in leave.open_items(instance_id)] == [("sunli", "open")]


def test_earlier_approver_may_not_take_over_the_next_step(leave):
    instance_id = leave.start(days=5)["id"]
    leave.decide("sunli", instance_id)
    item = leave.my_item("huangwei", instance_id)
    # sunli took part, so the item exists for her, but it is not hers.
    assert leave.complete("sunli", item["id"]).status_code == 403
    assert leave.complete("sunli", item["id"], "reject", "不行").status_code == 403
    assert [w["assignee"] for w in leave.open_items(instance_id)] == ["huangwei"]


def test_admin_cannot_complete_items_either(leave):
    # Admins see everything but decide nothing on someone else's behalf.
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    assert leave.complete("admin", item["id"]).status_code == 403
    assert leave.detail(instance_id)["status"] == "running"


# --- who may read an instance ---------------------------------------------------------------------


def test_only_participants_and_admins_see_an_instance(api, leave):
    instance_id = leave.start(days=5)["id"]
    item_id = leave.my_item("sunli", instance_id)["id"]

    for user in ("zhangsan", "sunli", "admin"):
        assert api(user).get(f"/api/v1/instances/{instance_id}").status_code == 200, user
    for user in ("lisi", "chenjing", "huangwei", "liuyang", "zhouwen"):
        response = api(user).get(f"/api/v1/instances/{instance_id}")
        assert response.status_code == 404, user
        assert "回老家探亲" not in response.get_data(as_text=True)
        assert api(user).get(f"/api/v1/work-items/{item_id}").status_code == 404, user
    # Not in anyone else's boxes either.
    for user in ("lisi", "huangwei"):
        for box in ("todo", "done", "started", "cc"):
            listed = api(user).get("/api/v1/work-items", query_string={"box": box}).get_json()
            assert listed["total"] == 0, (user, box)

    # Once huangwei holds a step, he may read it.
    leave.decide("sunli", instance_id)
    assert api("huangwei").get(f"/api/v1/instances/{instance_id}").status_code == 200
    assert api("lisi").get(f"/api/v1/instances/{instance_id}").status_code == 404


def test_unknown_instance_is_404(api):
    assert api("admin").get("/api/v1/instances/424242").status_code == 404


# --- double submissions and ended instances -------------------------------------------------------


def test_second_completion_of_the_same_item_is_409(leave, row_counts):
    instance_id = leave.start(days=5)["id"]
    item = leave.my_item("sunli", instance_id)
    assert leave.complete("sunli", item["id"]).status_code == 200
    before = row_counts()

    for decision, opinion in (("approve", "同意"), ("reject", "再想想")):
        again = leave.complete("sunli", item["id"], decision, opinion)
        assert again.status_code == 409
        message = again.get_json()["error"]
        assert CJK.search(message) and "已处理" in message

    assert row_counts() == before
    assert [w["assignee"] for w in leave.open_items(instance_id)] == ["huangwei"]


def test_completing_after_the_instance_ended_is_409(leave, row_counts):
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    assert leave.complete("sunli", item["id"], "reject", "不批").status_code == 200
    before = row_counts()
    response = leave.complete("sunli", item["id"])
    assert response.status_code == 409
    assert CJK.search(response.get_json()["error"])
    assert row_counts() == before
    assert leave.detail(instance_id)["status"] == "rejected"


def test_open_item_of_a_withdrawn_instance_is_409(leave, core, row_counts):
    # A request withdrawn (已撤销) while a step is still open: the step can no longer be decided.
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    with core.db.write() as conn:
        conn.execute(update(instance).where(instance.c.id == instance_id).values(status="cancelled"))
    before = row_counts()

    response = leave.complete("sunli", item["id"])

    assert response.status_code == 409
    assert response.get_json()["error"] == "该申请已撤销，不能再办理"
    assert row_counts() == before


# --- deployments are for administrators ------------------------------------------------------------


@pytest.mark.parametrize("user", ["zhangsan", "sunli", "zhengqiang"])
def test_only_admins_may_deploy(api, row_counts, user):

    files = library.library_files()
    changed = files["leave.bpmn"].replace(b"days &gt; 3", b"days &gt; 0")
    before = row_counts()
    response = api(user).post(
        "/api/v1/deployments",
        data={"files": [(io.BytesIO(changed), "leave.bpmn")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert CJK.search(response.get_json()["error"])
    assert row_counts() == before


# --- data that tries to be more than data ---------------------------------------------------------


def test_form_text_is_never_evaluated_or_templated(leave):
    reason = "{initiator_name.__class__} ${days > 100} __import__('os').system('touch /tmp/oaflow-pwned')"
    started = leave.start(days=2, reason=reason)
    assert started["title"] == "张三的请假申请（年假 2 天）"
    assert started["data"]["reason"] == reason
    # The route still follows the number of days, not anything written in the reason.
    assert leave.decide("sunli", started["id"])["status"] == "approved"


@pytest.mark.parametrize("query", ["%", "_", "%%", "' OR 1=1 --"])
def test_search_text_is_literal(leave, api, query):
    leave.start()
    listed = api("zhangsan").get("/api/v1/work-items", query_string={"box": "started", "q": query}).get_json()
    assert listed["total"] == 0
    assert api("sunli").get("/api/v1/work-items", query_string={"q": query}).get_json()["total"] == 0
