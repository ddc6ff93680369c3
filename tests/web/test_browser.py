"""The whole 请假 flow in a real browser (Debian's chromium driven by Playwright), as three users."""

from __future__ import annotations

import pytest
from browser_office import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _logout(page) -> None:
    page.click("text=退出")
    page.wait_for_url("**/login")


def test_leave_flow_in_the_browser(browser, live_url, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    page = context.new_page()
    try:
        # 张三 applies for a day and a half of 年假; a mistake first: the end date before the start date.
        sign_in(page, live_url, "zhangsan")
        page.click("a[href='/start']")
        page.click("text=请假申请")
        page.select_option("[name=leave_type]", "年假")
        page.fill("[name=start_date]", "2026-11-24")
        page.fill("[name=end_date]", "2026-11-23")
        # 天数 is computed by the server, shown read-only: the preview says what is wrong as he types.
        assert page.get_attribute("#f-days", "readonly") is not None
        expect(page.locator("[data-computed-note=days]")).to_contain_text("结束日期不能早于开始日期")
        page.fill("[name=reason]", "回老家探亲")
        page.click("button:has-text('提交')")
        assert "结束日期不能早于开始日期" in page.inner_text("#err-end_date")
        page.fill("[name=end_date]", "2026-11-25")
        page.select_option("[name=end_half]", "上午")
        expect(page.locator("#f-days")).to_have_value("1.5")  # Tuesday to Wednesday noon
        page.click("button:has-text('提交')")
        page.wait_for_url("**/instances/*")
        assert "审批中" in page.inner_text("body")
        assert "部门负责人审批" in page.inner_text("body")
        assert "年假 1.5 天" in page.inner_text("body")
        _logout(page)

        # 孙丽, his department leader, finds it in 待办 and approves with an opinion.
        sign_in(page, live_url, "sunli")
        page.click("a:has-text('张三的请假申请')")
        page.fill("[name=opinion]", "同意，注意工作交接")
        page.click("button[value=approve]")
        page.wait_for_url("**/inbox/todo*")  # the form's #decide fragment survives the redirect
        assert "已同意" in page.inner_text("body")
        _logout(page)

        # 张三 sees 已通过 with the full 流转记录.
        sign_in(page, live_url, "zhangsan")
        _menu(page, "我发起的")
        page.click("a:has-text('张三的请假申请')")
        body = page.inner_text("body")
        assert "已通过" in body
        for expected in ("发起申请", "孙丽", "同意，注意工作交接", "知会", "流程结束"):
            assert expected in body, expected
        assert page.locator("svg[aria-label]").count() == 1  # the process diagram
        page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
        _logout(page)

        # 刘洋 (人事部) has the 知会 copy, unread until he opens it.
        sign_in(page, live_url, "liuyang")
        _menu(page, "抄送我的")
        assert "未读" in page.inner_text("main")
        page.click("a:has-text('张三的请假申请')")
        _menu(page, "抄送我的")
        assert "已读" in page.inner_text("main")
    finally:
        context.close()


def _menu(page, label: str) -> None:
    """Follow a navigation link; on a phone the navigation is folded behind 「☰ 菜单」 first."""
    menu = page.locator("text=☰ 菜单")
    if menu.is_visible():
        menu.click()
    page.click(f"nav >> text={label}")
