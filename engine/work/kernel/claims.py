"""Claims against a budget (费用报销): a process with the property `budget` (`refuse` or `warn`) whose start
form marks its fields with `x-budget` — `department` (the department's name), `category` (费用类型) and
`amount` (the claim's total) — checks the claim against that budget of the year it is submitted in (office
time) and holds the amount (engine.budget.ledger).

Over budget, `refuse` stops the submission with the figures, naming the amount field; `warn` lets it go on
with the figures as a warning and sets `budget_over` in the instance's data, for a gateway to route it to an
extra step. The hold is placed at 发起, placed again at 重新提交 (the total may have changed), consumed when
the instance ends 已通过 (the last step is the cashier's 付款登记) and released when it ends otherwise
(不通过, 撤销, 终止)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.engine import Connection

from engine.budget import amounts, ledger
from engine.errors import FieldError, InvalidData
from engine.org import directory, users
from engine.process.model import BUDGET_FLAG, BUDGET_ROLES, ProcessModel
from engine.store.tables import utcnow
from engine.time.office_hours import load_office_hours

MARK = "x-budget"
ROLES = BUDGET_ROLES
FLAG = BUDGET_FLAG  # in the instance's data: the claim went on over its budget (`warn`)


@dataclass(frozen=True)
class Claim:
    target: ledger.Line | None  # None: the department has no budget for this category and year
    amount: amounts.Decimal
    verdict: amounts.Verdict
    what: str  # 业务部 2026 年差旅费

    @property
    def flags(self) -> dict:
        return {FLAG: self.verdict.over}

    @property
    def warning(self) -> str | None:
        return f"超出预算：{self.verdict.message(self.what)}" if self.verdict.over else None


def mode_of(model: ProcessModel) -> str | None:
    return model.budget_mode


def fields_of(schema: dict) -> dict[str, str]:
    """{role: field name} of the fields the form marks with x-budget."""
    return {
        prop[MARK]: name
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict) and prop.get(MARK) in ROLES
    }


def budget_year(conn: Connection, now: datetime | None = None) -> int:
    """The year a claim submitted now counts in: the office's calendar year."""
    now = now or utcnow()
    if now.tzinfo is None:  # the database's times are naive UTC
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(load_office_hours(conn).tz).year


def check(conn: Connection, model: ProcessModel, schema: dict, cleaned: dict) -> Claim | None:
    """The claim the form's data makes, its budget row locked; InvalidData with the figures when it is over
    budget and the process refuses that. None for a process without budget control."""
    mode, marked = mode_of(model), fields_of(schema)
    if mode is None or set(marked) != set(ROLES):
        return None
    dept_name, category = cleaned.get(marked["department"]), cleaned.get(marked["category"])
    if not dept_name or not category or cleaned.get(marked["amount"]) is None:
        return None  # the form's own rules already named what is missing
    claim = amounts.money(cleaned[marked["amount"]])
    year = budget_year(conn)
    target = ledger.line(conn, ledger.department_id(conn, dept_name, marked["department"]), category, year, lock=True)
    left = target.left if target else amounts.Decimal(0)
    result = Claim(target, claim, amounts.judge(left, claim), f"{dept_name} {year} 年{category}")
    if result.verdict.over and mode == "refuse":
        raise InvalidData([FieldError(marked["amount"], f"超出预算，不能提交：{result.verdict.message(result.what)}")])
    return result


def place(conn: Connection, claim: Claim | None, instance_id: int) -> None:
    """Hold the claim's amount of its budget (over it, too, when the process lets such a claim go on)."""
    if claim is None or claim.target is None:
        return
    if not ledger.reserve(conn, claim.target, instance_id, claim.amount, allow_over=claim.verdict.over):
        raise InvalidData([FieldError("amount", f"超出预算，不能提交：{claim.what}预算余额不足")])


def settle(conn: Connection, model: ProcessModel, instance_id: int, status: str) -> None:
    """At the end of an instance: its hold is consumed (已通过: paid) or released (any other end)."""
    if mode_of(model) is not None:
        ledger.settle(conn, instance_id, "consumed" if status == "approved" else "released")


def revise(conn: Connection, model: ProcessModel, schema: dict, cleaned: dict, instance_id: int) -> Claim | None:
    """重新提交: the old hold is released and the corrected claim checked and held again."""
    if mode_of(model) is None:
        return None
    ledger.drop_hold(conn, instance_id)
    claim = check(conn, model, schema, cleaned)
    place(conn, claim, instance_id)
    return claim


def remaining(conn: Connection, model: ProcessModel, user: users.User) -> dict | None:
    """What is left this year of the user's department's budgets, per 费用类型, as a claim's form shows it
    (None for a process without budget control)."""
    mode = mode_of(model)
    if mode is None:
        return None
    dept = directory.department_name(conn, user.department_id)
    year = budget_year(conn)
    found = {b.category: b for b in ledger.lines(conn, year=year, department_name=dept)} if dept else {}
    return {
        "department": dept,
        "year": year,
        "mode": mode,
        "categories": [
            {
                "category": c,
                "remaining": str(found[c].left) if c in found else None,
                "text": amounts.yuan(found[c].left) if c in found else None,
            }
            for c in amounts.CATEGORIES
        ],
    }


def form_defaults(conn: Connection, schema: dict, user: users.User) -> dict:
    """The start form's values filled in for the user: `default`, and `x-default` — `initiator_name` (the
    user's name) or `initiator_department` (their department's)."""
    found = {}
    for name, prop in schema.get("properties", {}).items():
        if "default" in prop:
            found[name] = prop["default"]
        elif prop.get("x-default") == "initiator_name":
            found[name] = user.display_name
        elif prop.get("x-default") == "initiator_department":
            found[name] = directory.department_name(conn, user.department_id) or ""
    return found
