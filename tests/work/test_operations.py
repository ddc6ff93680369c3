"""The approval operations (GLOSSARY) through the REST API: 退回 (and 重新提交), 撤回, 撤销, 转办, 委派, 加签/减签,
知会, 催办, 代理, 常用意见, 签名留痕, the per-node `operations`, `opinion_required` and `empty_assignee`
properties, and 自动去重.

Each operation: the happy path, every refusal (wrong user, wrong state, not allowed on the node) with
its status and Chinese message — and nothing stored — and its 流转记录 entry. After every call the work
items must agree with the SpiffWorkflow state (engine.consistency.problems == []).

Most tests use the 请假 process: zhangsan's 12-day leave goes 部门负责人审批 (sunli) → 分管领导审批
(huangwei) → 总经理审批 (zhengqiang); 5 days stops after 分管; 2 days after the department.
"""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from support import CONTRACT, Ops

from engine.store.tables import event_log, utcnow
from engine.time.working_days import to_local
from engine.work import readers
from engine.work.views import detail as details


def _png(width: int = 1, height: int = 1) -> bytes:
    """A real (blank, greyscale) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png(120, 40)
SIGNATURE = "data:image/png;base64," + base64.b64encode(PNG).decode()


def walk(ops: Ops, instance_id: int, *approvers: str) -> None:
    for user in approvers:
        ops.decide(user, instance_id)


def at_gm(ops: Ops) -> int:
    """A 12-day leave approved by sunli and huangwei, now at 总经理审批."""
    instance_id = ops.start(days=12)
    walk(ops, instance_id, "sunli", "huangwei")
    assert ops.open_items(instance_id) == [("Task_gm", "zhengqiang")]
    return instance_id


def event(entry: dict) -> tuple:
    return entry["type"], entry["label"], entry["actor"], entry["node"], entry["message"]


# =================================================================================================
# What may be done now
# =================================================================================================


def test_actions_listed_for_an_open_item_and_for_the_instance(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    everything = ["approve", "reject", "send_back", "transfer", "delegate", "add_signers", "cc"]
    assert ops.item("sunli", item_id)["actions"] == everything
    assert ops.item("zhangsan", item_id)["actions"] == []  # not the holder
    assert ops.detail(instance_id, "zhangsan")["actions"] == ["withdraw", "cancel", "urge", "cc"]
    assert ops.detail(instance_id, "sunli")["actions"] == ["cc", "circulate"]  # every operation by default
    assert ops.detail(instance_id, "admin")["actions"] == ["cancel", "cc", "circulate"]

    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi"], "position": "parallel"})
    assert ops.item("sunli", item_id)["actions"] == [*everything[:-1], "remove_signers", "cc"]

    ops.do("zhangsan", f"/instances/{instance_id}/cancel", {"reason": "不休了"})
    assert ops.item("sunli", item_id)["actions"] == []
    assert ops.detail(instance_id, "zhangsan")["actions"] == []


# =================================================================================================
# 退回
# =================================================================================================


def test_send_back_targets_are_the_previous_node_earlier_nodes_and_the_initiator(ops):
    instance_id = ops.start(days=12)
    first = ops.mine("sunli", instance_id)
    only_initiator = [{"node": "initiator", "name": "发起人", "handlers": ["张三"], "previous": True}]
    assert ops.api("sunli").get(f"/api/v1/work-items/{first}/send-back-targets").get_json() == {"items": only_initiator}
    walk(ops, instance_id, "sunli", "huangwei")
    item_id = ops.mine("zhengqiang", instance_id)

    targets = ops.api("zhengqiang").get(f"/api/v1/work-items/{item_id}/send-back-targets").get_json()["items"]

    assert targets == [
        {"node": "Task_vp", "name": "分管领导审批", "handlers": ["黄伟"], "previous": True},
        {"node": "Task_dept_leader", "name": "部门负责人审批", "handlers": ["孙丽"], "previous": False},
        {"node": "initiator", "name": "发起人", "handlers": ["张三"], "previous": False},
    ]
    detail = ops.item("zhengqiang", item_id)
    assert "send_back" in detail["actions"]
    assert detail["send_back_targets"] == targets
    # Another participant may not look at someone else's targets; an outsider does not see the item.
    response = ops.api("sunli").get(f"/api/v1/work-items/{item_id}/send-back-targets")
    assert (response.status_code, response.get_json()["error"]) == (403, "这不是您的待办，不能处理")
    assert ops.api("lisi").get(f"/api/v1/work-items/{item_id}/send-back-targets").status_code == 404
    # A done item has nothing to send back to.
    done = ops.api("sunli").get(f"/api/v1/work-items/{first}/send-back-targets").get_json()
    assert done == {"items": []}


def test_send_back_defaults_to_the_previous_node(ops, core):
    instance_id = at_gm(ops)
    item_id = ops.mine("zhengqiang", instance_id)

    result = ops.do("zhengqiang", f"/work-items/{item_id}/send-back", {"opinion": "请分管领导再看一下预算"})

    assert result["to"]["node"] == "Task_vp"
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]
    assert ops.items(instance_id)[2] == ("Task_gm", "zhengqiang", "done", "send_back", None)
    sent_back = ops.last_event(instance_id)
    assert event(sent_back) == ("sent_back", "退回", "zhengqiang", "Task_gm", "退回至分管领导审批（黄伟）")
    assert sent_back["opinion"] == "请分管领导再看一下预算"
    assert ops.detail(instance_id)["status"] == "running"

    # huangwei decides again and the route continues to 总经理审批.
    ops.decide("huangwei", instance_id, opinion="预算已复核")
    assert ops.open_items(instance_id) == [("Task_gm", "zhengqiang")]
    assert ops.decide("zhengqiang", instance_id)["status"] == "approved"


def test_send_back_to_an_earlier_node_walks_the_route_again(ops):
    instance_id = at_gm(ops)
    item_id = ops.mine("zhengqiang", instance_id)

    result = ops.do(
        "zhengqiang", f"/work-items/{item_id}/send-back", {"to_node": "Task_dept_leader", "opinion": "天数有误"}
    )

    assert result["to"] == {
        "node": "Task_dept_leader",
        "name": "部门负责人审批",
        "handlers": ["孙丽"],
        "previous": False,
    }
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    assert ops.last_event(instance_id)["message"] == "退回至部门负责人审批（孙丽）"
    assert instance_id in ops.todo("sunli")
    # Rewalk (the default): 分管领导审批 again, then 总经理审批.
    ops.decide("sunli", instance_id)
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]
    ops.decide("huangwei", instance_id)
    assert ops.open_items(instance_id) == [("Task_gm", "zhengqiang")]
    assert ops.decide("zhengqiang", instance_id)["status"] == "approved"


def test_send_back_to_the_initiator_and_resubmit_walks_the_route_again(ops, core):
    instance_id = ops.start(days=5)
    ops.decide("sunli", instance_id)
    item_id = ops.mine("huangwei", instance_id)

    ops.do("huangwei", f"/work-items/{item_id}/send-back", {"to_node": "initiator", "opinion": "请改成 3 天"})

    assert ops.open_items(instance_id) == [("StartEvent_apply", "zhangsan")]
    resubmit_id = ops.mine("zhangsan", instance_id)
    resubmit = ops.item("zhangsan", resubmit_id)
    assert (resubmit["node_name"], resubmit["origin"], resubmit["actions"]) == (
        "发起人修改后重新提交",
        "resubmit",
        ["resubmit", "cancel"],
    )
    assert "days" in resubmit["form"]["properties"]  # the drafter edits the application itself
    assert ops.last_event(instance_id)["message"] == "退回至发起人（张三）"
    assert ops.notifications("zhangsan", "returned") == ["您的申请“张三的请假申请（年假 5 天）”已退回：请改成 3 天"]

    # Refusals on the resubmission step: 不同意 makes no sense; the form is validated; nothing stored.
    ops.refused(
        "zhangsan",
        f"/work-items/{resubmit_id}/complete",
        {"decision": "reject", "opinion": "x"},
        409,
        "退回的申请请修改后重新提交，或撤销申请",
    )
    bad = ops.leave.leave_data(start_date="2026-11-28", end_date="2026-11-29")  # a weekend: 天数 would be 0
    ops.field_error("zhangsan", f"/work-items/{resubmit_id}/complete", {"decision": "approve", "data": bad}, "days")
    ops.refused("sunli", f"/work-items/{resubmit_id}/complete", {"decision": "approve"}, 403)

    ops.complete(
        "zhangsan",
        resubmit_id,
        opinion=None,
        data={**ops.leave.leave_data(end_date="2026-11-25"), "days": 5},  # 天数 sent is ignored: 3 are counted
    )

    detail = ops.detail(instance_id)
    assert detail["title"] == "张三的请假申请（年假 3 天）"
    assert detail["data"]["days"] == 3
    assert event(detail["history"][-1])[:4] == ("resubmitted", "重新提交", "zhangsan", "StartEvent_apply")
    # The route is walked again from the start — with 3 days it stops after the department.
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    assert ops.decide("sunli", instance_id)["status"] == "approved"


def test_send_back_refusals(ops):
    instance_id = ops.start(days=12)
    walk(ops, instance_id, "sunli")
    item_id = ops.mine("huangwei", instance_id)
    path = f"/work-items/{item_id}/send-back"

    for opinion in (None, "", "   "):
        ops.field_error("huangwei", path, {"opinion": opinion}, "opinion", "退回时必须填写意见")
    not_passed = "只能退回到上一节点、已经办理过的节点或发起人"
    ops.field_error("huangwei", path, {"to_node": "Task_gm", "opinion": "x"}, "to_node", not_passed)
    ops.field_error("huangwei", path, {"to_node": "Task_nope", "opinion": "x"}, "to_node")
    ops.refused("sunli", path, {"opinion": "x"}, 403, "这不是您的待办，不能处理")
    ops.refused("lisi", path, {"opinion": "x"}, 404, "待办不存在")
    ops.refused("admin", path, {"opinion": "x"}, 403, "这不是您的待办，不能处理")
    done = ops.detail(instance_id)["work_items"][0]["id"]
    ops.refused("sunli", f"/work-items/{done}/send-back", {"opinion": "x"}, 409, "该待办已处理，无需重复提交")

    ops.do("zhangsan", f"/instances/{instance_id}/cancel", {"reason": "不休了"})
    ops.refused("huangwei", path, {"opinion": "x"}, 409, "该待办申请已撤销，无需再处理")


def test_send_back_inside_a_countersign_cancels_the_other_signers(ops):
    instance_id = at_contract_countersign(ops)
    zhaolei = ops.mine("zhaolei", instance_id)
    targets = ops.api("zhaolei").get(f"/api/v1/work-items/{zhaolei}/send-back-targets").get_json()["items"]
    assert [(t["node"], t["handlers"], t["previous"]) for t in targets] == [
        ("Task_dept_review", ["孙丽"], True),
        ("initiator", ["张三"], False),
    ]

    ops.do("zhaolei", f"/work-items/{zhaolei}/send-back", {"opinion": "请部门先核实对方资质"})

    # chenjing's open 会签 item is withdrawn with the node; sunli handles 部门负责人审核 again.
    assert ops.items(instance_id)[1:] == [
        ("Task_countersign", "chenjing", "cancelled", None, "已退回"),
        ("Task_countersign", "zhaolei", "done", "send_back", None),
        ("Task_dept_review", "sunli", "open", None, None),
    ]
    assert ops.last_event(instance_id)["message"] == "退回至部门负责人审核（孙丽）"
    ops.decide("sunli", instance_id)
    assert ops.open_items(instance_id) == [("Task_countersign", "chenjing"), ("Task_countersign", "zhaolei")]


def test_resubmit_direct_goes_straight_back_to_the_node_that_returned_it(ops):
    ops.deploy("ops_form.json", "ops_direct.bpmn")
    instance_id = ops.start("ops_direct", subject="采购打印机", amount=3000)
    walk(ops, instance_id, "sunli", "huangwei")
    item_id = ops.mine("zhengqiang", instance_id)

    ops.do("zhengqiang", f"/work-items/{item_id}/send-back", {"to_node": "initiator", "opinion": "请补充报价单"})
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data={"subject": "采购打印机（附报价）"})

    # 终审 says resubmit=direct: 初审 and 复审 are not asked again.
    assert ops.open_items(instance_id) == [("Task_c", "zhengqiang")]
    skipped = [e for e in ops.history(instance_id) if e["type"] == "skipped"]
    assert [(e["node"], e["message"]) for e in skipped] == [
        ("Task_a", "退回后重新提交：直接回到退回的节点，本节点不再审批"),
        ("Task_b", "退回后重新提交：直接回到退回的节点，本节点不再审批"),
    ]
    assert ops.decide("zhengqiang", instance_id)["status"] == "approved"


def test_resubmit_direct_after_a_send_back_to_an_earlier_node(ops):
    ops.deploy("ops_form.json", "ops_direct.bpmn")
    instance_id = ops.start("ops_direct", subject="采购打印机")
    walk(ops, instance_id, "sunli", "huangwei")

    ops.do(
        "zhengqiang",
        f"/work-items/{ops.mine('zhengqiang', instance_id)}/send-back",
        {"to_node": "Task_a", "opinion": "请初审补充意见"},
    )
    assert ops.open_items(instance_id) == [("Task_a", "sunli")]
    ops.decide("sunli", instance_id, opinion="已补充")

    assert ops.open_items(instance_id) == [("Task_c", "zhengqiang")]
    assert [e["node"] for e in ops.history(instance_id) if e["type"] == "skipped"] == ["Task_b"]


def test_resubmit_rewalk_from_a_node_without_the_direct_option(ops):
    ops.deploy("ops_form.json", "ops_direct.bpmn")
    instance_id = ops.start("ops_direct", subject="采购打印机")
    walk(ops, instance_id, "sunli")

    ops.do(
        "huangwei",
        f"/work-items/{ops.mine('huangwei', instance_id)}/send-back",
        {"to_node": "initiator", "opinion": "请补充"},
    )
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data={"subject": "采购打印机"})

    assert ops.open_items(instance_id) == [("Task_a", "sunli")]
    assert [e for e in ops.history(instance_id) if e["type"] == "skipped"] == []


# =================================================================================================
# 撤回
# =================================================================================================


def test_initiator_withdraws_before_anyone_acted(ops):
    instance_id = ops.start(days=2)
    assert "withdraw" in ops.detail(instance_id, "zhangsan")["actions"]
    sunli_item = ops.mine("sunli", instance_id)

    assert ops.do("zhangsan", f"/instances/{instance_id}/withdraw") == {"id": instance_id, "status": "running"}

    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "cancelled", None, "已由申请人撤回"),
        ("StartEvent_apply", "zhangsan", "open", None, None),
    ]
    assert event(ops.last_event(instance_id)) == (
        "withdrawn",
        "撤回申请",
        "zhangsan",
        None,
        "发起人撤回申请，待修改后重新提交",
    )
    assert instance_id not in ops.todo("sunli")
    approve = {"decision": "approve"}
    ops.refused("sunli", f"/work-items/{sunli_item}/complete", approve, 409, "该待办已由申请人撤回，无需再处理")
    actions = ops.detail(instance_id, "zhangsan")["actions"]
    assert "withdraw" not in actions and "cancel" in actions
    ops.refused("zhangsan", f"/instances/{instance_id}/withdraw", None, 409, "申请已在您手中待修改，无需撤回")

    # The drafter resubmits; it goes to sunli again.
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data=ops.leave.leave_data(days=1))
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    assert "withdraw" in ops.detail(instance_id, "zhangsan")["actions"]


def test_withdraw_again_after_a_resubmission(ops):
    # sunli's 退回 and the earlier round do not count: nobody has acted on the corrected application yet.
    instance_id = ops.start(days=5)
    ops.do("sunli", f"/work-items/{ops.mine('sunli', instance_id)}/send-back", {"opinion": "请写清事由"})
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data=ops.leave.leave_data(days=5))
    assert "withdraw" in ops.detail(instance_id, "zhangsan")["actions"]

    ops.do("zhangsan", f"/instances/{instance_id}/withdraw")

    assert ops.open_items(instance_id) == [("StartEvent_apply", "zhangsan")]
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data=ops.leave.leave_data(days=5))
    ops.decide("sunli", instance_id)
    ops.refused(
        "zhangsan", f"/instances/{instance_id}/withdraw", None, 409, "已有审批人办理，不能撤回：如需放弃请撤销申请"
    )


def test_withdraw_refusals(ops):
    instance_id = ops.start(days=5)
    ops.refused("sunli", f"/instances/{instance_id}/withdraw", None, 403, "只有发起人可以撤回申请")
    ops.refused("lisi", f"/instances/{instance_id}/withdraw", None, 404, "申请不存在，或您无权查看")

    ops.decide("sunli", instance_id)
    assert "withdraw" not in ops.detail(instance_id, "zhangsan")["actions"]
    ops.refused(
        "zhangsan", f"/instances/{instance_id}/withdraw", None, 409, "已有审批人办理，不能撤回：如需放弃请撤销申请"
    )

    ops.decide("huangwei", instance_id)
    ops.refused("zhangsan", f"/instances/{instance_id}/withdraw", None, 409, "该申请已通过，不能撤回")


def test_approver_recalls_while_the_next_step_has_not_acted(ops):
    instance_id = ops.start(days=12)
    sunli_item = ops.mine("sunli", instance_id)
    ops.decide("sunli", instance_id, opinion="同意（初次）")
    assert ops.item("sunli", sunli_item)["actions"] == ["recall"]
    huangwei_item = ops.mine("huangwei", instance_id)

    assert ops.do("sunli", f"/work-items/{sunli_item}/recall") == {"id": instance_id, "status": "running"}

    # The next step is withdrawn; sunli holds 部门负责人审批 again and decides anew.
    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "cancelled", "approve", "已撤回"),
        ("Task_vp", "huangwei", "cancelled", None, "已被上一节点撤回"),
        ("Task_dept_leader", "sunli", "open", None, None),
    ]
    assert event(ops.last_event(instance_id)) == (
        "recalled",
        "撤回审批",
        "sunli",
        "Task_dept_leader",
        "审批人撤回了自己的审批",
    )
    assert instance_id not in ops.todo("huangwei")
    approve = {"decision": "approve"}
    ops.refused("huangwei", f"/work-items/{huangwei_item}/complete", approve, 409, "该待办已被上一节点撤回，无需再处理")
    ops.refused("sunli", f"/work-items/{sunli_item}/recall", None, 409, "只能撤回自己已同意的待办")

    ops.decide("sunli", instance_id, "reject", "重新考虑后不同意")
    assert ops.status(instance_id) == "rejected"


def test_recall_refused_once_the_next_step_acted(ops):
    instance_id = ops.start(days=12)
    sunli_item = ops.mine("sunli", instance_id)
    walk(ops, instance_id, "sunli", "huangwei")
    assert ops.item("sunli", sunli_item)["actions"] == []

    ops.refused("sunli", f"/work-items/{sunli_item}/recall", None, 409, "后续节点已经办理，不能撤回")
    # Not one's own item: 403 to a participant, 404 to anyone else.
    ops.refused("huangwei", f"/work-items/{sunli_item}/recall", None, 403, "这不是您的待办，不能处理")
    ops.refused("lisi", f"/work-items/{sunli_item}/recall", None, 404, "待办不存在")

    # huangwei may still recall: 总经理审批 has not acted.
    huangwei_item = ops.detail(instance_id)["work_items"][1]["id"]
    ops.do("huangwei", f"/work-items/{huangwei_item}/recall")
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]

    walk(ops, instance_id, "huangwei", "zhengqiang")
    gm_item = ops.detail(instance_id)["work_items"][-2]["id"]
    ops.refused("zhengqiang", f"/work-items/{gm_item}/recall", None, 409, "申请已结束，不能撤回")


def test_recall_inside_an_open_countersign(ops):
    instance_id = at_contract_countersign(ops)
    chenjing = ops.mine("chenjing", instance_id)
    ops.complete("chenjing", chenjing, opinion="财务无异议")
    assert ops.item("chenjing", chenjing)["actions"] == ["recall"]

    ops.do("chenjing", f"/work-items/{chenjing}/recall")

    # The node is still open: chenjing simply holds a new item there; zhaolei's is untouched.
    assert ops.items(instance_id)[1:] == [
        ("Task_countersign", "chenjing", "cancelled", "approve", "已撤回"),
        ("Task_countersign", "zhaolei", "open", None, None),
        ("Task_countersign", "chenjing", "open", None, None),
    ]
    ops.decide("zhaolei", instance_id, opinion="法务无异议")
    assert ops.open_items(instance_id) == [("Task_countersign", "chenjing")]
    ops.decide("chenjing", instance_id, opinion="财务无异议")
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


# =================================================================================================
# 撤销
# =================================================================================================


def test_initiator_cancels_with_a_reason(ops):
    instance_id = ops.start(days=5)
    ops.decide("sunli", instance_id)
    assert "cancel" in ops.detail(instance_id, "zhangsan")["actions"]

    result = ops.do("zhangsan", f"/instances/{instance_id}/cancel", {"reason": "行程取消"})

    assert result == {"id": instance_id, "status": "cancelled"}
    detail = ops.detail(instance_id, "zhangsan")
    assert (detail["status"], detail["status_label"], detail["actions"]) == ("cancelled", "已撤销", [])
    assert detail["ended_at"] is not None
    assert ops.items(instance_id)[-1] == ("Task_vp", "huangwei", "cancelled", None, "申请已撤销")
    assert [event(e) for e in detail["history"][-2:]] == [
        ("cancelled", "撤销", "zhangsan", None, "发起人张三撤销了申请：行程取消"),
        ("ended", "流程结束", None, None, "流程结束：已撤销（行程取消）"),
    ]
    assert ops.notifications("zhangsan", "result") == ["您的申请“张三的请假申请（年假 5 天）”已撤销"]
    assert instance_id not in ops.todo("huangwei")


def test_admin_cancels_with_a_reason(ops):
    instance_id = ops.start(days=2)
    ops.do("admin", f"/instances/{instance_id}/cancel", {"reason": "重复提交"})
    assert ops.status(instance_id) == "cancelled"
    assert ops.history(instance_id)[-2]["message"] == "管理员系统管理员撤销了申请：重复提交"


def test_cancel_from_the_resubmission_step(ops):
    instance_id = ops.start(days=2)
    ops.do("sunli", f"/work-items/{ops.mine('sunli', instance_id)}/send-back", {"opinion": "请写清事由"})
    ops.do("zhangsan", f"/instances/{instance_id}/cancel", {"reason": "不请了"})
    assert ops.status(instance_id) == "cancelled"
    assert ops.items(instance_id)[-1] == ("StartEvent_apply", "zhangsan", "cancelled", None, "申请已撤销")


def test_cancel_refusals(ops):
    instance_id = ops.start(days=2)
    path = f"/instances/{instance_id}/cancel"
    for reason in (None, "", "  "):
        ops.field_error("zhangsan", path, {"reason": reason}, "reason", "撤销必须填写原因")
    ops.field_error("zhangsan", path, {"reason": "长" * 501}, "reason", "原因最多 500 个字")
    ops.refused("sunli", path, {"reason": "x"}, 403, "只有发起人或管理员可以撤销申请")
    ops.refused("lisi", path, {"reason": "x"}, 404, "申请不存在，或您无权查看")
    assert "cancel" not in ops.detail(instance_id, "sunli")["actions"]

    ops.decide("sunli", instance_id)
    ops.refused("zhangsan", path, {"reason": "x"}, 409, "该申请已通过，不能撤销")
    ops.refused("admin", path, {"reason": "x"}, 409, "该申请已通过，不能撤销")

    other = ops.start(days=2)
    ops.do("zhangsan", f"/instances/{other}/cancel", {"reason": "不请了"})
    ops.refused("zhangsan", f"/instances/{other}/cancel", {"reason": "再撤一次"}, 409, "该申请已撤销，不能撤销")


# =================================================================================================
# 转办
# =================================================================================================


def test_transfer_hands_the_item_over_for_good(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)

    result = ops.do("sunli", f"/work-items/{item_id}/transfer", {"to_user": "lisi", "opinion": "我出差，请李四处理"})

    assert result == {"id": instance_id, "to": "lisi"}
    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "done", "transfer", None),
        ("Task_dept_leader", "lisi", "open", None, None),
    ]
    transferred = ops.last_event(instance_id)
    assert event(transferred) == ("transferred", "转办", "sunli", "Task_dept_leader", "转办：孙丽 → 李四")
    assert transferred["opinion"] == "我出差，请李四处理"
    assert instance_id in ops.todo("lisi") and instance_id not in ops.todo("sunli")
    ops.refused("sunli", f"/work-items/{item_id}/complete", {"decision": "approve"}, 409, "该待办已处理，无需重复提交")

    # The new holder decides.
    assert ops.decide("lisi", instance_id)["status"] == "approved"
    assert [e["actor"] for e in ops.history(instance_id) if e["type"] == "approved"] == ["lisi"]


def test_transfer_refusals(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    path = f"/work-items/{item_id}/transfer"
    ops.field_error("sunli", path, {"to_user": "sunli"}, "to_user", "不能选择自己")
    ops.field_error("sunli", path, {"to_user": "nobody"}, "to_user", "用户 'nobody' 不存在")
    ops.field_error("sunli", path, {}, "to_user")
    ops.refused("zhangsan", path, {"to_user": "lisi"}, 403, "这不是您的待办，不能处理")
    ops.refused("lisi", path, {"to_user": "wangfang"}, 404, "待办不存在")
    ops.decide("sunli", instance_id)
    ops.refused("sunli", path, {"to_user": "lisi"}, 409, "该待办已处理，无需重复提交")


def test_transfer_to_someone_already_signing_the_node_is_refused(ops):
    instance_id = at_contract_countersign(ops)
    ops.refused(
        "chenjing",
        f"/work-items/{ops.mine('chenjing', instance_id)}/transfer",
        {"to_user": "zhaolei"},
        409,
        "赵磊已在办理本节点，不能转办给他",
    )


def test_transfer_then_the_same_approver_twice_is_approved_automatically(ops):
    # sunli hands 部门负责人审批 to huangwei, who is also 分管领导: his second step passes on its own.
    instance_id = ops.start(days=5)
    ops.do("sunli", f"/work-items/{ops.mine('sunli', instance_id)}/transfer", {"to_user": "huangwei"})

    assert ops.decide("huangwei", instance_id, opinion="同意")["status"] == "approved"

    auto = [e for e in ops.history(instance_id) if e["type"] == "auto_approved"]
    assert [(e["actor"], e["node"], e["decision"], e["message"]) for e in auto] == [
        ("huangwei", "Task_vp", "approve", "与上一节点审批人相同，自动通过")
    ]
    assert [i[:3] for i in ops.items(instance_id)] == [
        ("Task_dept_leader", "sunli", "done"),
        ("Task_dept_leader", "huangwei", "done"),
    ]


# =================================================================================================
# 委派
# =================================================================================================


def test_delegate_and_resolve_returns_the_item_to_the_delegator(ops, core):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)

    ops.do("sunli", f"/work-items/{item_id}/delegate", {"to_user": "lisi", "opinion": "请核实天数"})

    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "waiting", None, "已委派给李四，等待其办理"),
        ("Task_dept_leader", "lisi", "open", None, None),
    ]
    assert event(ops.last_event(instance_id)) == (
        "delegated",
        "委派",
        "sunli",
        "Task_dept_leader",
        "委派：孙丽 → 李四",
    )
    lisi_item = ops.mine("lisi", instance_id)
    detail = ops.item("lisi", lisi_item)
    assert (detail["origin"], detail["delegator"], detail["actions"]) == ("delegate", "孙丽", ["resolve"])
    assert instance_id not in ops.todo("sunli")

    # The delegatee cannot decide, nor pass the item on; the delegator must wait.
    ops.refused(
        "lisi",
        f"/work-items/{lisi_item}/complete",
        {"decision": "approve"},
        409,
        "这是委派给您的待办：请填写意见后点击“办理完成”，由委派人决定",
    )
    ops.refused(
        "lisi",
        f"/work-items/{lisi_item}/transfer",
        {"to_user": "wangfang"},
        409,
        "委派给您的待办不能转办：请办理完成后交回委派人",
    )
    not_yours = "委派给您的待办不能退回：请办理完成后交回委派人"
    ops.refused("lisi", f"/work-items/{lisi_item}/send-back", {"opinion": "x"}, 409, not_yours)
    ops.refused(
        "sunli",
        f"/work-items/{item_id}/complete",
        {"decision": "approve"},
        409,
        "该待办暂不能处理：已委派给李四，等待其办理",
    )
    ops.field_error("lisi", f"/work-items/{lisi_item}/resolve", {"opinion": " "}, "opinion", "办理委派必须填写意见")

    ops.do("lisi", f"/work-items/{lisi_item}/resolve", {"opinion": "天数无误"})

    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "open", None, None),
        ("Task_dept_leader", "lisi", "done", "resolve", None),
    ]
    resolved = ops.last_event(instance_id)
    assert event(resolved) == ("resolved", "委派办理完成", "lisi", "Task_dept_leader", "李四办理完成，交回委派人")
    assert resolved["opinion"] == "天数无误"
    assert ops.notifications("sunli", "todo")[-1] == "李四已办理您委派的待办，请审批：张三的请假申请（年假 2 天）"
    assert ops.status(instance_id) == "running"  # the delegatee's answer decided nothing

    # The delegator still decides.
    assert ops.complete("sunli", item_id)["status"] == "approved"


def test_delegate_refusals(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    path = f"/work-items/{item_id}/delegate"
    ops.field_error("sunli", path, {"to_user": "sunli"}, "to_user", "不能选择自己")
    ops.field_error("sunli", path, {"to_user": "ghost"}, "to_user", "用户 'ghost' 不存在")
    ops.refused("zhangsan", path, {"to_user": "lisi"}, 403, "这不是您的待办，不能处理")
    ops.refused("sunli", f"/work-items/{item_id}/resolve", {"opinion": "x"}, 409, "只有委派给您的待办才需要“办理完成”")
    ops.do("sunli", path, {"to_user": "lisi"})
    ops.refused("sunli", path, {"to_user": "wangfang"}, 409, "该待办暂不能处理：已委派给李四，等待其办理")


# =================================================================================================
# 加签 / 减签
# =================================================================================================


def test_add_signers_before(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)

    result = ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi"], "position": "before"})

    assert result == {"id": instance_id, "added": ["lisi"], "position": "before"}
    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "waiting", None, "等待前加签人处理"),
        ("Task_dept_leader", "lisi", "open", None, None),
    ]
    assert event(ops.last_event(instance_id)) == ("signers_added", "加签", "sunli", "Task_dept_leader", "前加签：李四")
    ops.refused(
        "sunli", f"/work-items/{item_id}/complete", {"decision": "approve"}, 409, "该待办暂不能处理：等待前加签人处理"
    )
    assert ops.item("sunli", item_id)["actions"] == ["remove_signers"]  # waiting, but may still 减签

    ops.decide("lisi", instance_id, opinion="情况属实")

    # The added signer acted: the approver's item opens again; the node has not passed yet.
    assert ops.items(instance_id)[0] == ("Task_dept_leader", "sunli", "open", None, None)
    assert ops.notifications("sunli", "todo")[-1] == "前加签已处理完毕，请审批：张三的请假申请（年假 2 天）"
    assert ops.status(instance_id) == "running"
    assert ops.complete("sunli", item_id)["status"] == "approved"


def test_add_signers_after(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)

    body = {"users": ["lisi"], "position": "after", "opinion": "同意，请李四复核"}
    ops.do("sunli", f"/work-items/{item_id}/add-signers", body)

    # The approver decided; the node also waits for the added signer.
    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "done", "approve", None),
        ("Task_dept_leader", "lisi", "open", None, None),
    ]
    assert [event(e)[:4] for e in ops.history(instance_id)[-2:]] == [
        ("signers_added", "加签", "sunli", "Task_dept_leader"),
        ("approved", "同意", "sunli", "Task_dept_leader"),
    ]
    assert ops.history(instance_id)[-2]["message"] == "后加签：李四"
    assert ops.open_items(instance_id) == [("Task_dept_leader", "lisi")]

    ops.decide("lisi", instance_id)
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


def test_add_signers_parallel_and_an_added_signer_rejecting(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi", "wangfang"], "position": "parallel"})
    assert ops.open_items(instance_id) == [
        ("Task_dept_leader", "sunli"),
        ("Task_dept_leader", "lisi"),
        ("Task_dept_leader", "wangfang"),
    ]
    assert ops.last_event(instance_id)["message"] == "并加签：李四、王芳"

    ops.complete("sunli", item_id)
    ops.decide("lisi", instance_id)
    # Still at the node: wangfang, added in parallel, has not acted.
    assert ops.open_items(instance_id) == [("Task_dept_leader", "wangfang")]

    assert ops.decide("wangfang", instance_id, "reject", "手续不全")["status"] == "rejected"


def test_add_signers_parallel_all_approve(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": "lisi", "position": "parallel"})
    ops.decide("lisi", instance_id)
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    ops.complete("sunli", item_id)
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


def test_add_signers_refusals(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    path = f"/work-items/{item_id}/add-signers"
    ops.field_error(
        "sunli",
        path,
        {"users": ["lisi"], "position": "sideways"},
        "position",
        "加签方式必须是 before（前加签）、after（后加签）或 parallel（并加签）",
    )
    ops.field_error("sunli", path, {"users": ["lisi"]}, "position")
    ops.field_error("sunli", path, {"users": [], "position": "before"}, "users", "请至少选择一个人")
    ops.field_error("sunli", path, {"users": ["sunli"], "position": "before"}, "users", "不能选择自己")
    ops.field_error("sunli", path, {"users": ["lisi", "ghost"], "position": "before"}, "users", "用户 'ghost' 不存在")
    ops.refused("zhangsan", path, {"users": ["lisi"], "position": "before"}, 403, "这不是您的待办，不能处理")

    ops.do("sunli", path, {"users": ["lisi"], "position": "parallel"})
    ops.refused("sunli", path, {"users": ["lisi"], "position": "parallel"}, 409, "李四已在办理本节点，无需加签")


def test_remove_signers_only_by_the_adder_and_only_those_not_yet_acted(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    assert "remove_signers" not in ops.item("sunli", item_id)["actions"]
    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi", "wangfang"], "position": "parallel"})
    assert "remove_signers" in ops.item("sunli", item_id)["actions"]
    ops.decide("wangfang", instance_id)
    lisi_item = ops.mine("lisi", instance_id)

    # wangfang already acted; lisi did not add anyone; huangwei holds nothing at this node.
    ops.refused(
        "sunli",
        f"/work-items/{item_id}/remove-signers",
        {"users": ["wangfang"]},
        409,
        "只能减去由您加签且尚未办理的人：王芳不符合",
    )
    ops.refused(
        "lisi",
        f"/work-items/{lisi_item}/remove-signers",
        {"users": ["lisi"]},
        409,
        "只能减去由您加签且尚未办理的人：李四不符合",
    )
    path = f"/work-items/{item_id}/remove-signers"
    ops.refused("zhangsan", path, {"users": ["lisi"]}, 403, "这不是您的待办，不能处理")
    ops.field_error("sunli", f"/work-items/{item_id}/remove-signers", {"users": []}, "users")

    result = ops.do("sunli", f"/work-items/{item_id}/remove-signers", {"users": ["lisi"]})

    assert result == {"id": instance_id, "removed": ["lisi"]}
    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "open", None, None),
        ("Task_dept_leader", "lisi", "cancelled", None, "已被减签"),
        ("Task_dept_leader", "wangfang", "done", "approve", None),
    ]
    assert event(ops.last_event(instance_id)) == ("signers_removed", "减签", "sunli", "Task_dept_leader", "减签：李四")
    assert "remove_signers" not in ops.item("sunli", item_id)["actions"]
    ops.refused("lisi", f"/work-items/{lisi_item}/complete", {"decision": "approve"}, 409, "该待办已被减签，无需再处理")
    ops.complete("sunli", item_id)
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


def test_remove_the_signer_added_before_reopens_the_approver(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi"], "position": "before"})

    # 减签 works from the waiting item too.
    ops.do("sunli", f"/work-items/{item_id}/remove-signers", {"users": ["lisi"]})

    assert ops.items(instance_id) == [
        ("Task_dept_leader", "sunli", "open", None, None),
        ("Task_dept_leader", "lisi", "cancelled", None, "已被减签"),
    ]
    assert ops.complete("sunli", item_id)["status"] == "approved"


def test_remove_the_signer_added_after_lets_the_node_pass(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/add-signers", {"users": ["lisi"], "position": "after"})
    assert ops.item("sunli", item_id)["actions"] == ["recall", "remove_signers"]

    # The approver's own item is done; 减签 from it lets the node pass at once.
    ops.do("sunli", f"/work-items/{item_id}/remove-signers", {"users": ["lisi"]})

    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


# =================================================================================================
# 知会 / 催办
# =================================================================================================


def cc_box(ops: Ops, user: str) -> list[tuple]:
    listed = ops.api(user).get("/api/v1/work-items?box=cc").get_json()["items"]
    return [(i["instance_id"], i["node_name"], i["read"], i["opinion"]) for i in listed]


def test_cc_ad_hoc_by_an_approver(ops, core):
    instance_id = ops.start(days=5)
    assert "cc" in ops.detail(instance_id, "sunli")["actions"]
    assert ops.api("liuyang").get(f"/api/v1/instances/{instance_id}").status_code == 404

    result = ops.do(
        "sunli", f"/instances/{instance_id}/cc", {"users": ["liuyang", "wangfang"], "message": "请人事部知悉"}
    )

    assert result == {"id": instance_id, "readers": ["刘洋", "王芳"]}
    assert cc_box(ops, "liuyang") == [(instance_id, "知会", False, "请人事部知悉")]
    assert ops.api("liuyang").get("/api/v1/me").get_json()["counts"]["cc"] == 1
    assert ops.todo("liuyang") == []  # non-blocking: nothing to approve
    assert ops.notifications("liuyang", "cc") == ["知会：张三的请假申请（年假 5 天）"]
    assert event(ops.last_event(instance_id)) == ("cc", "知会", "sunli", "adhoc", "已知会刘洋、王芳：请人事部知悉")
    # The reader may read the application now, but may not 知会 others.
    reader_view = ops.detail(instance_id, "liuyang")
    assert "cc" not in reader_view["actions"]
    ops.refused("liuyang", f"/instances/{instance_id}/cc", {"users": ["lisi"]}, 403, "只有发起人和审批人可以知会")
    # Reading marks it read (已读).
    readers.mark_read(core, "liuyang", instance_id)  # what opening the application's page does
    assert cc_box(ops, "liuyang") == [(instance_id, "知会", True, "请人事部知悉")]
    assert ops.api("liuyang").get("/api/v1/me").get_json()["counts"]["cc"] == 0
    # The approval goes on regardless.
    ops.decide("sunli", instance_id)
    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]


def test_cc_by_the_initiator_and_refusals(ops):
    instance_id = ops.start(days=2)
    path = f"/instances/{instance_id}/cc"
    ops.field_error("zhangsan", path, {"users": []}, "users", "请至少选择一个人")
    ops.field_error("zhangsan", path, {"users": ["ghost"]}, "users", "用户 'ghost' 不存在")
    ops.field_error("zhangsan", path, {"users": ["zhangsan"]}, "users", "不能选择自己")
    ops.refused("lisi", path, {"users": ["wangfang"]}, 404, "申请不存在，或您无权查看")

    assert ops.do("zhangsan", path, {"users": ["lisi"]})["readers"] == ["李四"]
    assert ops.last_event(instance_id)["message"] == "已知会李四"
    # Again: nobody new is told.
    assert ops.do("zhangsan", path, {"users": ["lisi"]})["readers"] == []
    assert ops.last_event(instance_id)["message"] == "知会对象不存在或已知会，未发送"
    assert len(cc_box(ops, "lisi")) == 1


def test_urge_by_the_initiator_once_per_hour(ops, core, monkeypatch):
    instance_id = ops.start(days=5)
    assert "urge" in ops.detail(instance_id, "zhangsan")["actions"]

    result = ops.do("zhangsan", f"/instances/{instance_id}/urge", {"message": "明天就要出发"})

    assert result == {"id": instance_id, "urged": ["sunli"], "again_at": result["again_at"]} and result["again_at"]
    assert ops.notifications("sunli", "urge") == [
        "张三催办：张三的请假申请（年假 5 天）（部门负责人审批）— 明天就要出发"
    ]
    assert event(ops.last_event(instance_id)) == ("urged", "催办", "zhangsan", "Task_dept_leader", "催办：明天就要出发")

    # Within the hour: refused, nothing stored, and not offered.
    with core.db.read() as conn:
        urged_at = conn.execute(select(event_log.c.created_at).where(event_log.c.type == "urged")).scalar()
    next_time = to_local(urged_at + timedelta(hours=1)).strftime("%H:%M")
    throttled = f"每个待办每小时只能催办一次，请在 {next_time} 之后再试"
    ops.refused("zhangsan", f"/instances/{instance_id}/urge", None, 409, throttled)
    assert "urge" not in ops.detail(instance_id, "zhangsan")["actions"]
    for module in (readers, details):
        monkeypatch.setattr(module, "utcnow", lambda: urged_at + timedelta(minutes=59))
    ops.refused("zhangsan", f"/instances/{instance_id}/urge", None, 409)

    # An hour later it may be sent again (default message).
    for module in (readers, details):
        monkeypatch.setattr(module, "utcnow", lambda: urged_at + timedelta(minutes=61))
    assert "urge" in ops.detail(instance_id, "zhangsan")["actions"]
    ops.do("zhangsan", f"/instances/{instance_id}/urge")
    assert ops.notifications("sunli", "urge")[-1].endswith("— 请尽快办理")
    assert [e["type"] for e in ops.history(instance_id)].count("urged") == 2


def test_urge_by_an_earlier_handler_and_refusals(ops):
    instance_id = ops.start(days=12)
    path = f"/instances/{instance_id}/urge"
    ops.refused("lisi", path, None, 404, "申请不存在，或您无权查看")
    # The current handler has handled nothing yet and is not the initiator.
    ops.refused("sunli", path, None, 403, "只有发起人或已办理过的审批人可以催办")
    ops.decide("sunli", instance_id)

    assert ops.do("sunli", path)["urged"] == ["huangwei"]
    assert ops.last_event(instance_id)["actor"] == "sunli"
    assert "urge" not in ops.detail(instance_id, "huangwei")["actions"]

    walk(ops, instance_id, "huangwei", "zhengqiang")
    ops.refused("zhangsan", path, None, 409, "该申请已通过，无需催办")


def test_urge_with_an_older_event_is_allowed_again(ops, core):
    instance_id = ops.start(days=2)
    ops.do("zhangsan", f"/instances/{instance_id}/urge")
    ops.refused("zhangsan", f"/instances/{instance_id}/urge", None, 409)
    with core.db.write() as conn:  # the first 催办 happened two hours ago
        conn.execute(
            update(event_log).where(event_log.c.type == "urged").values(created_at=utcnow() - timedelta(hours=2))
        )
    ops.do("zhangsan", f"/instances/{instance_id}/urge")
    assert len(ops.notifications("sunli", "urge")) == 2


# =================================================================================================
# 代理
# =================================================================================================


def today():
    return to_local(utcnow()).date()


def delegate_to(ops: Ops, user: str, delegate: str, status: int = 201, **extra):
    body = {"delegate": delegate, "starts_on": str(today()), "ends_on": str(today() + timedelta(days=7)), **extra}
    response = ops.api(user).post("/api/v1/delegations", json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_new_items_go_to_the_delegate_marked_as_proxy(ops):
    created = delegate_to(ops, "sunli", "lisi", reason="年假")
    assert {k: created[k] for k in ("delegate", "delegate_name", "processes", "reason", "active", "moved")} == {
        "delegate": "lisi",
        "delegate_name": "李四",
        "processes": [],
        "reason": "年假",
        "active": True,
        "moved": 0,
    }
    assert ops.api("sunli").get("/api/v1/delegations").get_json()["items"][0]["id"] == created["id"]

    instance_id = ops.start(days=2)

    assert ops.items(instance_id) == [("Task_dept_leader", "lisi", "open", None, "代理 孙丽")]
    assert ops.todo("sunli") == []
    assert ops.decide("lisi", instance_id)["status"] == "approved"
    assert [e["actor"] for e in ops.history(instance_id) if e["type"] == "approved"] == ["lisi"]

    # Ended early: the next application goes to sunli again.
    response = ops.api("sunli").client.delete(f"/api/v1/delegations/{created['id']}", headers=ops.api("sunli").headers)
    assert response.status_code == 200 and response.get_json()["active"] is False
    again = ops.start(days=2)
    assert ops.items(again) == [("Task_dept_leader", "sunli", "open", None, None)]


def test_delegation_scope_by_process(ops):
    delegate_to(ops, "sunli", "lisi", processes=["contract_countersign"])
    leave_id = ops.start(days=2)
    assert ops.open_items(leave_id) == [("Task_dept_leader", "sunli")]
    contract_id = ops.start("contract_countersign", **CONTRACT)
    assert ops.items(contract_id) == [("Task_dept_review", "lisi", "open", None, "代理 孙丽")]


def test_delegation_move_existing_items(ops):
    waiting = ops.start(days=2)
    contract_id = ops.start("contract_countersign", **CONTRACT)
    created = delegate_to(ops, "sunli", "lisi", move_existing=True, processes=["leave"])
    assert created["moved"] == 1
    assert ops.items(waiting) == [("Task_dept_leader", "lisi", "open", None, "代理 孙丽")]
    # Out of scope: the contract stays with sunli.
    assert ops.items(contract_id) == [("Task_dept_review", "sunli", "open", None, None)]
    moved = ops.last_event(waiting)
    assert (moved["type"], moved["label"], moved["message"]) == ("proxy_moved", "代理", "孙丽外出，待办交由李四代理")
    assert ops.decide("lisi", waiting)["status"] == "approved"


def test_delegation_refusals(ops):
    def refused(user, body, field, message=None):
        response = ops.api(user).post("/api/v1/delegations", json=body)
        assert response.status_code == 422, response.get_json()
        errors = response.get_json()["errors"]
        assert field in [e["field"] for e in errors]
        if message:
            assert message in [e["message"] for e in errors]

    start, end = str(today()), str(today() + timedelta(days=3))
    refused("sunli", {"delegate": "sunli", "starts_on": start, "ends_on": end}, "delegate", "不能委托给自己")
    refused("sunli", {"delegate": "ghost", "starts_on": start, "ends_on": end}, "delegate", "用户 'ghost' 不存在")
    refused("sunli", {"delegate": "lisi", "starts_on": "明天", "ends_on": end}, "starts_on", "日期格式应为 YYYY-MM-DD")
    refused("sunli", {"delegate": "lisi", "starts_on": end, "ends_on": start}, "ends_on", "结束日期不能早于开始日期")
    far = str(today() + timedelta(days=400))
    refused("sunli", {"delegate": "lisi", "starts_on": start, "ends_on": far}, "ends_on", "代理期限最长一年")
    assert ops.api("sunli").get("/api/v1/delegations").get_json()["items"] == []

    created = delegate_to(ops, "sunli", "lisi")
    refused("sunli", {"delegate": "wangfang", "starts_on": start, "ends_on": end}, "starts_on")
    client, headers = ops.api("lisi").client, ops.api("lisi").headers
    response = client.delete(f"/api/v1/delegations/{created['id']}", headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (404, "代理设置不存在或已结束")
    client, headers = ops.api("sunli").client, ops.api("sunli").headers
    assert client.delete(f"/api/v1/delegations/{created['id']}", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/delegations/{created['id']}", headers=headers).status_code == 404


def test_delegation_starting_later_is_not_in_effect_yet(ops):
    later = today() + timedelta(days=3)
    delegate_to(ops, "sunli", "lisi", starts_on=str(later), ends_on=str(later + timedelta(days=2)))
    instance_id = ops.start(days=2)
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]


# =================================================================================================
# 常用意见 / 签名留痕
# =================================================================================================


def test_phrases(ops):
    sunli = ops.api("sunli")
    defaults = sunli.get("/api/v1/phrases").get_json()["items"]
    assert [p["text"] for p in defaults] == ["同意", "同意，请按规定办理", "请补充材料后再提交", "情况属实，同意"]
    assert all(p["id"] is None for p in defaults)

    response = sunli.post("/api/v1/phrases", json={"text": "  同意，注意安全  "})
    assert response.status_code == 201
    added = response.get_json()
    assert added["text"] == "同意，注意安全"
    assert sunli.post("/api/v1/phrases", json={"text": "同意，注意安全"}).get_json()["id"] == added["id"]
    assert sunli.get("/api/v1/phrases").get_json()["items"] == [added]
    # Each user has their own.
    assert all(p["id"] is None for p in ops.api("lisi").get("/api/v1/phrases").get_json()["items"])

    for text, message in (("", "请填写常用意见"), ("长" * 501, "常用意见最多 500 个字")):
        response = sunli.post("/api/v1/phrases", json={"text": text})
        assert response.status_code == 422
        assert response.get_json()["errors"] == [{"field": "text", "message": message}]

    lisi = ops.api("lisi")
    response = lisi.client.delete(f"/api/v1/phrases/{added['id']}", headers=lisi.headers)
    assert (response.status_code, response.get_json()["error"]) == (404, "常用意见不存在")
    response = sunli.client.delete(f"/api/v1/phrases/{added['id']}", headers=sunli.headers)
    assert response.status_code == 200
    assert [p["id"] for p in sunli.get("/api/v1/phrases").get_json()["items"]] == [None] * 4


def test_phrases_are_limited(ops):
    sunli = ops.api("sunli")
    for n in range(50):
        assert sunli.post("/api/v1/phrases", json={"text": f"意见 {n}"}).status_code == 201
    response = sunli.post("/api/v1/phrases", json={"text": "再来一条"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["message"] == "常用意见最多保存 50 条，请先删除不用的"


def test_signature_is_stored_and_served_to_participants_only(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)

    ops.complete("sunli", item_id, opinion="同意", signature=SIGNATURE)

    approved = [e for e in ops.history(instance_id) if e["type"] == "approved"]
    assert [(e["actor"], e["signed"]) for e in approved] == [("sunli", True)]
    for user in ("zhangsan", "sunli", "huangwei", "admin"):
        response = ops.api(user).get(f"/api/v1/instances/{instance_id}/signatures/{item_id}")
        assert response.status_code == 200
        assert (response.mimetype, response.data) == ("image/png", PNG)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = ops.api("lisi").get(f"/api/v1/instances/{instance_id}/signatures/{item_id}")
    assert (response.status_code, response.get_json()["error"]) == (404, "签名不存在")

    # A decision without a signature, and an item of another instance, have none to serve.
    ops.decide("huangwei", instance_id)
    unsigned = ops.detail(instance_id)["work_items"][1]["id"]
    assert ops.api("zhangsan").get(f"/api/v1/instances/{instance_id}/signatures/{unsigned}").status_code == 404
    other = ops.start(days=2)
    assert ops.api("zhangsan").get(f"/api/v1/instances/{other}/signatures/{item_id}").status_code == 404


def test_signature_as_bare_base64_up_to_64_kb_is_accepted(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    largest = PNG.ljust(64 * 1024, b"\x00")
    ops.complete("sunli", item_id, signature=base64.b64encode(largest).decode())
    assert ops.api("zhangsan").get(f"/api/v1/instances/{instance_id}/signatures/{item_id}").data == largest


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0JFIF").decode(), "签名必须是 PNG 图片"),
        ("data:image/png;base64," + base64.b64encode(b"GIF89a....").decode(), "签名必须是 PNG 图片"),
        ("data:image/png;base64,@@not base64@@", "签名图片数据无效"),
        (
            "data:image/png;base64," + base64.b64encode(PNG.ljust(64 * 1024 + 1, b"\x00")).decode(),
            "签名图片过大（上限 64 KB）",
        ),
    ],
    ids=["jpeg", "not-png", "garbage", "too-large"],
)
def test_bad_signature_is_refused_and_nothing_stored(ops, signature, message):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.field_error(
        "sunli",
        f"/work-items/{item_id}/complete",
        {"decision": "approve", "opinion": "同意", "signature": signature},
        "signature",
        message,
    )


# =================================================================================================
# Node properties: operations, opinion_required, empty_assignee; 自动去重
# =================================================================================================


def test_operations_property_refuses_what_the_node_does_not_allow(ops):
    ops.deploy("ops_form.json", "ops_limited.bpmn")
    instance_id = ops.start("ops_limited", subject="报销差旅费")
    item_id = ops.mine("sunli", instance_id)
    assert ops.item("sunli", item_id)["actions"] == ["approve", "reject", "transfer"]
    assert ops.item("sunli", item_id)["opinion_required"] is True

    ops.refused("sunli", f"/work-items/{item_id}/send-back", {"opinion": "x"}, 403, "本节点不允许退回")
    ops.refused("sunli", f"/work-items/{item_id}/delegate", {"to_user": "lisi"}, 403, "本节点不允许委派")
    add = {"users": ["lisi"], "position": "before"}
    ops.refused("sunli", f"/work-items/{item_id}/add-signers", add, 403, "本节点不允许加签")
    ops.refused("sunli", f"/work-items/{item_id}/remove-signers", {"users": ["lisi"]}, 403, "本节点不允许减签")
    ops.refused("sunli", f"/instances/{instance_id}/cc", {"users": ["lisi"]}, 403, "本节点不允许知会")
    assert "cc" not in ops.detail(instance_id, "sunli")["actions"]

    # opinion_required: 同意 needs an opinion here.
    required = "本节点要求填写审批意见"
    ops.field_error("sunli", f"/work-items/{item_id}/complete", {"decision": "approve"}, "opinion", required)

    # 转办 is allowed; the new holder is bound by the same node.
    ops.do("sunli", f"/work-items/{item_id}/transfer", {"to_user": "lisi"})
    lisi_item = ops.mine("lisi", instance_id)
    ops.complete("lisi", lisi_item, opinion="已受理")

    # 审批 allows no operation at all, and 受理 does not allow 撤回.
    huangwei_item = ops.mine("huangwei", instance_id)
    assert ops.item("huangwei", huangwei_item)["actions"] == ["approve", "reject"]
    ops.refused("huangwei", f"/work-items/{huangwei_item}/transfer", {"to_user": "lisi"}, 403, "本节点不允许转办")
    assert ops.item("lisi", lisi_item)["actions"] == []
    ops.refused("lisi", f"/work-items/{lisi_item}/recall", None, 403, "本节点不允许撤回")
    # Approving without an opinion is fine where it is not required.
    assert ops.complete("huangwei", huangwei_item, opinion=None)["status"] == "approved"


def test_empty_assignee_skip_and_admin(ops):
    ops.deploy("ops_form.json", "ops_empty.bpmn")

    instance_id = ops.start("ops_empty", subject="无人审批", approver="zhengqiang")

    # 初审 (skip) passes on its own; 复审 (admin) goes to the process administrator wangfang.
    assert ops.open_items(instance_id) == [("Task_b", "wangfang")]
    history = ops.history(instance_id)
    assert [event(e) for e in history[1:3]] == [
        ("skipped", "跳过", None, "Task_a", "按规则找不到审批人，按节点设置跳过"),
        ("no_assignee", "无审批人", None, "Task_b", "按规则（field:checker）未找到审批人，已转交流程管理员"),
    ]
    ops.decide("wangfang", instance_id)
    assert ops.open_items(instance_id) == [("Task_c", "zhengqiang")]
    assert ops.decide("zhengqiang", instance_id)["status"] == "approved"


def test_empty_assignee_refuse(ops):
    ops.deploy("ops_form.json", "ops_empty.bpmn")
    instance_id = ops.start("ops_empty", subject="没有终审人", reviewer="sunli", checker="huangwei")
    ops.decide("sunli", instance_id)
    item_id = ops.mine("huangwei", instance_id)

    ops.refused(
        "huangwei",
        f"/work-items/{item_id}/complete",
        {"decision": "approve"},
        409,
        "节点“终审”按规则找不到审批人，无法继续：请联系管理员检查组织架构或流程设置",
    )
    assert ops.open_items(instance_id) == [("Task_b", "huangwei")]


def test_the_same_approver_twice_in_a_row_is_approved_automatically(ops):
    ops.deploy("ops_form.json", "ops_empty.bpmn")
    instance_id = ops.start("ops_empty", subject="同一人", reviewer="huangwei", checker="huangwei", approver="sunli")

    ops.decide("huangwei", instance_id, opinion="同意")

    assert ops.open_items(instance_id) == [("Task_c", "sunli")]
    auto = ops.history(instance_id)[-1]
    assert event(auto) == ("auto_approved", "自动通过", "huangwei", "Task_b", "与上一节点审批人相同，自动通过")
    assert auto["decision"] == "approve"
    assert [i[:2] for i in ops.items(instance_id)] == [("Task_a", "huangwei"), ("Task_c", "sunli")]


# =================================================================================================
# 合同会签 helpers (the contract flow itself is in test_contract.py)
# =================================================================================================


def at_contract_countersign(ops: Ops) -> int:
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id, opinion="部门同意")
    assert ops.open_items(instance_id) == [("Task_countersign", "chenjing"), ("Task_countersign", "zhaolei")]
    return instance_id


def test_after_a_send_back_the_node_needs_a_new_decision(ops):
    # 退回 to 分管领导审批: huangwei's 同意 from the first round no longer counts. He adds lisi in parallel;
    # lisi's approval alone must not pass the node.
    instance_id = at_gm(ops)
    ops.do("zhengqiang", f"/work-items/{ops.mine('zhengqiang', instance_id)}/send-back", {"opinion": "请再核实"})
    item_id = ops.mine("huangwei", instance_id)
    ops.do("huangwei", f"/work-items/{item_id}/add-signers", {"users": ["lisi"], "position": "parallel"})

    ops.decide("lisi", instance_id)

    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]
    ops.complete("huangwei", item_id)
    assert ops.open_items(instance_id) == [("Task_gm", "zhengqiang")]


# --- follow-ups from reviewing the operations --------------------------------------------------


def test_cc_reader_marks_it_read_through_the_api(ops):
    instance_id = ops.start(days=2)
    ops.decide("sunli", instance_id)  # the flow ends with a 知会 copy for liuyang (人事部)
    cc_box = lambda: ops.api("liuyang").get("/api/v1/work-items?box=cc").get_json()["items"]  # noqa: E731
    assert [(i["instance_id"], i["read"]) for i in cc_box()] == [(instance_id, False)]
    assert ops.do("liuyang", f"/instances/{instance_id}/read") == {"id": instance_id, "read": True}
    assert [(i["instance_id"], i["read"]) for i in cc_box()] == [(instance_id, True)]
    outsider = ops.api("lisi").post(f"/api/v1/instances/{instance_id}/read")
    assert outsider.status_code == 404


def test_blank_user_names_ask_to_choose_someone(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.field_error(
        "sunli",
        f"/work-items/{item_id}/add-signers",
        {"users": ["", "  "], "position": "parallel"},
        "users",
        "请至少选择一个人",
    )
    ops.field_error("sunli", f"/work-items/{item_id}/transfer", {"to_user": ""}, "to_user", "请至少选择一个人")


def test_send_back_targets_are_empty_where_send_back_is_not_allowed(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/delegate", {"to_user": "lisi", "opinion": "请核实"})
    lisi_item = ops.mine("lisi", instance_id)
    targets = ops.api("lisi").get(f"/api/v1/work-items/{lisi_item}/send-back-targets").get_json()
    assert targets == {"items": []}
