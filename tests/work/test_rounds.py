"""轮次 after a 重新提交, below HTTP: the 流转记录 labels each event with its round, the approvers of the next
round see which fields the drafter changed (with the earlier values), and the timeline of nodes a phone
shows puts a node reached again in a step of its own."""

from __future__ import annotations

from sqlalchemy import select
from support import CONTRACT

from engine.org import users
from engine.store.tables import work_item
from engine.work import decisions
from engine.work.views import detail as details
from engine.work.views import timeline


def me(core, username: str) -> users.User:
    with core.db.read() as conn:
        return users.require_user(conn, username)


def open_item(core, username: str, instance_id: int) -> int:
    with core.db.read() as conn:
        (item_id,) = conn.execute(
            select(work_item.c.id).where(
                work_item.c.instance_id == instance_id,
                work_item.c.assignee_id == me(core, username).id,
                work_item.c.status == "open",
            )
        ).scalars()
        return item_id


def decide(core, username: str, instance_id: int, decision: str = "approve", opinion: str = "同意", data=None):
    return decisions.complete(core, username, open_item(core, username, instance_id), data, decision, opinion)


def countersign_signers(ops, instance_id: int) -> list[str]:
    return [user for node, user in ops.open_items(instance_id)]


def rejected_then_resubmitted(ops, core, **changes) -> int:
    """合同会签: the department agrees, one 会签 signer says 不同意, the drafter resubmits with `changes`."""
    instance_id = ops.start("contract_countersign", **CONTRACT)
    decide(core, "sunli", instance_id, opinion="部门同意")
    decide(core, "chenjing", instance_id, "reject", "付款条件不符合财务制度")
    decide(core, "zhangsan", instance_id, data={**CONTRACT, **changes}, opinion=None)
    ops.check()
    return instance_id


def test_the_history_labels_its_rounds_after_a_resubmission(ops, core):
    instance_id = rejected_then_resubmitted(ops, core, payment_terms="分两期支付")
    decide(core, "sunli", instance_id, opinion="部门同意（第二次）")

    detail = details.get_instance(core, me(core, "admin"), instance_id)
    assert detail["rounds"] == 2
    events = [(e["type"], e["actor"], e["round"]) for e in detail["history"] if e["type"] != "started"]
    assert ("rejected", "chenjing", 1) in events
    assert ("resubmitted", "zhangsan", 1) in events  # the resubmission closes round 1
    assert events[-1] == ("approved", "sunli", 2)
    resubmitted = next(e for e in detail["history"] if e["type"] == "resubmitted")
    assert resubmitted["message"] == "发起人修改后重新提交，修改了：付款方式"


def test_a_first_round_has_no_round_labels(ops, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    decide(core, "sunli", instance_id)
    detail = details.get_instance(core, me(core, "admin"), instance_id)
    assert detail["rounds"] == 1 and {e["round"] for e in detail["history"]} == {1}


def test_the_next_rounds_approvers_see_the_changed_fields_with_their_earlier_values(ops, core):
    instance_id = ops.start("contract_countersign", **CONTRACT, attachments_note="见附件")
    decide(core, "sunli", instance_id)
    decide(core, "chenjing", instance_id, "reject", "付款条件不符合财务制度")
    changes = {"payment_terms": "分两期支付", "amount": 150000}  # and 附件说明 left empty this time
    decide(core, "zhangsan", instance_id, data={**CONTRACT, **changes}, opinion=None)

    changed = details.get_work_item(core, me(core, "sunli"), open_item(core, "sunli", instance_id))["changed"]
    assert changed == {"amount": 120000, "payment_terms": "验收后付清", "attachments_note": "见附件"}

    decide(core, "sunli", instance_id)
    for signer in countersign_signers(ops, instance_id):  # the 会签 of round 2 sees the same changes
        item = details.get_work_item(core, me(core, signer), open_item(core, signer, instance_id))
        assert item["changed"] == changed, signer


def test_an_unchanged_resubmission_marks_nothing(ops, core):
    instance_id = rejected_then_resubmitted(ops, core)
    assert details.get_work_item(core, me(core, "sunli"), open_item(core, "sunli", instance_id))["changed"] == {}
    history = details.get_instance(core, me(core, "admin"), instance_id)["history"]
    assert next(e for e in history if e["type"] == "resubmitted")["message"] == "发起人修改后重新提交，未修改内容"


def test_the_first_rounds_items_show_no_changes(ops, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    first = open_item(core, "sunli", instance_id)
    rejected_round = rejected_then_resubmitted(ops, core, amount=99000)
    assert rejected_round != instance_id
    assert details.get_work_item(core, me(core, "sunli"), first)["changed"] == {}
    # sunli's decided item of round 1 in the resubmitted application shows none either
    with core.db.read() as conn:
        done = conn.execute(
            select(work_item.c.id).where(
                work_item.c.instance_id == rejected_round,
                work_item.c.assignee_id == me(core, "sunli").id,
                work_item.c.status == "done",
            )
        ).scalar()
    assert details.get_work_item(core, me(core, "sunli"), done)["changed"] == {}


def test_the_timeline_gives_a_node_reached_again_a_step_of_its_own(ops, core):
    instance_id = rejected_then_resubmitted(ops, core, amount=99000)
    detail = details.get_instance(core, me(core, "admin"), instance_id)
    steps = [(s["name"], s["state"], s["round"]) for s in timeline.steps(detail)]
    assert steps[0] == ("发起", "done", 1)
    department = steps[1][0]
    countersign = steps[2][0]
    assert steps[1:] == [
        (department, "done", 1),
        (countersign, "done", 1),
        ("发起人修改后重新提交", "done", 1),
        (department, "current", 2),
    ]
    rejected = timeline.steps(detail)[2]["people"]
    assert {(p["decision"], p["opinion"]) for p in rejected if p["status"] == "done"} == {
        ("reject", "付款条件不符合财务制度")
    }
