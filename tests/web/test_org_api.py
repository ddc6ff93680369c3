"""组织与用户 through the REST API: departments, accounts, one-time passwords changed at first sign-in,
import with a preview and per-row errors, export, and what each administrators' role may reach."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from support import PASSWORD

USERS = "/api/v1/admin/users"
DEPARTMENTS = "/api/v1/admin/departments"
HEADER = "登录名,姓名,部门,岗位,邮箱,角色,业务角色,初始密码\n"


def _patch(client, api, user, path, body):
    return client.patch(path, json=body, headers=api(user).headers)


def _sign_in(client, username, password):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def _import(api, content: bytes, name="users.csv", **flags):
    data = {"file": (io.BytesIO(content), name), **{k: "1" for k, v in flags.items() if v}}
    return api("admin").post(f"{USERS}/import", data=data, content_type="multipart/form-data")


def test_department_tree_create_rename_move_and_leaders(api, client):
    created = api("admin").post(DEPARTMENTS, json={"name": "信息部", "parent": "示例单位", "leader": "wangfang"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["leader_name"] == "王芳"
    sub = api("admin").post(DEPARTMENTS, json={"name": "运维组", "parent": "信息部"}).get_json()
    assert sub["depth"] == 2 and sub["parent"] == "信息部"
    renamed = _patch(client, api, "admin", f"{DEPARTMENTS}/信息部", {"name": "信息中心", "supervisor": "huangwei"})
    assert renamed.get_json()["supervisor_name"] == "黄伟"
    loop = _patch(client, api, "admin", f"{DEPARTMENTS}/信息中心", {"parent": "运维组"})
    assert loop.status_code == 422 and loop.get_json()["errors"][0]["field"] == "parent"
    moved = _patch(client, api, "admin", f"{DEPARTMENTS}/运维组", {"parent": "办公室"}).get_json()
    assert moved["parent"] == "办公室"
    tree = api("admin").get(DEPARTMENTS).get_json()["items"]
    names = [d["name"] for d in tree]
    assert names.index("办公室") < names.index("运维组") and "信息中心" in names
    duplicate = api("admin").post(DEPARTMENTS, json={"name": "办公室"})
    assert duplicate.status_code == 422 and "已存在" in duplicate.get_json()["errors"][0]["message"]


def test_new_user_must_change_the_one_time_password_first(api, client):
    body = {"username": "qianwu", "display_name": "钱五", "department": "业务部", "roles": ["流程管理员"]}
    created = api("admin").post(USERS, json=body)
    assert created.status_code == 201, created.get_json()
    account = created.get_json()
    assert account["roles"] == ["process_admin"] and account["must_change_password"] is True
    headers = _sign_in(client, "qianwu", account["password"])
    refused = client.get("/api/v1/work-items?box=todo", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "password_change_required"
    assert client.get("/api/v1/me", headers=headers).get_json()["user"]["must_change_password"] is True
    changed = client.post(
        "/api/v1/me/password",
        json={"old_password": account["password"], "new_password": "my-own-secret-1"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_json()
    assert client.get("/api/v1/work-items?box=todo", headers=headers).status_code == 200


def test_edit_move_roles_disable_enable_and_reset(api, client):
    edited = _patch(
        client,
        api,
        "admin",
        f"{USERS}/lisi",
        {"department": "财务部", "title": "会计", "roles": ["file_admin"], "business_roles": ["出纳"]},
    ).get_json()
    assert (edited["department"], edited["title"], edited["roles"]) == ("财务部", "会计", ["file_admin"])
    assert edited["business_roles"] == ["出纳"]
    assert api("lisi").get("/api/v1/admin/doc-numbers").status_code == 200  # 文件管理员 now
    bad = _patch(client, api, "admin", f"{USERS}/lisi", {"department": "不存在的部门"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "department"
    off = _patch(client, api, "admin", f"{USERS}/lisi", {"active": False})
    assert off.get_json()["active"] is False
    assert api("lisi").get("/api/v1/me").status_code == 401  # the token ended with the account
    assert client.post("/api/v1/auth/token", json={"username": "lisi", "password": PASSWORD}).status_code == 401
    _patch(client, api, "admin", f"{USERS}/lisi", {"active": True})
    reset = api("admin").post(f"{USERS}/lisi/password").get_json()
    headers = _sign_in(client, "lisi", reset["password"])
    assert client.get("/api/v1/work-items", headers=headers).get_json()["code"] == "password_change_required"
    self_off = _patch(client, api, "admin", f"{USERS}/admin", {"active": False})
    assert self_off.status_code == 422


def test_import_preview_names_row_and_column_and_stores_nothing(api, row_counts):
    csv = (HEADER + "zhaoliu,赵六,业务部,业务员,,普通用户,,\nsunqi,孙七,不存在部,,,,,\nzhaoliu,赵六二,,,,,,\n").encode()
    before = row_counts()
    preview = _import(api, csv, dry_run=True)
    assert preview.status_code == 200
    report = preview.get_json()
    assert (report["total"], report["valid"], report["invalid"]) == (3, 1, 2)
    errors = {r["row"]: r["errors"] for r in report["rows"]}
    assert errors[2] == []
    assert errors[3] == [{"column": "部门", "message": "部门“不存在部”不存在"}]
    assert errors[4] == [{"column": "登录名", "message": "登录名“zhaoliu”与第 2 行重复"}]
    refused = _import(api, csv)
    assert refused.status_code == 422
    assert "第 3 行“部门”" in refused.get_json()["error"]
    assert row_counts() == before  # neither the preview nor the refused import stored anything
    done = _import(api, csv, only_valid=True)
    assert done.status_code == 201
    (created,) = done.get_json()["created"]
    assert created["username"] == "zhaoliu" and created["password"]
    listed = api("admin").get(f"{USERS}?q=赵六").get_json()["items"]
    assert [u["username"] for u in listed] == ["zhaoliu"] and listed[0]["must_change_password"]


def test_import_from_excel_and_export(api):
    book = Workbook()
    sheet = book.active
    sheet.append(["登录名", "姓名", "部门", "角色", "初始密码"])
    sheet.append(["zhouba", "周八", "人事部", "文件管理员", "start-here-8"])
    out = io.BytesIO()
    book.save(out)
    done = _import(api, out.getvalue(), name="users.xlsx")
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["created"] == [{"row": 2, "username": "zhouba", "password": "start-here-8"}]
    exported = api("admin").get(f"{USERS}?format=xlsx")
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("登录名", "姓名", "部门")
    assert ("zhouba", "周八", "人事部", None, None, "文件管理员", None, "启用") in rows
    unreadable = _import(api, b"not a spreadsheet", name="users.xlsx")
    assert unreadable.status_code == 422 and unreadable.get_json()["errors"][0]["field"] == "file"
    header = _import(api, "名字,部门\n张,业务部\n".encode(), name="u.csv")
    assert "缺少列：登录名、姓名" in header.get_json()["errors"][0]["message"]


def test_only_system_administrators_keep_the_organisation(api, client):
    api("admin").post(USERS, json={"username": "liuchang", "display_name": "刘畅", "roles": ["process_admin"]})
    reset = api("admin").post(f"{USERS}/liuchang/password", json={"password": "process-admin-1"})
    assert reset.status_code == 200
    headers = _sign_in(client, "liuchang", "process-admin-1")
    client.post(
        "/api/v1/me/password",
        json={"old_password": "process-admin-1", "new_password": "process-admin-2"},
        headers=headers,
    )
    for path in (USERS, DEPARTMENTS):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["error"] == "只有系统管理员可以管理组织与用户"
    assert api("zhangsan").post(USERS, json={"username": "x1", "display_name": "X"}).status_code == 403
    assert client.get("/api/v1/admin/doc-numbers", headers=headers).status_code == 403  # not a 文件管理员
