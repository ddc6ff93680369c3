"""日志 and the search through the REST API: the 登录日志 records every attempt with its address and result,
the 操作日志 every administrative and approval action, both exported to Excel; the 登录日志 is purged past its
retention and never younger than 180 days; the search finds my applications (an administrator: all) by
the beginning of a title, a 发起人's name, status and dates."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from support import PASSWORD

from engine.errors import InvalidData
from engine.org import sign_in_log
from engine.store.tables import utcnow


def test_every_sign_in_attempt_is_in_the_login_log(client, api):
    client.post("/api/v1/auth/token", json={"username": "lisi", "password": "wrong-password"})
    client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"})
    client.post("/api/v1/auth/token", json={"username": "lisi", "password": PASSWORD})
    admin = api("admin")
    rows = admin.get("/api/v1/admin/logs/login").get_json()
    assert rows["retention_days"] == 180
    mine = [(r["username"], r["success"], r["reason"]) for r in rows["items"] if r["username"] in ("lisi", "nobody")]
    assert mine == [
        ("lisi", True, ""),
        ("nobody", False, "用户名或密码错误"),
        ("lisi", False, "用户名或密码错误"),
    ]
    assert {r["address"] for r in rows["items"]} == {"127.0.0.1"}
    failed = admin.get("/api/v1/admin/logs/login", query_string={"user": "lisi", "result": "failure"}).get_json()
    assert [(r["username"], r["result"], r["name"]) for r in failed["items"]] == [("lisi", "失败", "李四")]
    sheet = admin.get("/api/v1/admin/logs/login", query_string={"format": "xlsx", "user": "lisi"})
    assert sheet.headers["Content-Disposition"].endswith('oaflow-login-log.xlsx"')
    book = load_workbook(io.BytesIO(sheet.data)).active
    assert [c.value for c in book[1]] == ["时间", "用户名", "姓名", "IP 地址", "方式", "结果", "原因"]
    assert [row[5] for row in book.iter_rows(min_row=2, values_only=True)] == ["成功", "失败"]
    assert api("lisi").get("/api/v1/admin/logs/login").status_code == 403


def test_the_operation_log_lists_approvals_and_administrators_actions(ops, api):
    instance_id = ops.start(days=5)
    ops.decide("sunli", instance_id, opinion="情况属实")
    ops.do("admin", f"/admin/instances/{instance_id}/terminate", {"reason": "重复提交"})
    admin = api("admin")
    listed = admin.get("/api/v1/admin/logs/operations").get_json()["items"]
    assert [(r["username"], r["action"]) for r in listed[:3]] == [
        ("admin", "terminated"),
        ("sunli", "approved"),
        ("zhangsan", "started"),
    ]
    assert listed[1]["opinion"] == "情况属实" and listed[1]["title"] and listed[1]["node_name"] == "部门负责人审批"
    only = admin.get("/api/v1/admin/logs/operations", query_string={"user": "sunli", "action": "approved"}).get_json()
    assert [r["instance_id"] for r in only["items"]] == [instance_id]
    bad = admin.get("/api/v1/admin/logs/operations", query_string={"user": "nobody", "from": "2026-02-30"})
    assert {e["field"] for e in bad.get_json()["errors"]} == {"from"}
    sheet = admin.get("/api/v1/admin/logs/operations", query_string={"format": "xlsx", "user": "admin"})
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "用户名", "姓名", "操作") and rows[1][3] == "管理员终止"


def test_the_login_log_is_kept_at_least_180_days(core):
    now = utcnow()
    with core.db.write() as conn:
        for age in (179, 181, 250):
            sign_in_log.record(
                conn, f"age{age}", user_id=None, address="10.0.0.1", kind="web", success=False, reason="x",
                at=now - timedelta(days=age),
            )  # fmt: skip
    with pytest.raises(InvalidData) as refused:
        sign_in_log.set_retention(core, "admin", 100)
    assert refused.value.errors[0].field == "retention_days"
    assert sign_in_log.set_retention(core, "admin", "200") == 200
    assert sign_in_log.purge_old(core, now) == 1  # 250 days old
    sign_in_log.set_retention(core, "admin", 180)
    assert sign_in_log.purge_old(core, now) == 1  # 181 days old; the 179-day-old attempt stays
    assert sign_in_log.purge_old(core, now) == 0


def test_search_finds_my_applications_by_title_name_status_and_date(ops, api, leave):
    mine = ops.start(days=2)
    theirs = leave.start("lisi", **leave.leave_data(days=2))["id"]
    title = ops.detail(mine)["title"]
    found = api("zhangsan").get("/api/v1/search", query_string={"q": title[:3]}).get_json()
    assert [r["id"] for r in found["items"]] == [mine] and found["everything"] is False
    assert [r["id"] for r in api("sunli").get("/api/v1/search", query_string={"q": "李四"}).get_json()["items"]] == [
        theirs
    ]  # sunli holds its item: 发起人 by name
    assert title.startswith("张三的请假申请")
    admin = api("admin").get("/api/v1/search", query_string={"q": "李四的请假"}).get_json()
    assert [r["id"] for r in admin["items"]] == [theirs] and admin["everything"] is True
    assert api("wangfang").get("/api/v1/search", query_string={"q": title[:3]}).get_json()["items"] == []
    assert api("zhangsan").get("/api/v1/search", query_string={"q": title[1:4]}).get_json()["items"] == []  # prefix
    assert api("zhangsan").get("/api/v1/search", query_string={"q": "%"}).get_json()["items"] == []
    by_status = api("zhangsan").get("/api/v1/search", query_string={"status": "running"}).get_json()
    assert [r["id"] for r in by_status["items"]] == [mine]
    later = api("zhangsan").get("/api/v1/search", query_string={"q": title[:3], "started_from": "2099-01-01"})
    assert later.get_json()["items"] == []
    bad = api("zhangsan").get("/api/v1/search", query_string={"status": "x", "page": "0"})
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"status", "page"}
