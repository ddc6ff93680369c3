"""流程监控, the 日志 and the top bar's search in Chromium: an administrator finds a stuck application,
跳转s it (a missing reason comes back with the field marked) and 终止s it, both in the 流转记录 as the
administrator's action; the 登录日志 shows a failed attempt with its address and exports to Excel; the
操作日志 lists the approvals; anyone searches from the top bar and opens what they find."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from support import LEAVE, leave_range

from engine.work import initiate

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/monitor-shots")


def _leave(core, user: str = "zhangsan", days: int = 5) -> dict:
    return initiate.start(core, user, "leave", {**LEAVE, **leave_range(days)})


def _page(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    return context, context.new_page()


def _login(page, base: str, username: str, password: str = "oaflow-demo") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_monitor_jump_and_terminate(browser, live_url, core):
    started = _leave(core)
    _leave(core, days=2)
    context, page = _page(browser)
    try:
        _login(page, live_url, "admin")
        page.click("nav.mainnav >> text=流程监控")
        page.wait_for_url(f"{live_url}/admin/monitor")
        expect(page.locator("table.instances tbody tr")).to_have_count(2)
        page.fill("#f-handler", "sunli")
        page.fill("#f-q", "张三的请假申请（年假 5")
        page.click("#monitor-filters button[type=submit]")
        rows = page.locator("table.instances tbody tr")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("部门负责人审批")
        expect(rows).to_contain_text("孙丽")
        page.screenshot(path=str(SHOTS / "monitor-list.png"), full_page=True)
        rows.locator("a").click()
        page.wait_for_url(f"{live_url}/admin/monitor/{started['id']}")
        expect(page.locator(".diagram svg")).to_have_count(1)

        # 跳转 without a reason: back with the choice kept and the reason marked
        page.select_option("#jump-node", "Task_vp")
        page.locator("#jump-reason").evaluate("e => e.removeAttribute('required')")
        page.click("#jump-form button[type=submit]")
        expect(page.locator("#err-jump-reason")).to_have_text("跳转必须填写原因")
        expect(page.locator("#jump-node")).to_have_value("Task_vp")
        page.fill("#jump-reason", "部门负责人出差两周")
        page.click("#jump-form button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("已跳转")
        history = page.locator("table.history")
        expect(history.locator("tr.event-jumped")).to_contain_text("部门负责人出差两周")
        expect(history.locator("tr.event-jumped")).to_contain_text("管理员跳转")
        expect(history.locator("tr.event-skipped")).to_contain_text("部门负责人审批")
        expect(page.locator(".monitor-ops form.reassign")).to_contain_text("分管领导审批")
        page.screenshot(path=str(SHOTS / "monitor-jumped.png"), full_page=True)

        page.fill("#terminate-reason", "申请人已离职")
        page.click("#terminate-form button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("已终止申请")
        expect(page.locator("h1 .badge")).to_have_text("已终止")
        expect(history.locator("tr.event-terminated")).to_contain_text("申请人已离职")
        expect(page.locator("#jump-form")).to_have_count(0)
        page.screenshot(path=str(SHOTS / "monitor-terminated.png"), full_page=True)

        page.goto(f"{live_url}/admin/monitor?status=terminated")
        expect(page.locator("table.instances tbody tr")).to_have_count(1)
    finally:
        context.close()


def test_log_pages(browser, live_url, core):
    started = _leave(core, days=2)
    context, page = _page(browser)
    try:
        _login(page, live_url, "lisi", "not-the-password")
        expect(page.locator(".flash-error, .error, [role=alert]").first).to_be_visible()
        _login(page, live_url, "admin")
        page.goto(f"{live_url}/admin/monitor")
        page.click("p.tabs >> text=登录日志")
        page.wait_for_url(f"{live_url}/admin/logs/login")
        failed = page.locator("table.logs tr.failed")
        expect(failed).to_have_count(1)
        expect(failed).to_contain_text("lisi")
        expect(failed).to_contain_text("127.0.0.1")
        expect(failed).to_contain_text("用户名或密码错误")
        page.select_option("#f-result", "failure")
        page.click("#log-filters button[type=submit] >> text=查询")
        expect(page.locator("table.logs tbody tr")).to_have_count(1)
        with page.expect_download() as download:
            page.click("#log-filters button[value=xlsx]")
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["lisi"]

        # the retention: shorter than 180 days is refused, the typed value kept
        page.fill("#retention-days", "90")
        page.click("#retention-form button[type=submit]")
        expect(page.locator("#retention-form .field-error")).to_contain_text("180")
        expect(page.locator("#retention-days")).to_have_value("90")
        page.fill("#retention-days", "365")
        page.click("#retention-form button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("登录日志保留 365 天")
        page.screenshot(path=str(SHOTS / "login-log.png"), full_page=True)

        page.click("p.tabs >> text=操作日志")
        page.wait_for_url(f"{live_url}/admin/logs/operations")
        expect(page.locator("table.logs tr.event-started")).to_contain_text(started["title"])
        page.select_option("#f-action", "started")
        page.fill("#f-user", "zhangsan")
        page.click("#log-filters button[type=submit] >> text=查询")
        expect(page.locator("table.logs tbody tr")).to_have_count(1)
        page.screenshot(path=str(SHOTS / "operation-log.png"), full_page=True)
    finally:
        context.close()


def test_search_from_the_top_bar(browser, live_url, core):
    mine = _leave(core, days=2)
    _leave(core, "lisi", days=2)
    context, page = _page(browser)
    try:
        _login(page, live_url, "zhangsan")
        page.wait_for_url(f"{live_url}/inbox/todo")
        page.fill("#topbar-q", "张三的请假")
        page.press("#topbar-q", "Enter")
        page.wait_for_url("**/search?q=*")
        rows = page.locator("table.instances tbody tr")
        expect(rows).to_have_count(1)
        expect(page.locator("#f-q")).to_have_value("张三的请假")
        page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
        page.fill("#topbar-q", "李四的请假")  # someone else's: not found for zhangsan
        page.press("#topbar-q", "Enter")
        expect(page.locator("p.empty")).to_have_text("没有找到符合条件的申请")
        page.fill("#f-q", "张三")  # 发起人 by name
        page.click("#search-filters button[type=submit]")
        rows.locator("a").click()
        page.wait_for_url(f"{live_url}/instances/{mine['id']}")
    finally:
        context.close()
