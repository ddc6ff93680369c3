"""账号申请 (account_request) through the REST API: 开通 creates the account with a one-time password the new
user must change, 注销 deactivates one, 不同意 creates nothing, and a handler failure leaves the instance in
异常 with nothing created until an administrator fixes the cause and retries."""

from __future__ import annotations

NEW = {
    "request_type": "开通",
    "full_name": "王五",
    "username": "wangwu",
    "department": "业务部",
    "position": "业务员",
    "mobile": "13800138000",
    "role": "普通用户",
    "effective_date": "2026-12-07",
}


def _start(api, data, user="zhangsan") -> int:
    response = api(user).post("/api/v1/instances", json={"process": "account_request", "data": data})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["id"]


def _item(api, user, instance_id) -> int:
    items = api(user).get("/api/v1/work-items?box=todo&per_page=100").get_json()["items"]
    (item,) = [i["id"] for i in items if i["instance_id"] == instance_id]
    return item


def _decide(api, user, instance_id, decision="approve"):
    body = {"decision": decision, "opinion": "同意" if decision == "approve" else "不同意，岗位未核定"}
    return api(user).post(f"/api/v1/work-items/{_item(api, user, instance_id)}/complete", json=body)


def _instance(api, instance_id, user="zhangsan") -> dict:
    return api(user).get(f"/api/v1/instances/{instance_id}").get_json()


def _password_from_message(api, instance_id) -> str:
    messages = api("zhangsan").get("/api/v1/notifications").get_json()["items"]
    (told,) = [m for m in messages if m.get("instance_id") == instance_id and "账号申请已办结" in m["title"]]
    line = next(line for line in told["body"].splitlines() if line.startswith("一次性密码："))
    return line.removeprefix("一次性密码：")


def test_open_creates_the_account_whose_password_must_be_changed(api, client):
    instance_id = _start(api, NEW)
    assert _decide(api, "sunli", instance_id).status_code == 200
    assert _decide(api, "admin", instance_id).status_code == 200
    detail = _instance(api, instance_id)
    assert detail["status"] == "approved"
    history = " ".join(str(e.get("message") or "") for e in detail["history"])
    assert "oaflow.org.account：账号 wangwu（王五）已开通" in history  # the handler's run, audited
    account = next(u for u in api("admin").get("/api/v1/admin/users?q=wangwu").get_json()["items"])
    assert (account["department"], account["title"], account["must_change_password"]) == ("业务部", "业务员", True)
    assert "一次性密码" not in str(detail.get("data"))  # the password is in the applicant's message only
    password = _password_from_message(api, instance_id)
    token = client.post("/api/v1/auth/token", json={"username": "wangwu", "password": password}).get_json()
    headers = {"Authorization": "Bearer " + token["token"]}
    refused = client.get("/api/v1/work-items", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "password_change_required"


def test_close_deactivates_the_account_and_ends_its_sessions(api, client):
    lisi = api("lisi")
    assert lisi.get("/api/v1/me").status_code == 200
    instance_id = _start(api, {**NEW, "request_type": "注销", "full_name": "李四", "username": "lisi"})
    _decide(api, "sunli", instance_id)
    _decide(api, "admin", instance_id)
    assert _instance(api, instance_id)["status"] == "approved"
    assert lisi.get("/api/v1/me").status_code == 401
    listed = api("admin").get("/api/v1/admin/users?q=lisi").get_json()["items"]
    assert listed[0]["active"] is False


def test_a_refused_request_creates_nothing(api):
    instance_id = _start(api, NEW)
    assert _decide(api, "sunli", instance_id, "reject").status_code == 200
    assert _instance(api, instance_id)["status"] == "rejected"
    assert api("admin").get("/api/v1/admin/users?q=wangwu").get_json()["items"] == []


def test_handler_failure_is_an_error_state_then_retried(api):
    instance_id = _start(api, {**NEW, "department": "信息中心"})  # no such department yet
    _decide(api, "sunli", instance_id)
    failed = _decide(api, "admin", instance_id)
    assert failed.status_code == 422
    assert "部门 '信息中心' 不存在" in failed.get_json()["error"]
    assert _instance(api, instance_id)["status"] == "error"
    assert api("admin").get("/api/v1/admin/users?q=wangwu").get_json()["items"] == []  # nothing half-created
    (listed,) = [e for e in api("admin").get("/api/v1/admin/errors").get_json()["items"] if e["id"] == instance_id]
    assert listed["element"] == "Task_account"
    created = api("admin").post("/api/v1/admin/departments", json={"name": "信息中心", "parent": "示例单位"})
    assert created.status_code == 201
    retried = api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert _decide(api, "admin", instance_id).status_code == 200  # the 信息部门 step, decided again
    assert _instance(api, instance_id)["status"] == "approved"
    (account,) = api("admin").get("/api/v1/admin/users?q=wangwu").get_json()["items"]
    assert account["department"] == "信息中心"


def test_the_form_names_the_field_at_fault(api):
    response = api("zhangsan").post(
        "/api/v1/instances", json={"process": "account_request", "data": {**NEW, "mobile": "12345", "username": "王"}}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} >= {"mobile", "username"}
