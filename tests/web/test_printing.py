"""The printable pages: the 审批单 of every process, the 处理单 of a 公文 (laid out by its sheet spec, found by
the node names 签发, 核稿, 会签 …) and the 红头 first page of a 发文. Who may see an application may print it;
anyone else gets 404."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from html import unescape

import pytest
from support import CONTRACT, sign_in

from engine.org import accounts

DOCUMENTS = ("sheet_outgoing.bpmn", "sheet_outgoing_form.json")
INCOMING = ("sheet_incoming.bpmn", "sheet_incoming_form.json")
REQUESTS = ("request_report.bpmn", "sheet_request_form.json")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x10" * 6 for _ in range(2)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


SIGNATURE = "data:image/png;base64," + base64.b64encode(_png()).decode()


def text_of(html: str) -> str:
    """The page's words as a reader sees them: no tags, one space between."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page(client, core, user: str, path: str):
    sign_in(client, core, user)
    return client.get(path)


def times(ops, instance_id: int) -> list[str]:
    """The completion times of the done approval steps as the pages write them (YYYY-MM-DD HH:MM)."""
    done = [w for w in ops.detail(instance_id)["work_items"] if w["kind"] == "approve" and w["status"] == "done"]
    return [w["completed_at"][:16].replace("T", " ") for w in done]


# --- 审批单 -----------------------------------------------------------------------------------------------------


def test_the_approval_form_of_a_finished_leave_holds_every_field_and_step(ops, client, core):
    instance_id = ops.start("leave")
    item = ops.mine("sunli", instance_id)
    ops.complete("sunli", item, opinion="同意，请做好工作交接", signature=SIGNATURE)
    assert ops.status(instance_id) == "approved"

    response = page(client, core, "zhangsan", f"/instances/{instance_id}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    words = text_of(html)
    assert "请假申请审批单" in words
    assert "张三的请假申请（年假 2 天）" in words
    for label, value in [("申请人", "张三"), ("部门", "业务部"), ("编号", str(instance_id)), ("状态", "已通过")]:
        assert f"{label} {value}" in words
    # the form's fields with their titles, in the form's order, dates in words
    assert re.search(
        r"请假类型 年假 .*开始日期 2026年11月23日 .*结束日期 2026年11月24日 .*天数 2 .*事由 回老家探亲", words
    )
    # every step: node, handler, decision, opinion, signature, time
    assert f"部门负责人审批 孙丽 同意 同意，请做好工作交接 {times(ops, instance_id)[0]}" in words
    assert f'src="{SIGNATURE}"' in html
    # a page for paper: the print styles, a 打印 button, no navigation
    assert "print.css" in html and "data-print" in html
    assert "mainnav" not in html


def test_the_approval_form_of_a_contract_holds_the_amount_in_capitals_and_every_step(ops, client, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)  # 120000, 采购类
    ops.decide("sunli", instance_id, opinion="业务需要，同意")
    ops.decide("chenjing", instance_id, opinion="预算已落实")
    ops.decide("zhaolei", instance_id, opinion="条款合规")
    ops.decide("huangwei", instance_id, opinion="同意签订")
    ops.complete(
        "zhouwen", ops.mine("zhouwen", instance_id), opinion="已用印", data={"seal_type": "合同专用章", "copies": 4}
    )
    assert ops.status(instance_id) == "approved"

    words = text_of(page(client, core, "zhangsan", f"/instances/{instance_id}/print").get_data(as_text=True))
    assert "合同会签审批单" in words
    assert "合同金额（元） ¥120,000.00 大写：壹拾贰万元整" in words
    assert "合同名称 办公设备采购合同" in words and "合同类型 采购类" in words
    assert "用印类型 合同专用章" in words and "用印份数 4" in words  # filled in by 用印, titled from its form
    at = times(ops, instance_id)
    steps = [
        ("部门负责人审核", "孙丽", "业务需要，同意"),
        ("部门会签", "陈静", "预算已落实"),
        ("部门会签", "赵磊", "条款合规"),
        ("分管领导审批", "黄伟", "同意签订"),
        ("用印", "周文", "已用印"),
    ]
    for (node, handler, opinion), time in zip(steps, at, strict=True):
        assert f"{node} {handler} 同意 {opinion} {time}" in words


def test_pending_steps_read_to_be_handled(ops, client, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id, opinion="同意")
    words = text_of(page(client, core, "sunli", f"/instances/{instance_id}/print").get_data(as_text=True))
    assert "部门会签 陈静 待办理" in words and "部门会签 赵磊 待办理" in words
    assert "状态 审批中" in words


def test_the_api_serves_the_same_html(ops, api):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    response = api("zhangsan").get(f"/api/v1/instances/{instance_id}/print")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "壹拾贰万元整" in text_of(response.get_data(as_text=True))
    sheet = api("zhangsan").get(f"/api/v1/instances/{instance_id}/sheet")
    assert sheet.status_code == 200 and "合同会签审批单" in text_of(sheet.get_data(as_text=True))  # no sheet spec


@pytest.mark.parametrize("path", ["print", "sheet", "redhead"])
def test_a_stranger_gets_404(ops, client, core, api, path):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    response = page(client, core, "lisi", f"/instances/{instance_id}/{path}")
    assert response.status_code == 404
    assert "办公设备采购合同" not in response.get_data(as_text=True)
    if path != "redhead":
        answer = api("lisi").get(f"/api/v1/instances/{instance_id}/{path}")
        assert answer.status_code == 404 and answer.get_json() == {"error": "申请不存在，或您无权查看"}


def test_money_has_thousands_separators_on_the_instance_and_work_item_pages(ops, client, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    words = text_of(page(client, core, "zhangsan", f"/instances/{instance_id}").get_data(as_text=True))
    assert "合同金额（元） ¥120,000.00" in words
    assert "打印审批单" in words and "打印处理单" not in words and "打印红头" not in words
    item = ops.mine("sunli", instance_id)
    words = text_of(page(client, core, "sunli", f"/work-items/{item}").get_data(as_text=True))
    assert "¥120,000.00" in words


# --- 处理单 -------------------------------------------------------------------------------------------------------


def cell(words: str, label: str, following: str) -> str:
    """The text of a 处理单 cell: what stands between its label and the next label."""
    found = re.search(re.escape(label) + r" (.*?) " + re.escape(following), words)
    assert found, (label, words)
    return found.group(1)


def test_the_outgoing_document_sheet_puts_each_opinion_in_its_row(ops, client, core):
    ops.deploy(*DOCUMENTS)
    instance_id = ops.start(
        "sheet_outgoing", title="关于做好2026年防汛工作的通知", main_to="各区教育局", copy_to="市政府办公室",
        urgency="加急", copies=30,
    )  # fmt: skip
    ops.decide("sunli", instance_id, opinion="部门已核")
    ops.decide("wangfang", instance_id, opinion="文字已核")
    ops.decide("chenjing", instance_id, opinion="财务无意见")
    ops.decide("zhaolei", instance_id, opinion="法务无意见")
    ops.decide("huangwei", instance_id, opinion="同意印发")
    words = text_of(page(client, core, "zhangsan", f"/instances/{instance_id}/sheet").get_data(as_text=True))
    assert words.count("发文稿纸") >= 1
    at = times(ops, instance_id)
    assert cell(words, "签发", "会签") == f"同意印发 黄伟 {at[4]}"
    assert cell(words, "会签", "核稿") == f"财务无意见 陈静 {at[2]} 法务无意见 赵磊 {at[3]}"
    assert cell(words, "核稿", "复核") == f"部门已核 孙丽 {at[0]} 文字已核 王芳 {at[1]}"
    assert cell(words, "复核", "标题") == "王芳：待办理"
    assert "标题 关于做好2026年防汛工作的通知" in words
    assert "主送 各区教育局" in words and "抄送 市政府办公室" in words
    assert "紧急程度 加急" in words and "密级 非密" in words and "印发份数 30" in words
    assert "拟稿单位 业务部 拟稿人 张三" in words
    assert re.search(r"拟稿日期 \d{4}年\d{1,2}月\d{1,2}日 印发日期", words)


def test_the_incoming_document_sheet(ops, client, core):
    ops.deploy(*INCOMING)
    instance_id = ops.start(
        "sheet_incoming", title="关于开展安全检查的通知", from_org="市应急管理局", source_doc_no="市应急发〔2026〕8号",
        received_on="2026-03-02", copies=2,
    )  # fmt: skip
    ops.decide("wangfang", instance_id, opinion="拟请黄副局长阅示，交安全科办理")
    ops.decide("huangwei", instance_id, opinion="请安全科牵头落实")
    ops.decide("chenjing", instance_id, opinion="已部署自查")
    ops.decide("zhaolei", instance_id, opinion="已配合完成")
    ops.decide("zhengqiang", instance_id, opinion="已阅")
    assert ops.status(instance_id) == "approved"
    words = text_of(page(client, core, "huangwei", f"/instances/{instance_id}/sheet").get_data(as_text=True))
    at = times(ops, instance_id)
    assert "收文处理单" in words
    assert "来文机关 市应急管理局 来文字号 市应急发〔2026〕8号" in words
    assert "收文日期 2026年3月2日 份数 2" in words
    assert cell(words, "拟办意见", "批办意见") == f"拟请黄副局长阅示，交安全科办理 王芳 {at[0]}"
    assert cell(words, "批办意见", "承办") == f"请安全科牵头落实 黄伟 {at[1]}"
    assert cell(words, "承办", "传阅") == f"已部署自查 陈静 {at[2]} 已配合完成 赵磊 {at[3]}"
    assert f"传阅 已阅 郑强 {at[4]}" in words


@pytest.mark.parametrize(("kind", "shown", "hidden"), [("请示", "批复", "阅知"), ("报告", "阅知", "批复")])
def test_a_request_shows_the_reply_and_a_report_the_reading(ops, client, core, kind, shown, hidden):
    ops.deploy(*REQUESTS)  # process key request_report: the sheet comes with the key
    instance_id = ops.start("request_report", kind=kind, title="关于增加实验室设备的" + kind)
    ops.decide("sunli", instance_id, opinion="情况属实")
    ops.decide("wangfang", instance_id, opinion="已登记")
    ops.decide("huangwei", instance_id, opinion="同意购置" if kind == "请示" else "已阅，请抓好落实")
    words = text_of(page(client, core, "zhangsan", f"/instances/{instance_id}/sheet").get_data(as_text=True))
    at = times(ops, instance_id)
    assert "请示报告处理单" in words and f"文种 {kind}" in words
    assert f"部门意见 情况属实 孙丽 {at[0]}" in words
    opinion = "同意购置" if kind == "请示" else "已阅，请抓好落实"
    assert f"{shown} {opinion} 黄伟 {at[2]}" in words
    assert f" {hidden} " not in words
    # 办公室登记 is named by no row: its opinion is still on the sheet
    assert f"其他办理意见 已登记 王芳 {at[1]}" in words


def test_the_instance_page_links_the_sheet_and_the_redhead_of_a_document(ops, client, core):
    ops.deploy(*DOCUMENTS, *INCOMING)
    outgoing = ops.start("sheet_outgoing", title="关于表彰先进的决定")
    incoming = ops.start("sheet_incoming", title="来文")
    words = text_of(page(client, core, "zhangsan", f"/instances/{outgoing}").get_data(as_text=True))
    assert "打印审批单" in words and "打印处理单" in words and "打印红头" in words
    words = text_of(page(client, core, "zhangsan", f"/instances/{incoming}").get_data(as_text=True))
    assert "打印处理单" in words and "打印红头" not in words


# --- 红头 ---------------------------------------------------------------------------------------------------------


def test_the_redhead_follows_the_order_of_the_standard(ops, client, core):
    ops.deploy(*DOCUMENTS)
    accounts.set_office_name(core, "示例市教育局")
    instance_id = ops.start("sheet_outgoing", title="关于做好防汛工作的通知", main_to="各区教育局", urgency="特急")
    for user in ("sunli", "wangfang", "chenjing", "zhaolei", "huangwei", "wangfang", "zhouwen"):
        ops.decide(user, instance_id, opinion="同意")
    html = page(client, core, "zhangsan", f"/instances/{instance_id}/redhead").get_data(as_text=True)
    words = text_of(html)
    signed_off = times(ops, instance_id)[4][:10].split("-")
    day = f"{int(signed_off[0])}年{int(signed_off[1])}月{int(signed_off[2])}日"
    order = ["特急", "示例市教育局文件", "（文号待编）", "关于做好防汛工作的通知", "各区教育局：", "（印章）", day]
    body = words[words.index("A4 纸") :]  # after the page title and the toolbar
    positions = [body.index(w) for w in order]
    assert positions == sorted(positions), body
    assert 'class="rh-line"' in html


def test_the_redhead_carries_the_office_name_of_the_setting(ops, client, core):
    ops.deploy(*DOCUMENTS)
    accounts.set_office_name(core, "某某县人民政府办公室")
    instance_id = ops.start("sheet_outgoing", title="通知")
    words = text_of(page(client, core, "zhangsan", f"/instances/{instance_id}/redhead").get_data(as_text=True))
    assert "某某县人民政府办公室文件" in words


def test_a_process_that_is_no_outgoing_document_has_no_redhead(ops, client, core):
    instance_id = ops.start("leave")
    response = page(client, core, "zhangsan", f"/instances/{instance_id}/redhead")
    assert response.status_code == 200
    words = text_of(response.get_data(as_text=True))
    assert "只有发文才有红头" in words and "文件" not in words.replace("发文", "")
