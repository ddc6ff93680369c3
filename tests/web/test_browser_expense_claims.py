"""费用报销 in a real browser (Debian's chromium): 张三 fills in a claim with three lines (adding rows, removing
a wrong one), sees 合计 computed and his department's budget left, uploads a receipt scan and submits; the
approvers and the cashier act; the approved claim's 审批单 prints on A4 with the lines, 合计, 大写 and every
approver. Screenshots go to /tmp/print-shots/."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from attachment_files import PNG
from browser_office import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/print-shots")
A4 = {"width": 794, "height": 1123}
YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year


def _row(page, index: int, day: str, summary: str, amount: str, receipts: str) -> None:
    page.fill(f"[name=lines-{index}-date]", day)
    page.fill(f"[name=lines-{index}-summary]", summary)
    page.fill(f"[name=lines-{index}-amount]", amount)
    page.fill(f"[name=lines-{index}-receipts]", receipts)


def test_a_claim_with_three_lines_and_a_receipt_prints_as_paper(browser, live_url, api, ops, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    admin = api("admin")
    budget = {"department": "业务部", "category": "差旅费", "year": YEAR, "amount": 20000}
    assert admin.client.put("/api/v1/budgets", json=budget, headers=admin.headers).status_code == 200
    scan = tmp_path / "火车票.png"
    scan.write_bytes(PNG)
    context = browser.new_context(viewport=A4, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_url, "zhangsan")
        page.goto(f"{live_url}/start/expense_claim")
        assert page.input_value("[name=claimant]") == "张三" and page.input_value("[name=department]") == "业务部"
        assert page.inner_text("[data-budget=差旅费]") == "¥20,000.00"
        page.select_option("[name=expense_type]", "差旅费")
        _row(page, 0, f"{YEAR}-03-02", "北京往返高铁", "1106.5", "2")
        page.click("[data-add-row=lines]")
        _row(page, 1, f"{YEAR}-03-03", "写错的一行", "1", "1")
        page.click("[data-add-row=lines]")
        _row(page, 2, f"{YEAR}-03-03", "住宿两晚", "860", "1")
        page.locator("table.lines tbody tr").nth(1).locator("[data-remove-row]").click()
        page.click("[data-add-row=lines]")
        _row(page, 3, f"{YEAR}-03-04", "市内交通", "93.5", "5")
        assert page.locator("table.lines tbody tr").count() == 3
        expect(page.locator("[data-computed=total]")).to_have_value("2060")  # the server's preview of 合计
        page.set_input_files("[name=receipts_scan]", str(scan))
        page.click("form[data-preview-url] button[type=submit]")
        page.wait_for_url("**/instances/*")
        instance_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        body = page.inner_text("main")
        for expected in ("北京往返高铁", "住宿两晚", "市内交通", "¥2,060.00", "火车票.png"):
            assert expected in body, expected
        assert "写错的一行" not in body

        ops.decide("sunli", instance_id, opinion="情况属实")
        ops.decide("qianhui", instance_id, opinion="票据齐全")
        ops.complete(
            "fengyan", ops.mine("fengyan", instance_id), opinion="已转账",
            data={"pay_method": "银行转账", "pay_date": f"{YEAR}-03-10"},
        )  # fmt: skip
        assert ops.status(instance_id) == "approved"

        page.goto(f"{live_url}/instances/{instance_id}")
        page.goto(live_url + page.locator("a:has-text('打印审批单')").get_attribute("href"))
        page.emulate_media(media="print")
        sheet = page.inner_text(".sheet")
        for expected in (
            "费用报销审批单", "北京往返高铁", "1,106.50", "住宿两晚", "¥2,060.00", "贰仟零陆拾元整",
            "孙丽", "情况属实", "钱慧", "票据齐全", "冯燕", "已转账", "银行转账", "火车票.png",
        ):  # fmt: skip
            assert expected in sheet, expected
        assert page.locator(".field-lines table.lines tbody tr").count() == 3
        assert page.locator("table.steps tbody tr").count() == 3
        page.screenshot(path=str(SHOTS / "expense-claim-print.png"), full_page=True)
        pdf = page.pdf(path=str(SHOTS / "expense-claim.pdf"), prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()
