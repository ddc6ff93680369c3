"""The boxes in a real browser (Debian's chromium driven by Playwright): filters kept in the URL (a filtered
page is a bookmark), a bad filter shown with the choice kept, 批量同意 with its summary, the 「退回」 tag and
the task page's banner after a 会签 不同意, 催办 marks and when 催办 is possible again. Screenshots go to
/tmp/inbox-shots/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support import CONTRACT

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
SHOTS = Path("/tmp/inbox-shots")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "oaflow-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/todo")


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def rows(page) -> list[str]:
    return [text.strip() for text in page.locator("table.inbox td.title-cell").all_inner_texts()]


def test_filters_live_in_the_url(ops, page, live_url):
    ops.start(priority="紧急")
    ops.start(user="lisi")
    ops.start("contract_countersign", **CONTRACT)
    login(page, live_url, "sunli")
    assert len(rows(page)) == 3

    page.select_option("#f-process", "leave")
    page.select_option("#f-priority", "紧急")
    page.select_option("#f-sort", "due")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/inbox/todo?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["process"] == ["leave"] and query["priority"] == ["紧急"] and query["sort"] == ["due"]
    assert rows(page) == ["张三的请假申请（年假 2 天）"]
    shot(page, "filters")

    bookmark = page.url
    page.goto(f"{live_url}/inbox/done")
    page.goto(bookmark)  # the bookmark opens the same filtered list, its choices selected
    assert rows(page) == ["张三的请假申请（年假 2 天）"]
    assert page.input_value("#f-process") == "leave" and page.input_value("#f-priority") == "紧急"

    page.goto(f"{live_url}/inbox/todo?initiator=nobody&priority=紧急&arrived_from=2026-3-1")
    alert = page.inner_text("#filters .flash-error")
    assert "筛选条件有误" in alert and "开始日期“2026-3-1”不是有效的日期" in alert
    assert page.input_value("#f-priority") == "紧急"  # the choice is kept
    assert page.locator("table.inbox").count() == 0
    shot(page, "filters-bad")


def test_batch_approval_with_a_summary(ops, page, live_url):
    first = ops.start()
    second = ops.start(user="lisi")
    ops.start("contract_countersign", **CONTRACT)
    gone = ops.start(user="lisi", reason="家中有事")
    login(page, live_url, "sunli")
    boxes = page.locator("input.batch-id")
    assert boxes.count() == 3  # the contract's node does not allow a batch: no box
    shot(page, "batch-list")

    page.check("input[data-select-all]")
    page.fill("#batch input[name=opinion]", "同意，请安排好工作交接")
    ops.decide("sunli", gone)  # handled in another window meanwhile
    page.click("#batch button[type=submit]")
    page.wait_for_url("**/inbox/todo*")
    success = page.inner_text(".flash-success")
    assert "已批量同意 2 项" in success
    warning = page.inner_text(".flash-warning")
    assert "该待办已处理，无需重复提交" in warning
    shot(page, "batch-summary")
    assert ops.status(first) == "approved" and ops.status(second) == "approved"
    assert rows(page) == ["张三的合同会签：办公设备采购合同"]


def test_the_drafter_sees_who_rejected_in_the_countersign_and_why(ops, page, live_url):
    contract = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", contract, opinion="部门同意")
    ops.decide("chenjing", contract, "reject", "付款条件不符合财务制度，请改为分期")
    login(page, live_url, "zhangsan")
    tag = page.locator("table.inbox .badge.came-back")
    assert tag.inner_text() == "退回"
    shot(page, "returned-list")
    page.click("table.inbox a:has-text('合同会签')")
    page.wait_for_url("**/work-items/*")
    banner = page.inner_text("#returned-note")
    assert "陈静" in banner and "部门会签" in banner and "不同意" in banner
    assert "付款条件不符合财务制度，请改为分期" in banner
    shot(page, "returned-banner")


def test_urged_items_are_marked_and_the_initiator_sees_when_to_urge_again(ops, page, live_url):
    instance_id = ops.start()
    login(page, live_url, "zhangsan")
    page.goto(f"{live_url}/instances/{instance_id}")
    page.click("#op-urge > summary")
    page.fill("#ur-message", "明天就要出发")
    page.click("#op-urge button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "可于" in page.inner_text(".flash-success")
    wait = page.inner_text("#urge-wait")
    again = ops.detail(instance_id, "zhangsan")["urge_again_at"][11:16]
    assert f"可于 {again} 后再次催办" in wait
    assert page.locator("#urge-wait button").is_disabled()
    shot(page, "urge-wait")

    page.click("text=退出")
    page.wait_for_url("**/login")
    login(page, live_url, "sunli")
    assert page.locator("table.inbox .badge.urged").inner_text().startswith("催办")
    page.click("table.inbox a:has-text('请假申请')")
    page.wait_for_url("**/work-items/*")
    assert "已被催办 1 次" in page.inner_text("#urged-note")
    shot(page, "urged-task")
