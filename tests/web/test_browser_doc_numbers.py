"""文号管理 in the browser: the counters table, setting the next number (a refusal comes back to the page
with what was typed and the field marked), 作废 with a reason and the reuse choice, 预留; the instance page
shows the 文号."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from support import DATA

from engine.org import users
from engine.process import definitions
from engine.store.tables import utcnow
from engine.time.office_hours import work_calendar
from engine.work import decisions, initiate
from engine.work.views import worklist

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/docno-shots")


def _numbered(core) -> tuple[int, int]:
    """A 发文 through 编号 on the engine: (its id, the office year)."""
    with core.db.write() as conn:
        definitions.deploy(conn, {n: (DATA / n).read_bytes() for n in ("docno_form.json", "docno_flow.bpmn")}, None)
        year = work_calendar(conn).local(utcnow()).year
    instance_id = initiate.start(
        core, "zhangsan", "docno_flow", {"title": "关于春节值班的通知", "doc_prefix": "示例办发"}
    )["id"]
    for user in ("sunli", "wangfang"):
        with core.db.read() as conn:
            from_user = worklist.inbox(conn, _user(conn, user), "todo")["items"]
        decisions.complete(core, user, from_user[0]["id"], {}, "approve", "同意")
    return instance_id, year


def _user(conn, username):
    return users.find_user(conn, username)


def test_the_register_page(browser, live_url, core):
    instance_id, year = _numbered(core)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_url}/login")
        page.fill("#username", "admin")
        page.fill("#password", "oaflow-demo")
        page.click("button[type=submit]")
        page.click("nav.mainnav >> text=文号管理")
        page.wait_for_url(f"{live_url}/admin/doc-numbers")
        row = page.locator("table.doc-counters tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(f"示例办发〔{year}〕2号")

        # 下一个文号 ≤ a number already used: back to the page, the field marked, what was typed kept
        form = page.locator("#doc-next")
        form.locator("[name=prefix]").fill("示例办发")
        form.locator("[name=year]").fill(str(year))
        form.locator("[name=next]").fill("1")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{live_url}/admin/doc-numbers")
        expect(page.locator("#err-next-next")).to_contain_text("已使用过的最大文号 1")
        expect(form.locator("[name=prefix]")).to_have_value("示例办发")
        form.locator("[name=next]").fill("20")
        form.locator("[name=reason]").fill("接续纸质登记簿")
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text(f"示例办发〔{year}〕下一个文号为 20")
        expect(row).to_contain_text(f"示例办发〔{year}〕20号")

        # 作废 needs a reason; the reuse choice is offered
        void = page.locator("#doc-void")
        void.locator("[name=prefix]").fill("示例办发")
        void.locator("[name=year]").fill(str(year))
        void.locator("[name=number]").fill("1")
        void.locator("[name=reason]").fill("文件撤销")
        void.locator("[name=reuse][value='1']").check()
        void.locator("button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text(f"已作废：示例办发〔{year}〕1号")
        expect(row.locator("td").nth(5)).to_have_text("1")

        reserve = page.locator("#doc-reserve")
        reserve.locator("[name=prefix]").fill("示例办发")
        reserve.locator("[name=year]").fill(str(year))
        reserve.locator("[name=count]").fill("2")
        reserve.locator("button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text("已预留")
        expect(row.locator("td").nth(6)).to_contain_text("2（20、21）")
        expect(page.locator(".doc-changes li")).to_have_count(4)
        page.screenshot(path=str(SHOTS / "admin-doc-numbers.png"), full_page=True)

        # the voided number left the instance: its page shows no 文号 any more; a new 编号 takes number 1 again
        page.goto(f"{live_url}/instances/{instance_id}")
        expect(page.locator(".doc-no")).to_have_count(0)
    finally:
        context.close()


def test_the_instance_page_shows_its_doc_no(browser, live_url, core):
    instance_id, year = _numbered(core)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_url}/login")
        page.fill("#username", "zhangsan")
        page.fill("#password", "oaflow-demo")
        page.click("button[type=submit]")
        page.goto(f"{live_url}/instances/{instance_id}")
        expect(page.locator("dd.doc-no")).to_have_text(f"示例办发〔{year}〕1号")
        page.goto(f"{live_url}/inbox/started")
        expect(page.locator(".doc-no")).to_have_text(f"示例办发〔{year}〕1号")
        page.screenshot(path=str(SHOTS / "instance-doc-no.png"), full_page=True)
        # 文号管理 is not in a clerk's navigation
        expect(page.locator("nav.mainnav >> text=文号管理")).to_have_count(0)
    finally:
        context.close()
