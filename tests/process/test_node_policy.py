"""Node properties read into a NodePolicy: sign modes, reject rules, operations, time limits, reminders and
what happens on expiry — and what deploy-time validation says about bad values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from engine.process.model import Node
from engine.process.policy import NodePolicy, batch_problems, policy_of, problems


def node(**props) -> Node:
    return Node("Task_a", "userTask", "审批", 3, properties={k: str(v) for k, v in props.items()})


def test_defaults_when_a_node_says_nothing():
    assert policy_of(None) == NodePolicy()
    default = policy_of(node())
    assert (default.sign_mode, default.reject_rule, default.resubmit, default.empty_assignee) == (
        "single",
        "end",
        "rewalk",
        "admin",
    )
    assert (default.time_limit, default.remind_minutes, default.on_expiry) == (None, 120, "remind")
    assert "send_back" in default.operations and not default.opinion_required


def test_properties_are_read():
    read = policy_of(node(sign_mode="ratio", ratio="2/3", operations="send_back， transfer", opinion_required="yes"))
    assert read.ratio == Fraction(2, 3)
    assert read.operations == frozenset({"send_back", "transfer"})
    assert read.opinion_required and not read.vetoes


@pytest.mark.parametrize(
    ("props", "limit"),
    [
        ({"due_days": "5"}, ("days", 5.0)),
        ({"due_hours": "4.5"}, ("hours", 4.5)),
        ({"due_hours": "4", "due_days": "2"}, ("hours", 4.0)),  # hours win
        ({"due_days": "1.5"}, None),  # working days are whole days
        ({"due_days": "abc"}, None),  # unreadable: the priority decides
        ({"due_hours": "-1"}, None),
    ],
)
def test_time_limits(props, limit):
    assert policy_of(node(**props)).time_limit == limit


@pytest.mark.parametrize(
    ("props", "minutes", "on_expiry"),
    [
        ({"remind_hours": "0"}, 0, "remind"),
        ({"remind_hours": "1.5", "on_expiry": "APPROVE"}, 90, "approve"),
        ({"remind_hours": "x", "on_expiry": "transfer"}, 120, "transfer"),
        ({"on_expiry": "escalate"}, 120, "remind"),  # unknown: the default
    ],
)
def test_reminders_and_expiry(props, minutes, on_expiry):
    read = policy_of(node(**props))
    assert (read.remind_minutes, read.on_expiry) == (minutes, on_expiry)


def test_validation_names_each_bad_value():
    found = problems(
        node(sign_mode="most", ratio="3/2", reject_rule="node:Task_x", resubmit="jump", operations="approve"),
        {"Task_a"},
    )
    assert found == [
        "sign_mode 'most' 无效（可用：single, all, any, sequential, ratio, collect）",
        "ratio '3/2' 无效：应为 0 到 1 之间的比例，例如 2/3",
        "reject_rule 指向的节点 'Task_x' 不存在",
        "resubmit 'jump' 无效（可用：rewalk、direct）",
        "operations 中的 'approve' 无效（可用：send_back, transfer, delegate, add_signers, remove_signers, cc, recall, circulate）",  # noqa: E501
    ]


# --- batch (批量审批) ---------------------------------------------------------------------------------------


def test_batch_is_off_unless_a_node_says_true():
    assert not policy_of(node()).batch
    assert policy_of(node(batch="true")).batch and policy_of(node(batch="YES")).batch
    assert not policy_of(node(batch="false")).batch


def test_batch_is_refused_at_deploy_when_misspelled_or_on_a_countersign():
    assert problems(node(batch="true"), {"Task_a"}) == []
    assert problems(node(batch="maybe"), {"Task_a"}) == ["batch 'maybe' 无效（可用：true、false）"]
    assert problems(node(batch="true", sign_mode="all"), {"Task_a"}) == [
        "batch=true（批量审批）只能用于单人审批节点，本节点是 会签"
    ]


def test_batch_needs_a_form_without_required_fields_beyond_the_opinion():
    plain = {"type": "object", "properties": {"opinion": {"type": "string"}}, "required": ["opinion"]}
    asking = {
        "type": "object",
        "properties": {"amount": {"type": "number", "title": "核定金额"}},
        "required": ["amount"],
    }
    assert batch_problems(node(batch="true"), plain) == []
    assert batch_problems(node(batch="true"), None) == []
    assert batch_problems(node(), asking) == []  # not a batch node: nothing to say
    assert batch_problems(node(batch="true"), asking) == ["batch=true（批量审批）的节点表单不能有必填字段：核定金额"]
