"""REST: 公文查询 (/documents) and the 发文字号 register's administration (/admin/doc-numbers)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.work import doc_numbers
from engine.work.views import documents

from . import auth
from .inputs import int_arg, json_body

bp = Blueprint("api_documents", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/documents")
@auth.api_login_required
def search():
    args = request.args
    found = documents.search(
        _core(),
        g.user.username,
        doc_no=args.get("doc_no"),
        q=args.get("q"),
        year=int_arg("year", None),
        page=int_arg("page", None),
    )
    return jsonify(found)


@bp.get("/admin/doc-numbers")
@auth.api_login_required
def counters():
    return jsonify({"items": doc_numbers.list_counters(_core(), g.user.username)})


@bp.put("/admin/doc-numbers/<prefix>/<year>")
@auth.api_login_required
def set_next(prefix, year):
    body = json_body()
    return jsonify(
        doc_numbers.set_next(_core(), g.user.username, prefix, _year(year), body.get("next"), body.get("reason"))
    )


@bp.post("/admin/doc-numbers/<prefix>/<year>/void")
@auth.api_login_required
def void(prefix, year):
    body = json_body()
    result = doc_numbers.void(
        _core(),
        g.user.username,
        prefix,
        _year(year),
        body.get("number"),
        body.get("reason"),
        reuse=body.get("reuse", False),
    )
    return jsonify(result)


@bp.post("/admin/doc-numbers/<prefix>/<year>/reserve")
@auth.api_login_required
def reserve(prefix, year):
    body = json_body()
    result = doc_numbers.reserve(
        _core(),
        g.user.username,
        prefix,
        _year(year),
        number=body.get("number"),
        count=body.get("count"),
        reason=body.get("reason"),
    )
    return jsonify(result), 201


@bp.post("/admin/doc-numbers/<prefix>/<year>/assign")
@auth.api_login_required
def assign(prefix, year):
    body = json_body()
    result = doc_numbers.assign(
        _core(), g.user.username, prefix, _year(year), body.get("number"), body.get("instance_id")
    )
    return jsonify(result)


def _year(text: str):
    """The year in the address as a number when it is one (the command names `year` when it is not)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text
