"""预算管理 (administrators): the year's budgets per department and 费用类型, setting one, and importing them
from an Excel or CSV file. Each form posts, then redirects back to the page (webapp/postback.py keeps what
was typed on an error)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData
from engine.work import budgets

from . import auth, inputs, postback
from .api_budgets import import_source
from .layout import show

bp = Blueprint("budgets", __name__)

FIELDS = ("department", "category", "year", "amount")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/admin/budgets")
@auth.page_login_required
def page():
    data = budgets.budgets_page(_core(), g.user.username, inputs.int_arg("year", None, low=2000, high=2100))
    kept = postback.kept()
    return show(
        "admin_budgets.html",
        data["layout"],
        year=data["year"],
        budgets=data["budgets"],
        departments=data["departments"],
        categories=data["categories"],
        form=kept.get("form"),
        values=kept.get("values") or {"year": data["year"]},
        errors=kept.get("errors") or {},
        active_nav="budgets",
    )


@bp.post("/admin/budgets")
@auth.page_login_required
def set_budget():
    values = inputs.form_values(*FIELDS)
    year = values["year"].strip()
    try:
        line = budgets.set_budget(
            _core(),
            g.user.username,
            values["department"],
            values["category"],
            int(year) if year.isascii() and year.isdigit() and len(year) <= 4 else year,
            values["amount"],
        )
    except InvalidData as exc:
        back = url_for("budgets.page", year=year if year.isdigit() and len(year) == 4 else None)
        return postback.back(back, form="set", values=values, errors=inputs.field_errors(exc, FIELDS))
    flash(f"已保存：{line['department']} {line['year']} 年{line['category']}预算 ¥{line['amount']}", "success")
    return redirect(url_for("budgets.page", year=line["year"]), 303)


@bp.post("/admin/budgets/import")
@auth.page_login_required
def import_file():
    try:
        kind, raw = import_source()
        result = budgets.import_budgets(_core(), g.user.username, kind, raw)
    except InvalidData as exc:
        return postback.back(url_for("budgets.page"), form="import", errors={"file": inputs.error_text(exc)})
    flash(f"已导入 {result['imported']} 条预算", "success")
    return redirect(url_for("budgets.page", year=request.args.get("year")), 303)
