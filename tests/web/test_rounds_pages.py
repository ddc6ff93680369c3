"""The pages after a 重新提交: the approver's task page marks the fields the drafter changed, with their
earlier values, and the 流转记录 labels its rounds (第 1 轮 / 第 2 轮)."""

from __future__ import annotations

import re
from html import unescape

from support import CONTRACT, sign_in


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def resubmitted(ops) -> int:
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id)
    ops.decide("chenjing", instance_id, "reject", "付款条件不符合财务制度")
    item_id = ops.mine("zhangsan", instance_id)
    ops.complete("zhangsan", item_id, opinion=None, data={**CONTRACT, "amount": 150000, "payment_terms": "分两期支付"})
    return instance_id


def test_the_approver_sees_what_the_resubmission_changed(ops, client, core):
    instance_id = resubmitted(ops)
    sign_in(client, core, "sunli")
    html = client.get(f"/work-items/{ops.mine('sunli', instance_id)}").get_data(as_text=True)

    marked = re.findall(r'<div class="[^"]*changed"[^>]*data-field="(\w+)"', html)
    assert marked == ["amount", "payment_terms"]
    words = text_of(html)
    assert "申请人重新提交时修改了 2 项内容，已标出修改前的值" in words
    assert "合同金额（元） 已修改 ¥150,000.00 修改前：¥120,000.00" in words
    assert "付款方式 已修改 分两期支付 修改前：验收后付清" in words
    assert "合同名称 办公设备采购合同" in words  # unchanged fields are shown unmarked
    assert "第 1 轮" in words and "第 2 轮" in words


def test_the_instance_page_labels_the_rounds(ops, client, core):
    instance_id = resubmitted(ops)
    sign_in(client, core, "zhangsan")
    words = text_of(client.get(f"/instances/{instance_id}").get_data(as_text=True))
    assert re.search(r"部门会签 第 1 轮 陈静 不同意", words)
    assert "发起人修改后重新提交，修改了：合同金额（元）、付款方式" in words


def test_a_first_round_page_has_no_marks(ops, client, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    sign_in(client, core, "sunli")
    html = client.get(f"/work-items/{ops.mine('sunli', instance_id)}").get_data(as_text=True)
    assert "changed-mark" not in html and "第 1 轮" not in text_of(html)
