"""附件 in a real browser: 张三 starts a 合同会签 with its contract text (a wrong file first), and 孙丽, who
reviews it, downloads the text from her work item."""

from __future__ import annotations

from pathlib import Path

import pytest
from attachment_files import EXE, docx
from browser_office import sign_in
from support import CONTRACT

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/files-shots")


def _fill_contract(page) -> None:
    for name in ("contract_name", "counterparty", "payment_terms", "main_terms"):
        page.fill(f"[name={name}]", CONTRACT[name])
    page.fill("[name=amount]", str(CONTRACT["amount"]))
    page.select_option("[name=contract_type]", CONTRACT["contract_type"])


def test_a_contract_text_uploaded_at_start_is_downloaded_by_the_approver(browser, live_url, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    wrong, text = tmp_path / "合同.pdf", tmp_path / "办公设备采购合同.docx"
    wrong.write_bytes(EXE)
    text.write_bytes(docx("供货 20 台电脑"))
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, live_url, "zhangsan")
        page.goto(f"{live_url}/start/contract_countersign")
        _fill_contract(page)
        page.set_input_files("[name=contract_file]", str(wrong))  # an .exe renamed .pdf
        page.click("button:has-text('提交')")
        page.wait_for_url("**/start/contract_countersign")
        assert "文件内容不是 pdf 格式" in page.inner_text("#err-contract_file")
        assert page.input_value("[name=contract_name]") == CONTRACT["contract_name"]  # what he typed is kept
        page.screenshot(path=str(SHOTS / "start-refused.png"), full_page=True)
        page.set_input_files("[name=contract_file]", str(text))
        page.click("button:has-text('提交')")
        page.wait_for_url("**/instances/*")
        attachments = page.locator("section.attachments")
        assert "合同文本" in attachments.inner_text() and "办公设备采购合同.docx" in attachments.inner_text()
        page.click("text=退出")
        page.wait_for_url("**/login")

        sign_in(page, live_url, "sunli")
        page.click("a:has-text('办公设备采购合同')")
        page.wait_for_url("**/work-items/*")
        link = page.locator("section.attachments a:has-text('办公设备采购合同.docx')")
        assert "第 1 版" in page.locator("section.attachments").inner_text()
        page.screenshot(path=str(SHOTS / "approver-work-item.png"), full_page=True)
        with page.expect_download() as caught:
            link.click()
        download = caught.value
        assert download.suggested_filename == "办公设备采购合同.docx"
        assert Path(download.path()).read_bytes() == docx("供货 20 台电脑")
    finally:
        context.close()
