"""The printable pages in a real browser (Debian's chromium), as paper: the 审批单 of a finished 合同会签 and
the 处理单 and 红头 of a 发文, with the print media emulated (A4 print CSS: no toolbar, a bordered sheet).
Screenshots go to /tmp/print-shots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_office import sign_in
from support import CONTRACT

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/print-shots")
A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 dpi


def _finished_contract(ops) -> int:
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id, opinion="业务需要，同意")
    ops.decide("chenjing", instance_id, opinion="预算已落实")
    ops.decide("zhaolei", instance_id, opinion="条款合规")
    ops.decide("huangwei", instance_id, opinion="同意签订")
    ops.complete("zhouwen", ops.mine("zhouwen", instance_id), opinion="已用印", data={"seal_type": "公章", "copies": 2})
    return instance_id


def _signed_off_document(ops) -> int:
    ops.deploy("sheet_outgoing.bpmn", "sheet_outgoing_form.json")
    instance_id = ops.start(
        "sheet_outgoing", title="关于做好2026年防汛工作的通知", main_to="各区教育局", copy_to="市政府办公室",
        urgency="加急", copies=30,
    )  # fmt: skip
    for user, opinion in [
        ("sunli", "部门已核"),
        ("wangfang", "文字已核，同意"),
        ("chenjing", "财务无意见"),
        ("zhaolei", "法务无意见"),
        ("huangwei", "同意印发"),
    ]:
        ops.decide(user, instance_id, opinion=opinion)
    return instance_id


def test_print_view_and_sheet_as_paper(browser, live_url, ops):
    SHOTS.mkdir(exist_ok=True)
    contract = _finished_contract(ops)
    document = _signed_off_document(ops)
    context = browser.new_context(viewport=A4, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_url, "zhangsan")
        page.goto(f"{live_url}/instances/{contract}")
        link = page.locator("a:has-text('打印审批单')")
        assert link.get_attribute("target") == "_blank"
        page.goto(live_url + link.get_attribute("href"))

        # On screen: the toolbar with 打印, which opens the print dialog.
        page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
        page.click("[data-print]")
        assert page.evaluate("window.printed") == 1
        page.screenshot(path=str(SHOTS / "approval-screen.png"), full_page=True)

        # As paper: no toolbar, the sheet fills the page.
        page.emulate_media(media="print")
        assert not page.locator(".print-toolbar").is_visible()
        assert page.locator("table.steps tbody tr").count() == 5
        body = page.inner_text(".sheet")
        for expected in ("合同会签审批单", "¥120,000.00", "壹拾贰万元整", "预算已落实", "陈静", "同意签订"):
            assert expected in body, expected
        sheet_box = page.locator(".sheet").bounding_box()
        assert sheet_box["x"] < 5 and sheet_box["width"] > A4["width"] - 10  # margins come from @page now
        page.screenshot(path=str(SHOTS / "approval-print.png"), full_page=True)
        pdf = page.pdf(path=str(SHOTS / "approval.pdf"), prefer_css_page_size=True)  # Chromium's own print
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # the whole 审批单 on one A4 sheet

        page.emulate_media(media="screen")
        page.goto(f"{live_url}/instances/{document}")
        page.goto(live_url + page.locator("a:has-text('打印处理单')").get_attribute("href"))
        page.emulate_media(media="print")
        assert not page.locator(".print-toolbar").is_visible()
        rows = page.locator("table.doc tr")
        assert rows.nth(2).inner_text().startswith("签发")
        assert "同意印发" in rows.nth(2).inner_text() and "黄伟" in rows.nth(2).inner_text()
        borders = page.eval_on_selector("table.doc td", "td => getComputedStyle(td).borderTopStyle")
        assert borders == "solid"
        page.screenshot(path=str(SHOTS / "sheet-print.png"), full_page=True)
        page.pdf(path=str(SHOTS / "sheet.pdf"), prefer_css_page_size=True)

        page.emulate_media(media="screen")
        page.goto(f"{live_url}/instances/{document}/redhead")
        page.emulate_media(media="print")
        color = page.eval_on_selector(".rh-org", "e => getComputedStyle(e).color")
        assert color == "rgb(212, 0, 0)"  # the 发文机关标志 is red
        assert page.inner_text(".rh-org") == "示例市教育局文件"
        page.screenshot(path=str(SHOTS / "redhead-print.png"), full_page=True)
        page.pdf(path=str(SHOTS / "redhead.pdf"), prefer_css_page_size=True)
    finally:
        context.close()
