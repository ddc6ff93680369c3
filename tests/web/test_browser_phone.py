"""The office on a phone (390 × 844 and 360 × 800) in a real browser: the menu folds behind 「菜单」 with
「＋ 发起」 in sight, 同意/不同意 sit in a bar fixed to the bottom of a task page, the application shows its
nodes as a vertical timeline (the diagram on a wide screen), and no page runs off the side of the screen.
Screenshots go to /tmp/phone-shots/ (each asserted to be the page as a phone shows it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_office import sign_in
from support import CONTRACT

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
SHOTS = Path("/tmp/phone-shots")
PHONES = [(390, 844), (360, 800)]


def phone_tab(browser, width: int, height: int):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")


def assert_fits(page, name: str) -> None:
    """Nothing wider than the screen, and the screenshot is the phone's width."""
    scroll_width, inner_width = overflow(page)
    assert scroll_width <= inner_width, f"{name}: {scroll_width} > {inner_width}"
    SHOTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert _png_width(png) == inner_width


def _png_width(png: bytes) -> int:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big")


def topmost_at(page, x: int, y: int) -> str:
    """What the user sees at a point of the screen: the id of the nearest element with one."""
    return page.evaluate(f"(document.elementFromPoint({x}, {y}).closest('[id]') || {{}}).id || ''")


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_the_menu_folds_and_start_stays_in_sight(ops, browser, live_url, width, height):
    ops.start()
    context, page = phone_tab(browser, width, height)
    with context:
        sign_in(page, live_url, "sunli")
        assert page.locator("#mainnav").is_hidden()
        start = page.locator(".phone-nav a.start")
        box = start.bounding_box()
        assert start.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert "张三的请假申请" in page.inner_text("table.inbox")
        assert_fits(page, f"todo-{width}")

        page.click("text=☰ 菜单")
        assert page.locator("#mainnav").is_visible()
        for link in ("待办", "已办", "我发起的", "消息"):
            entry = page.locator(f"#mainnav a:has-text('{link}')").first
            entry_box = entry.bounding_box()
            assert entry.is_visible() and entry_box["x"] + entry_box["width"] <= width, link
        assert_fits(page, f"todo-menu-{width}")
        page.click("#mainnav a:has-text('已办')")
        page.wait_for_url("**/inbox/done")
        assert page.locator("#mainnav").is_hidden()

        page.click(".phone-nav a.start")
        page.wait_for_url("**/start")
        assert_fits(page, f"start-{width}")


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_the_task_page_decides_from_a_bottom_bar(ops, browser, live_url, width, height):
    ops.start("contract_countersign", **CONTRACT)
    context, page = phone_tab(browser, width, height)
    with context:
        sign_in(page, live_url, "sunli")
        page.click("table.inbox a:has-text('合同')")
        page.wait_for_url("**/work-items/*")
        bar = page.locator("#decide .form-actions")
        for where in ("top", "bottom"):
            page.evaluate("scrollTo(0, 0)" if where == "top" else "scrollTo(0, document.body.scrollHeight)")
            box = bar.bounding_box()
            assert bar.is_visible()
            assert box["y"] + box["height"] == pytest.approx(height, abs=1), where  # stuck to the screen's bottom
            assert box["x"] == 0 and box["width"] == width
            for button in ("approve", "reject"):
                button_box = page.locator(f"#decide .form-actions button[value={button}]").bounding_box()
                centre = (button_box["x"] + button_box["width"] / 2, button_box["y"] + button_box["height"] / 2)
                assert topmost_at(page, *centre) == "decide", (where, button)  # not covered by anything
        page.evaluate("scrollTo(0, document.body.scrollHeight)")
        last = page.locator("main > *").last.bounding_box()
        assert last["y"] + last["height"] <= bar.bounding_box()["y"]  # the page's end is not hidden under the bar
        assert_fits(page, f"task-{width}")
        bar.screenshot(path=str(SHOTS / f"task-bar-{width}.png"))

        page.fill("#d-opinion", "同意签订")
        page.click("#decide button[value=approve]")
        page.wait_for_url("**/inbox/todo*")
        assert_fits(page, f"todo-after-{width}")


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_the_application_shows_a_timeline_of_its_nodes(ops, browser, live_url, width, height):
    instance_id = ops.start()
    context, page = phone_tab(browser, width, height)
    with context:
        sign_in(page, live_url, "zhangsan")
        page.goto(f"{live_url}/instances/{instance_id}")
        timeline = page.locator("#timeline")
        assert timeline.is_visible() and page.locator(".diagram").is_hidden()
        steps = timeline.locator(".step")
        assert steps.count() == 2
        assert "发起" in steps.nth(0).inner_text() and "提交申请" in steps.nth(0).inner_text()
        current = steps.nth(1)
        assert "step-current" in current.get_attribute("class") and "待办" in current.inner_text()
        assert_fits(page, f"instance-{width}")


def test_a_wide_screen_keeps_the_diagram_and_the_menu(ops, browser, live_url):
    instance_id = ops.start()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    with context:
        page = context.new_page()
        sign_in(page, live_url, "zhangsan")
        assert page.locator("#mainnav").is_visible() and page.locator(".phone-nav").is_hidden()
        page.goto(f"{live_url}/instances/{instance_id}")
        assert page.locator(".diagram").is_visible() and page.locator("#timeline").is_hidden()
