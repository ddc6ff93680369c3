"""Flask application factory: a thin layer that parses requests, calls the engine and renders."""

from __future__ import annotations

import os

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from engine import fields
from engine.core import Core
from engine.errors import DeployFailed, InvalidData, OaflowError, TooManyAttempts
from engine.work.attachments import max_upload_mb

from . import (
    api,
    api_admin_calendar,
    api_attachments,
    api_budgets,
    api_designer,
    api_documents,
    api_monitor,
    api_notifications,
    api_operations,
    api_org,
    api_print,
    api_recovery,
    api_reports,
    auth,
    i18n,
    i18n_designer,
    inputs,
    json_provider,
    layout,
    pages_account,
    pages_admin,
    pages_attachments,
    pages_budgets,
    pages_calendar,
    pages_doc_numbers,
    pages_inbox,
    pages_instance,
    pages_instance_operations,
    pages_item_operations,
    pages_messages,
    pages_monitor,
    pages_org,
    pages_print,
    pages_recovery,
    pages_reports,
    pages_settings,
    pages_start,
    pages_work_item,
    postback,
)

# Mostly a missing or stale CSRF token: the form was open too long or the session was reset.
BAD_REQUEST = "页面已过期或请求无效，请返回刷新后重试"

BLUEPRINTS = (
    # the browser pages
    pages_account,
    pages_inbox,
    pages_start,
    pages_work_item,
    pages_item_operations,
    pages_instance,
    pages_instance_operations,
    pages_print,
    pages_settings,
    pages_messages,
    pages_calendar,
    pages_reports,
    pages_admin,
    pages_recovery,
    pages_attachments,
    pages_doc_numbers,
    pages_budgets,
    pages_monitor,
    pages_org,
    # /api/v1
    api,
    api_operations,
    api_print,
    api_designer,
    api_admin_calendar,
    api_notifications,
    api_reports,
    api_recovery,
    api_attachments,
    api_documents,
    api_budgets,
    api_monitor,
    api_org,
)


def create_app(core: Core | None = None, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.json = json_provider.OrjsonProvider(app)
    core = core or Core()
    app.extensions["oaflow"] = core
    app.config.update(
        SECRET_KEY=core.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,  # multipart uploads: _upload_limit
        JSON_AS_ASCII=False,
        TOKEN_MAX_AGE=12 * 3600,  # seconds an API token lasts
        SESSION_MAX_AGE=7 * 24 * 3600,  # seconds a browser session lasts at most (closing the browser ends it)
        TRUSTED_PROXIES=int(os.environ.get("OAFLOW_TRUSTED_PROXIES") or 0),  # reverse proxies in front
    )
    # app.json keeps keys in their order (form properties: it is the field order) and writes UTF-8
    app.config.update(config or {})
    app.url_map.converters["int"] = IdConverter

    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.before_request(_upload_limit)  # before anything reads the form
    auth.init_app(app)
    app.before_request(inputs.refuse_nul)
    i18n.init_app(app)
    app.jinja_env.globals["deploy_message"] = i18n_designer.deploy_message
    layout.init_app(app)
    app.jinja_env.globals["upload_limit_mb"] = max_upload_mb
    app.register_error_handler(400, lambda _exc: _answer(BAD_REQUEST if not _is_api() else "请求无效", 400))

    @app.errorhandler(OaflowError)
    def _domain_error(exc: OaflowError):
        details: dict = {}
        if isinstance(exc, InvalidData):
            details["errors"] = [e.as_dict() for e in exc.errors]
        if isinstance(exc, DeployFailed):
            details["errors"] = [i18n_designer.problem_dict(p) for p in exc.problems]
        if getattr(exc, "code", None):  # a machine-readable reason (password_change_required)
            details["code"] = exc.code
        if getattr(exc, "element", None):  # the engine failed at a BPMN element (WorkflowFailed)
            details["element"] = exc.element
        response = app.make_response(_answer(exc.message, exc.status, details))
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(404)
    def _not_found(_exc):
        return _answer("接口不存在" if _is_api() else "页面不存在", 404)

    @app.errorhandler(405)
    def _method(_exc):
        return _answer("不支持该请求方法", 405)

    @app.errorhandler(413)
    def _too_large(_exc):
        if request.mimetype == "multipart/form-data":
            return _answer(f"上传内容过大（单个文件上限 {max_upload_mb()} MB）", 413)
        return _answer("请求内容过大（上限 8 MB）", 413)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not _is_api() or exc.code is None or exc.code < 400:
            return exc
        return _answer(exc.description or exc.name, exc.code)

    @app.errorhandler(Exception)
    def _server_error(exc: Exception):
        # A bug, not bad input: logged with its trace; the API still answers JSON.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _answer("服务器内部错误，请稍后重试或联系管理员", 500)

    @app.teardown_appcontext
    def _drop_user(_exc):
        g.pop("user", None)

    return app


def _upload_limit() -> None:
    """A multipart form may carry a file at the upload limit (OAFLOW_MAX_UPLOAD_MB) and the fields around it;
    every other request keeps the app's 8 MB."""
    if request.mimetype == "multipart/form-data":
        request.max_content_length = max(8, max_upload_mb() + 1) * 1024 * 1024


class IdConverter(IntegerConverter):
    """<int:...> in a URL: numbers past what an id column holds (32 bits on PostgreSQL) do not match (404),
    so they never reach the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", fields.ID_MAX)
        super().__init__(map, *args, **kwargs)


def _is_api() -> bool:
    """The client reads JSON: the REST API, and the pages' JSON endpoints (oaflow.js's previews)."""
    return request.path.startswith("/api/") or request.is_json


def _answer(message: str, status: int, details: dict | None = None):
    """An error as the client reads it: JSON (with `details`, e.g. the field errors) to the API; in the
    browser a redirect back to the form's page after a POST (Post/Redirect/Get), else the error page."""
    if _is_api():
        return jsonify({"error": message, **(details or {})}), status
    if request.method == "POST":  # never an error page at a form's address: a refresh would resend it
        return postback.back(postback.referrer(), message)
    return layout.error_page(message, status)


def core_of(app: Flask) -> Core:
    return app.extensions["oaflow"]
