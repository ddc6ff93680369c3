"""REST: 预算管理 (/budgets): list and set budgets, import them from Excel, CSV or an ERP's JSON, and what is
left of one's department's budgets for a claim."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData
from engine.work import budgets

from . import auth
from .inputs import int_arg, json_body

bp = Blueprint("api_budgets", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def import_source() -> tuple[str, bytes]:
    """What an import request brings: (kind, bytes) from an uploaded file (field `file`: .xlsx or .csv), CSV
    text pasted in a form (field `csv`), a CSV body (text/csv) or a JSON body."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        kind = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        return kind, upload.read()
    if request.form.get("csv", "").strip():
        return "csv", request.form["csv"].encode()
    if request.mimetype == "text/csv":
        return "csv", request.get_data()
    if request.is_json:
        json_body()  # read strictly: NaN, NUL, too deep … are refused here as for every body
        return "json", request.get_data()
    raise InvalidData([FieldError("file", "请上传 .xlsx 或 .csv 文件，或发送 JSON / CSV 数据")])


@bp.get("/budgets")
@auth.api_login_required
def listing():
    year = int_arg("year", None, low=2000, high=2100)
    found = budgets.list_budgets(_core(), g.user.username, year, request.args.get("department"))
    return jsonify({"items": found})


@bp.put("/budgets")
@auth.api_login_required
def put():
    body = json_body()
    line = budgets.set_budget(
        _core(), g.user.username, body.get("department"), body.get("category"), body.get("year"), body.get("amount")
    )
    return jsonify(line)


@bp.post("/budgets/import")
@auth.api_login_required
def import_budgets():
    kind, raw = import_source()
    return jsonify(budgets.import_budgets(_core(), g.user.username, kind, raw))


@bp.get("/processes/<key>/budget")
@auth.api_login_required
def remaining(key):
    return jsonify(budgets.remaining_for_start(_core(), g.user, key) or {})
