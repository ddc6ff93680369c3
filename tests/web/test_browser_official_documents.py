"""公文 in a real browser, as the people of the demo office handle it: 张三 drafts a 发文 with its 正文, 孙丽 and
王芳 check it, 郑强 signs, 王芳 rechecks, 周文 numbers it (the 发文字号 appears only now) and seals it, and the
分发 puts a 收文 in 业务部's 待办 — which 孙丽 signs for and registers, 王芳 checks and proposes, 郑强 assigns,
孙丽 handles and answers, 王芳 circulates and 周文 files, the 文号 travelling with it as 来文字号."""

from __future__ import annotations

from pathlib import Path

import browser_office
import pytest
from attachment_files import docx

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/flows-shots")
TITLE = "关于做好国庆节假期值班工作的通知"
DOC_NO = "示例办发〔2026〕1号"


class Office(browser_office.Office):
    """The 公文 walk adds screenshots."""

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def office(browser, live_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield Office(context.new_page(), live_url)
    context.close()


def test_an_outgoing_document_reaches_its_unit_and_is_filed_there(office, tmp_path):
    page = office.page
    body = tmp_path / "国庆值班通知.docx"
    body.write_bytes(docx("国庆值班安排"))

    # 拟稿: the form asks for 密级 and 紧急程度 itself (no separate 紧急程度 choice).
    office.login("zhangsan")
    page.goto(f"{office.base}/start/outgoing_document")
    assert page.locator("[name=priority]").count() == 0
    page.fill("[name=title]", TITLE)
    page.select_option("[name=doc_type]", "通知")
    page.fill("[name=main_to]", "各部门")
    page.select_option("[name=urgency]", "加急")
    page.select_option("[name=doc_prefix]", "示例办发")
    page.check("[name=distribute_to][value=业务部]")
    page.set_input_files("[name=body]", str(body))
    page.click("button:has-text('提交')")
    page.wait_for_url("**/instances/*")
    outgoing_url = page.url
    assert "发文字号" not in page.inner_text("main")  # a draft has no number
    office.shot("1-drafted")

    office.login("sunli")
    office.open_task(TITLE, "部门核稿")
    office.approve("核稿无误")
    office.login("wangfang")
    office.open_task(TITLE, "办公室核稿")
    office.approve("文字已规范")
    office.login("zhengqiang")
    office.open_task(TITLE, "签发")
    office.approve("同意印发")
    office.login("wangfang")
    office.open_task(TITLE, "复核")
    office.approve("已复核", recheck_result="无实质性修改")

    # 编号: the number is given when the 文书 submits, and shows on the document.
    office.login("zhouwen")
    office.open_task(f"发文：{TITLE}", "编号")
    office.approve("已登记编号", doc_date="2026-09-20")
    page.goto(outgoing_url)
    assert page.inner_text(".doc-no") == DOC_NO
    office.shot("2-numbered")
    office.open_task(f"发文：{TITLE}", "套红/用印")
    office.approve("已套红用印", seal="单位公章")
    page.goto(outgoing_url)
    assert "发出消息“公文分发”" in page.inner_text("main")
    office.shot("3-distributed")

    # The 收文 at 业务部: 来文字号 is the 发文字号, the 正文 came along.
    office.login("sunli")
    office.open_task(f"收文：{TITLE}", "签收")
    text = page.inner_text("main")
    assert DOC_NO in text and "国庆值班通知.docx" in text
    office.shot("4-received")
    office.approve("已签收")
    office.open_task(f"收文：{TITLE}", "登记")
    office.approve(None, copies="1", received_date="2026-09-21")

    office.login("wangfang")
    office.open_task(f"收文：{TITLE}", "初审")
    office.approve("符合要求", check_result="符合要求")
    office.open_task(f"收文：{TITLE}", "拟办")
    office.approve("拟请业务部主办")
    office.login("zhengqiang")
    office.open_task(f"收文：{TITLE}", "批办")
    office.approve("请业务部落实", lead_dept="业务部")
    office.login("sunli")
    office.open_task(f"收文：{TITLE}", "主办")
    office.approve("已落实", handling="已排定国庆值班人员")
    office.login("wangfang")
    office.open_task(f"收文：{TITLE}", "传阅")
    office.approve("已传阅")
    office.login("sunli")
    office.open_task(f"收文：{TITLE}", "答复")
    office.approve(None, reply_text="业务部值班表已报办公室")
    office.login("zhouwen")
    office.open_task(f"收文：{TITLE}", "归档")
    office.approve("已归档")

    page.goto(f"{office.base}/inbox/started")
    page.click(f"table.inbox a:has-text('收文：{TITLE}')")
    page.wait_for_url("**/instances/*")
    text = page.inner_text("main")
    assert "已通过" in text and DOC_NO in text
    office.shot("5-filed")
