"""组织与用户 in the browser: importing users with a bad row (the preview names row and column, nothing is
stored until the administrator confirms the good rows), a 流程管理员 refused from the page, the first sign-in
with an administrator's password forced to 修改密码, and an 账号申请 whose new user must change the password;
importing departments whose preview names the bad row, then a good file."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_office import sign_in
from playwright.sync_api import expect

from engine.org import accounts, users
from engine.work import decisions, initiate, organisation
from engine.work.views import worklist

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/org-shots")
CSV = "登录名,姓名,部门,岗位,角色\nzhaoliu,赵六,业务部,业务员,普通用户\nsunqi,孙七,不存在部,,\n"


def _page(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    return context, context.new_page()


def _shot(page, name: str) -> None:
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one


def _usernames(core) -> set[str]:
    return {u["username"] for u in organisation.list_users(core, "admin")}


def test_import_with_a_bad_row(browser, live_url, core, tmp_path):
    sheet = tmp_path / "users.csv"
    sheet.write_text(CSV, encoding="utf-8")
    context, page = _page(browser)
    try:
        sign_in(page, live_url, "admin")
        page.click("nav.mainnav >> text=组织与用户")
        page.wait_for_url(f"{live_url}/admin/org")
        expect(page.locator("table.org-departments")).to_contain_text("业务部")
        page.set_input_files("#import-file", str(sheet))
        page.click("#import-form button[type=submit]")
        preview = page.locator("#import-preview")
        expect(preview).to_contain_text("共 2 行：1 行无误，1 行有错误。尚未导入任何用户。")
        expect(preview.locator("tr[data-row='3']")).to_contain_text("第 3 行“部门”：部门“不存在部”不存在")
        expect(preview.locator("tr[data-row='2']")).to_contain_text("无误")
        _shot(page, "import-preview.png")
        assert "zhaoliu" not in _usernames(core)  # the preview stored nothing

        page.check("#import-confirm input[name=only_valid]")
        page.click("#import-confirm button[type=submit]")
        page.wait_for_url(f"{live_url}/admin/org")
        expect(page.locator(".flash-success")).to_contain_text("已导入 1 个用户，跳过 1 行。一次性密码：zhaoliu：")
        expect(page.locator("tr[data-user='zhaoliu']")).to_contain_text("待修改初始密码")
        assert {"zhaoliu"} <= _usernames(core) and "sunqi" not in _usernames(core)
        _shot(page, "import-done.png")
    finally:
        context.close()


def test_department_import_with_a_bad_row_then_a_good_file(browser, live_url, core, tmp_path):
    bad = tmp_path / "部门.csv"
    bad.write_text("部门名称,上级部门,负责人\n运维组,信息中心,lisi\n信息中心,示例单位,zhangsan\n培训组,不存在部,\n")
    good = tmp_path / "部门2.csv"
    good.write_text("部门名称,上级部门,负责人\n运维组,信息中心,lisi\n信息中心,示例单位,zhangsan\n业务部,,lisi\n")
    context, page = _page(browser)
    try:
        sign_in(page, live_url, "admin")
        page.goto(f"{live_url}/admin/org")
        page.set_input_files("#department-import-file", str(bad))
        page.click("#department-import-form button[type=submit]")
        preview = page.locator("#department-import-preview")
        expect(preview).to_contain_text("共 3 行：2 行无误，1 行有错误。尚未导入任何部门。")
        expect(preview.locator("tr[data-row='4']")).to_contain_text("第 4 行“上级部门”：上级部门“不存在部”不存在")
        expect(preview.locator("tr[data-row='2']")).to_contain_text("新建")
        _shot(page, "department-import-preview.png")
        assert "运维组" not in {d["name"] for d in organisation.list_departments(core, "admin")}

        page.set_input_files("#department-import-file", str(good))
        page.click("#department-import-form button[type=submit]")
        expect(preview).to_contain_text("共 3 行：3 行无误，0 行有错误。")
        expect(preview.locator("tr[data-row='4']")).to_contain_text("修改：负责人：sunli → lisi")
        page.click("#department-import-confirm button[type=submit]")
        page.wait_for_url(f"{live_url}/admin/org")
        expect(page.locator(".flash-success")).to_contain_text("已导入部门：新建 2 个，修改 1 个，跳过 0 行")
        expect(page.locator("tr[data-department='运维组']")).to_contain_text("李四")
        _shot(page, "department-import-done.png")
    finally:
        context.close()
    tree = {d["name"]: d for d in organisation.list_departments(core, "admin")}
    assert tree["运维组"]["parent"] == "信息中心" and tree["业务部"]["leader"] == "lisi"


def test_a_process_administrator_is_refused_from_the_organisation(browser, live_url, core):
    organisation.update_user(core, "admin", "sunli", {"roles": ["process_admin"]})
    context, page = _page(browser)
    try:
        sign_in(page, live_url, "sunli")
        nav = page.locator("nav.mainnav")
        expect(nav).to_contain_text("流程管理")
        expect(nav).not_to_contain_text("组织与用户")
        expect(nav).not_to_contain_text("文号管理")
        response = page.goto(f"{live_url}/admin/org")
        assert response.status == 403
        expect(page.locator("main")).to_contain_text("只有系统管理员可以管理组织与用户")
        _shot(page, "process-admin-refused.png")
        assert page.goto(f"{live_url}/admin/processes").status == 200
        assert page.goto(f"{live_url}/admin/doc-numbers").status == 403
    finally:
        context.close()


def _change_first_password(page, live_url, username: str, password: str) -> None:
    page.goto(f"{live_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/account/password")
    expect(page.locator(".first-password")).to_contain_text("您正在使用管理员设置的初始密码")
    page.goto(f"{live_url}/inbox/todo")  # anything else leads back here
    page.wait_for_url(f"{live_url}/account/password")
    _shot(page, f"first-password-{username}.png")
    page.fill("#old_password", password)
    page.fill("#new_password", "my-own-secret-9")
    page.fill("#confirm", "my-own-secret-9")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/inbox/todo")
    expect(page.locator(".flash-success")).to_contain_text("密码已修改")


def test_a_reset_password_is_changed_at_the_first_sign_in(browser, live_url, core):
    context, page = _page(browser)
    try:
        sign_in(page, live_url, "admin")
        page.goto(f"{live_url}/admin/org?q=lisi")
        page.click("tr[data-user='lisi'] >> text=重置密码")
        page.wait_for_url(f"{live_url}/admin/org")
        said = page.locator(".flash-success").inner_text()
        password = said.split("一次性密码：")[1].split("（")[0]
        page.click("text=退出")
        page.wait_for_url("**/login")
        _change_first_password(page, live_url, "lisi", password)
        with core.db.read() as conn:
            assert not users.find_user(conn, "lisi").must_change_password
    finally:
        context.close()


def test_an_account_request_whose_new_user_must_change_the_password(browser, live_url, core):
    data = {
        "request_type": "开通",
        "full_name": "王五",
        "username": "wangwu",
        "department": "业务部",
        "position": "业务员",
        "mobile": "13800138000",
        "role": "普通用户",
        "effective_date": "2026-12-07",
    }
    instance_id = initiate.start(core, "zhangsan", "account_request", data)["id"]
    for approver in ("sunli", "admin"):
        with core.db.read() as conn:
            todo = worklist.inbox(conn, users.find_user(conn, approver), "todo")["items"]
        (item,) = [i for i in todo if i["instance_id"] == instance_id]
        decisions.complete(core, approver, item["id"], {}, "approve", "同意")
    context, page = _page(browser)
    try:
        sign_in(page, live_url, "zhangsan")  # the applicant reads the one-time password in 消息
        page.goto(f"{live_url}/notifications")
        told = page.locator("main tr", has_text="账号申请已办结").first
        expect(told).to_contain_text("账号 wangwu（王五）已开通")
        password = told.inner_text().split("一次性密码：")[1].split()[0]
        _shot(page, "account-request-message.png")
        page.click("text=退出")
        page.wait_for_url("**/login")
        _change_first_password(page, live_url, "wangwu", password)
        expect(page.locator("header")).to_contain_text("王五")
    finally:
        context.close()
    assert accounts.password_change_pending(organisation_user(core, "wangwu")) is False


def organisation_user(core, username):
    with core.db.read() as conn:
        return users.find_user(conn, username)
