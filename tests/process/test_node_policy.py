"""Node properties read into a NodePolicy: sign modes, reject rules, operations, time limits, reminders and
what happens on expiry — and what deploy-time validation says about bad values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from engine.process.model import Node
from engine.process.policy import NodePolicy, policy_of, problems


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
