"""Per-node approval policy, read from a user task's extension properties.

sign_mode        single | all (会签) | any (或签) | sequential (依次) | ratio (比例) | collect (意见征集)
ratio            for sign_mode=ratio: "2/3" or "0.6"
reject_rule      end (default: the instance ends as 不通过) | initiator (back to the drafter) | node:<id>
resubmit         rewalk (default: walk the route again) | direct (straight back to the node that 退回'd)
opinion_required true | false (不同意 and 退回 always need one)
empty_assignee   admin (default: the process administrator) | skip | refuse
skip_note        with empty_assignee=skip: what the 流转记录 says when the step is skipped, in the office's words
                 (收文 签收 registered by hand: "手工登记的来文，无需签收"); default: that nobody was found
operations       the operations allowed here (default: all), e.g. "send_back, transfer, cc"
due_days         the node's own time limit in working days (instead of the priority's 1/2/3)
due_hours        the node's own time limit in working hours
remind_hours     the early reminder (即将超时), working hours before the due time (default 2; 0: none)
on_expiry        remind (default: remind, then escalate to the leaders) | approve | transfer
freeze_files     file fields (comma-separated, e.g. "body") that take no new version once this node has
                 completed, until the flow comes back to it (退回): 正文 is final once 签发 signed it
doc_no           allocate: completing this node gives the instance its 发文字号 (示例办发〔2026〕12号) from the
                 counter of its `doc_prefix` and the office-time year, once (engine.work.kernel.doc_numbers)
require_read     true | false: the node's work items cannot be approved while a 传阅 reader has not read
batch            true | false (default): 批量审批 — the signers may approve several items of this node at
                 once with one opinion. Only on a 单人审批 node whose form asks for nothing but the
                 decision and the opinion (no required field): `batch_problems` checks both at deploy.

On an end event:
outcome          approved (default: the instance ends 已通过) | rejected (不通过, the end event's name the reason:
                 收文 退回来文单位, 请示 批复不同意)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from engine.process.model import Node

SIGN_MODES = {
    "single": "单人审批",
    "all": "会签",
    "any": "或签",
    "sequential": "依次审批",
    "ratio": "比例通过",
    "collect": "意见征集",
}
OPERATIONS = {
    "send_back": "退回",
    "transfer": "转办",
    "delegate": "委派",
    "add_signers": "加签",
    "remove_signers": "减签",
    "cc": "知会",
    "recall": "撤回",
    "circulate": "传阅",
}
ON_EXPIRY = {"remind": "提醒并督办", "approve": "自动通过", "transfer": "转交上级"}
DEFAULT_REMIND_HOURS = 2.0
EMPTY_ASSIGNEE = {"admin", "skip", "refuse"}
END_OUTCOMES = {"approved": "已通过", "rejected": "不通过"}
BATCH_FIELDS = {"decision", "opinion"}  # what a batch approval gives each item
RESUBMIT = {"rewalk", "direct"}
DOC_NO = {"allocate"}
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}


@dataclass(frozen=True)
class NodePolicy:
    sign_mode: str = "single"
    ratio: Fraction = Fraction(1)
    reject_rule: str = "end"
    resubmit: str = "rewalk"
    opinion_required: bool = False
    empty_assignee: str = "admin"
    skip_note: str = ""
    operations: frozenset[str] = frozenset(OPERATIONS)
    # The node's own time limit: ("days", n) or ("hours", n); None: the instance's priority decides.
    time_limit: tuple[str, float] | None = None
    remind_minutes: float = DEFAULT_REMIND_HOURS * 60
    on_expiry: str = "remind"
    freeze_files: frozenset[str] = frozenset()
    allocates_doc_no: bool = False  # doc_no="allocate"
    require_read: bool = False  # 阅毕方可办结: approving waits until every 传阅 reader has read
    batch: bool = False

    @property
    def vetoes(self) -> bool:
        """Whether one 不同意 applies the reject rule (not in opinion collection or ratio voting)."""
        return self.sign_mode not in {"collect", "ratio"}

    def required_approvals(self, signers: int) -> int:
        return max(1, math.ceil(self.ratio * signers))


def _ratio(text: str) -> Fraction:
    value = Fraction(text.strip()).limit_denominator(1000)
    if not 0 < value <= 1:
        raise ValueError(text)
    return value


def _time_limit(props: dict) -> tuple[str, float] | None:
    """due_hours (working hours) or due_days (whole working days); unreadable values are ignored."""
    for kind, key in (("hours", "due_hours"), ("days", "due_days")):
        raw = str(props.get(key, "") or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value > 0 and (kind == "hours" or value == int(value)):
            return kind, value
    return None


def _remind_minutes(props: dict) -> float:
    raw = props.get("remind_hours")
    try:
        value = float(raw) if raw not in (None, "") else DEFAULT_REMIND_HOURS
    except ValueError:
        value = DEFAULT_REMIND_HOURS
    return max(0.0, value) * 60


def _names(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]


def _on_expiry(props: dict) -> str:
    value = (props.get("on_expiry") or "remind").strip().lower()
    return value if value in ON_EXPIRY else "remind"


def _flag(props: dict, key: str) -> bool:
    return str(props.get(key, "false")).strip().lower() in TRUE_WORDS


_DEFAULT = NodePolicy()
_CACHED = "_oaflow_policy"  # a compiled node's properties never change: read them once


def policy_of(node: Node | None) -> NodePolicy:
    """The node's policy from its properties (the defaults for no node at all)."""
    if node is None:
        return _DEFAULT
    found = node.__dict__.get(_CACHED)
    if found is None:
        found = node.__dict__[_CACHED] = _read(node.properties)
    return found


def _flag(props: dict, key: str) -> bool:
    return str(props.get(key, "false")).strip().lower() in {"true", "1", "yes"}


def _read(props: dict) -> NodePolicy:
    ops = props.get("operations")
    return NodePolicy(
        sign_mode=props.get("sign_mode", "single"),
        ratio=_ratio(props["ratio"]) if props.get("ratio") else Fraction(1),
        reject_rule=props.get("reject_rule", "end").strip(),
        resubmit=props.get("resubmit", "rewalk"),
        opinion_required=_flag(props, "opinion_required"),
        empty_assignee=props.get("empty_assignee", "admin"),
        skip_note=(props.get("skip_note") or "").strip(),
        operations=frozenset(p.strip() for p in ops.replace("，", ",").split(",") if p.strip())
        if ops is not None
        else frozenset(OPERATIONS),
        time_limit=_time_limit(props),
        remind_minutes=_remind_minutes(props),
        on_expiry=_on_expiry(props),
        freeze_files=frozenset(_names(props.get("freeze_files"))),
        allocates_doc_no=(props.get("doc_no") or "").strip() == "allocate",
        require_read=_flag(props, "require_read"),
        batch=_flag(props, "batch"),
    )


def problems(node: Node, node_ids: set[str]) -> list[str]:
    """What is wrong with a node's policy properties, for deploy-time validation."""
    props = node.properties
    found = []
    mode = props.get("sign_mode", "single")
    if mode not in SIGN_MODES:
        found.append(f"sign_mode '{mode}' 无效（可用：{', '.join(SIGN_MODES)}）")
    if props.get("ratio"):
        try:
            _ratio(props["ratio"])
        except (ValueError, ZeroDivisionError):
            found.append(f"ratio '{props['ratio']}' 无效：应为 0 到 1 之间的比例，例如 2/3")
    elif mode == "ratio":
        found.append("sign_mode=ratio 需要设置 ratio，例如 2/3")
    rule = props.get("reject_rule", "end").strip()
    if rule not in {"end", "initiator"}:
        kind, _, target = rule.partition(":")
        if kind != "node" or not target:
            found.append(f"reject_rule '{rule}' 无效（可用：end、initiator、node:<节点id>）")
        elif target not in node_ids:
            found.append(f"reject_rule 指向的节点 '{target}' 不存在")
    if props.get("resubmit", "rewalk") not in RESUBMIT:
        found.append(f"resubmit '{props['resubmit']}' 无效（可用：rewalk、direct）")
    if props.get("empty_assignee", "admin") not in EMPTY_ASSIGNEE:
        found.append(f"empty_assignee '{props['empty_assignee']}' 无效（可用：admin、skip、refuse）")
    if str(props.get("require_read", "false")).strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
        found.append(f"require_read '{props['require_read']}' 无效（可用：true、false）")
    for op in (props.get("operations") or "").replace("，", ",").split(","):
        if op.strip() and op.strip() not in OPERATIONS:
            found.append(f"operations 中的 '{op.strip()}' 无效（可用：{', '.join(OPERATIONS)}）")
    for name in _names(props.get("freeze_files")):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            found.append(f"freeze_files 中的 '{name}' 不是有效的字段名")
    if "doc_no" in props and props["doc_no"].strip() not in DOC_NO:
        found.append(f"doc_no '{props['doc_no']}' 无效（可用：allocate，即本节点办结时编发文字号）")
    batch = str(props.get("batch", "false")).strip().lower()
    if batch not in TRUE_WORDS | FALSE_WORDS:
        found.append(f"batch '{props['batch']}' 无效（可用：true、false）")
    elif batch in TRUE_WORDS and mode != "single":
        found.append(f"batch=true（批量审批）只能用于单人审批节点，本节点是 {SIGN_MODES.get(mode, mode)}")
    return found


def end_outcome(node: Node) -> str:
    """The status an instance ends with when it reaches this end event: approved or rejected."""
    value = (node.properties.get("outcome") or "approved").strip()
    return value if value in END_OUTCOMES else "approved"


def end_problems(node: Node) -> list[str]:
    """What is wrong with an end event's properties, for deploy-time validation."""
    value = (node.properties.get("outcome") or "approved").strip()
    if value not in END_OUTCOMES:
        return [f"outcome '{value}' 无效（可用：approved、rejected）"]
    return []


def batch_problems(node: Node, form: dict | None) -> list[str]:
    """What keeps a node with batch=true from 批量审批 with its form: a required field other than the
    decision and the opinion (a batch carries nothing but one opinion)."""
    if not policy_of(node).batch or not form:
        return []
    required = [name for name in form.get("required", []) if name not in BATCH_FIELDS]
    if not required:
        return []
    titles = [str(form.get("properties", {}).get(name, {}).get("title") or name) for name in required]
    return [f"batch=true（批量审批）的节点表单不能有必填字段：{'、'.join(titles)}"]
