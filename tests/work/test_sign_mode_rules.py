"""The sign-mode arithmetic (signing.outcome_of) on its own: which decisions pass a node, reject it, or leave
it pending — for 单人, 会签, 或签, 依次, 比例 and 意见征集, with 加签 signers and handed-over items."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.process.model import Node
from engine.process.policy import policy_of
from engine.work.signing import outcome_of


def policy(mode: str, **props):
    return policy_of(Node("n", "userTask", "节点", None, properties={"sign_mode": mode, **props}))


def item(status="open", decision=None, origin="rule"):
    return SimpleNamespace(status=status, decision=decision, origin=origin)


APPROVED = item("done", "approve")
REJECTED = item("done", "reject")
OPEN = item()
WAITING = item("waiting")


@pytest.mark.parametrize(
    ("mode", "items", "expected"),
    [
        ("single", [OPEN], "pending"),
        ("single", [APPROVED], "pass"),
        ("single", [APPROVED, item("cancelled")], "pass"),  # a role of several: the first decision counts
        ("any", [OPEN, APPROVED, OPEN], "pass"),
        ("all", [APPROVED, OPEN, APPROVED], "pending"),
        ("all", [APPROVED, APPROVED, APPROVED], "pass"),
        ("sequential", [APPROVED, WAITING], "pending"),
        ("sequential", [APPROVED, APPROVED], "pass"),
        ("collect", [APPROVED, REJECTED], "pass"),  # opinion collection: everyone spoke, nobody vetoes
        ("all", [], "pending"),  # nobody signed yet: never passes by default
    ],
)
def test_when_a_node_passes(mode, items, expected):
    assert outcome_of(policy(mode), items) == expected


@pytest.mark.parametrize(
    ("ratio", "decisions", "expected"),
    [
        ("2/3", ["approve", "approve", None], "pass"),  # 2 of 3 reached before the third signs
        ("2/3", ["approve", "reject", None], "pending"),  # the third decides it
        ("2/3", ["reject", "reject", None], "reject"),  # 2 of 3 can no longer be reached
        ("0.5", ["approve", None, None, None], "pending"),
        ("0.5", ["approve", "approve", None, None], "pass"),
        ("1", ["approve", "approve", "reject"], "reject"),
    ],
)
def test_ratio_voting(ratio, decisions, expected):
    items = [item("done", d) if d else OPEN for d in decisions]
    assert outcome_of(policy("ratio", ratio=ratio), items) == expected


def test_added_signers_hold_the_node_until_they_act():
    after = item("open", origin="add_after")
    assert outcome_of(policy("single"), [APPROVED, after]) == "pending"
    assert outcome_of(policy("single"), [APPROVED, item("done", "approve", "add_after")]) == "pass"
    # removed by 减签: no longer waited for
    assert outcome_of(policy("single"), [APPROVED, item("cancelled", origin="add_after")]) == "pass"
    # a ratio already reached does not wait for an added signer
    assert outcome_of(policy("ratio", ratio="1/2"), [APPROVED, OPEN, after]) == "pass"


def test_an_item_handed_over_is_not_a_vote():
    handed_over = item("done", "transfer")
    new_holder = item("open", origin="transfer")
    assert outcome_of(policy("all"), [handed_over, new_holder, APPROVED]) == "pending"
    assert outcome_of(policy("all"), [handed_over, item("done", "approve", "transfer"), APPROVED]) == "pass"


@pytest.mark.parametrize(("ratio", "signers", "required"), [("2/3", 3, 2), ("2/3", 4, 3), ("0.5", 5, 3), ("1", 1, 1)])
def test_required_approvals_round_up(ratio, signers, required):
    assert policy("ratio", ratio=ratio).required_approvals(signers) == required
