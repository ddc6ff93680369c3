"""预算管理: each department's budget per 费用类型 and year — listed, set one by one, imported from Excel, CSV
or an ERP's JSON — and what is left of them for someone filling in a claim.

Administrators keep the budgets (engine.org.users.may_manage_doc_numbers is the same rule: the
administrators); an import is checked row by row and stored all at once or not at all."""

from __future__ import annotations

from engine import fields
from engine.budget import amounts, imports, ledger
from engine.errors import FieldError, Forbidden, InvalidData
from engine.org import directory, users
from engine.process import definitions
from engine.work import frame
from engine.work.kernel import claims

MANAGERS_ONLY = "只有管理员可以管理预算"
READERS = {"csv": imports.from_csv, "xlsx": imports.from_xlsx, "json": imports.from_json}


def _manager(conn, username: str) -> users.User:
    user = users.require_user(conn, username)
    if not user.is_admin:
        raise Forbidden(MANAGERS_ONLY)
    return user


def _year(value, field: str = "year") -> int | None:
    if value is None or value == "":
        return None
    return fields.integer(value, field, "年度", low=imports.YEAR_MIN, high=imports.YEAR_MAX)


def list_budgets(core, username: str, year=None, department=None) -> list[dict]:
    """The budgets, newest year first, optionally of one year or department."""
    with core.db.read() as conn:
        _manager(conn, username)
        name = fields.optional_text(department, "department", "部门", max_length=100)
        return [b.as_dict() for b in ledger.lines(conn, year=_year(year), department_name=name)]


def budgets_page(core, username: str, year=None) -> dict:
    """预算管理: the year's budgets (this year by default), the departments and categories to pick from."""
    with core.db.read() as conn:
        user = _manager(conn, username)
        year = _year(year) or claims.budget_year(conn)
        return {
            "year": year,
            "budgets": [b.as_dict() for b in ledger.lines(conn, year=year)],
            "departments": directory.department_names(conn),
            "categories": amounts.CATEGORIES,
            "layout": frame.figures(conn, user),
        }


def set_budget(core, username: str, department, category, year, amount) -> dict:
    """Set one budget (created when new); never below what claims hold and spent of it."""
    row = {"department": department, "category": category, "year": year, "amount": amount}
    entry, problems = imports.entry(row, "预算", amounts.CATEGORIES)
    if problems:
        raise InvalidData([FieldError(_field_of(p), p) for p in problems])
    with core.db.write() as conn:
        user = _manager(conn, username)
        line = ledger.set_amount(conn, entry.department, entry.category, entry.year, entry.amount, user.id)
        return line.as_dict()


def _field_of(problem: str) -> str:
    return next((key for key, title in imports.TITLES.items() if f"：{title}" in problem), "budget")


def import_budgets(core, username: str, kind: str, raw: bytes) -> dict:
    """Import budgets from a file or an ERP's body (`kind`: xlsx, csv or json): every row is checked first;
    nothing is stored when any row is bad. Budgets not named are left as they are."""
    if kind not in READERS:
        raise InvalidData([FieldError("file", "只能导入 .xlsx、.csv 文件或 JSON")])
    with core.db.write() as conn:
        user = _manager(conn, username)
        rows = imports.entries(READERS[kind](raw), amounts.CATEGORIES, from_file=kind != "json")
        problems = []
        for where, entry in rows:
            try:
                ledger.set_amount(conn, entry.department, entry.category, entry.year, entry.amount, user.id)
            except InvalidData as exc:
                problems += [f"{where}：{e.message}" for e in exc.errors]
        if problems:
            raise InvalidData([FieldError("rows", "；".join(problems[:50]))])  # the transaction rolls back
        return {"imported": len(rows)}


def remaining_for_start(core, user: users.User, key: str) -> dict | None:
    """What is left of the user's department's budgets this year, per 费用类型, for the start form of a
    process under budget control (None for any other process)."""
    with core.db.read() as conn:
        return claims.remaining(conn, core.specs.from_row(definitions.latest(conn, key)).model, user)
