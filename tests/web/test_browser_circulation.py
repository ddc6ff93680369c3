"""传阅 in a real browser: the 批办 leader circulates a 收文 to two people, one reads it and writes a 批示, and
the leader sees each reader's state on the application's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_office import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/circulation-shots")


def _logout(page) -> None:
    page.click("text=退出")
    page.wait_for_url("**/login")


def test_circulate_read_with_a_comment_and_see_the_states(browser, live_url, ops, backend):
    ops.deploy("circulation_form.json", "circulation_flow.bpmn")
    doc = ops.start("circulation_flow", user="zhouwen", subject="关于做好防汛工作的通知")
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        # 郑强 (批办) circulates the document to 王芳 and 刘洋 from the application's page.
        sign_in(page, live_url, "zhengqiang")
        page.goto(f"{live_url}/instances/{doc}")
        page.click("#op-circulate summary")
        page.check("#ci-users input[value=wangfang]")
        page.check("#ci-users input[value=liuyang]")
        page.fill("#ci-message", "请阅示")
        page.click("#op-circulate button[type=submit]")
        page.wait_for_url(f"**/instances/{doc}*")
        expect(page.locator(".flash-success")).to_contain_text("已传阅：王芳、刘洋")
        expect(page.locator("#circulation")).to_contain_text("2 人未阅")
        _logout(page)

        # 刘洋 finds it in 待阅 (with a badge), opens it and writes a 批示.
        sign_in(page, live_url, "liuyang")
        expect(page.locator("nav.mainnav a:has-text('待阅') .count")).to_have_text("1")
        page.click("nav.mainnav a:has-text('待阅')")
        assert "未读" in page.inner_text("main")
        page.click("a:has-text('关于做好防汛工作的通知')")
        expect(page.locator("#reading")).to_contain_text("请阅示")
        page.fill("#rd-comment", "同意，请人事部配合落实值班安排")
        page.click("#reading button[value=comment]")
        expect(page.locator(".flash-success")).to_contain_text("已批示")
        expect(page.locator("#my-comments")).to_contain_text("同意，请人事部配合落实值班安排")
        assert page.locator("nav.mainnav a:has-text('待阅') .count").count() == 0
        _logout(page)

        # 郑强 sees who has read it and what they wrote; 王芳 is still 未读 and may be recalled.
        sign_in(page, live_url, "zhengqiang")
        page.goto(f"{live_url}/instances/{doc}")
        rows = page.locator("#circulation tr.reader")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("王芳")
        expect(rows.nth(0)).to_contain_text("未读")
        expect(rows.nth(1)).to_contain_text("刘洋")
        expect(rows.nth(1)).to_contain_text("已批示")
        expect(rows.nth(1)).to_contain_text("同意，请人事部配合落实值班安排")
        expect(page.locator("#circulation")).to_contain_text("1 人未阅")
        assert page.locator("#op-recall_readers input[value=wangfang]").count() == 1
        assert page.locator("#op-recall_readers input[value=liuyang]").count() == 0
        history = page.inner_text("table.history")
        assert "批示" in history and "同意，请人事部配合落实值班安排" in history
        page.locator("#circulation").screenshot(path=str(SHOTS / f"circulation-{backend}.png"))
    finally:
        context.close()
