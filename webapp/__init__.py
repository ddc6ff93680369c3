"""Flask application factory: a thin layer that parses requests, calls the engine and renders."""

from __future__ import annotations

import os

from flask import Flask, g, jsonify, request

from engine.core import Core
from engine.errors import DeployFailed, InvalidData, OaflowError, TooManyAttempts

from . import (
    api,
    api_admin_calendar,
    api_designer,
    api_notifications,
    api_operations,
    api_recovery,
    api_reports,
    auth,
    i18n,
    layout,
    pages_account,
    pages_admin,
    pages_calendar,
    pages_inbox,
    pages_instance,
    pages_instance_operations,
    pages_item_operations,
    pages_messages,
    pages_recovery,
    pages_reports,
    pages_settings,
    pages_start,
    pages_work_item,
)

BLUEPRINTS = (
    # the browser pages
    pages_account,
    pages_inbox,
    pages_start,
    pages_work_item,
    pages_item_operations,
    pages_instance,
    pages_instance_operations,
    pages_settings,
    pages_messages,
    pages_calendar,
    pages_reports,
    pages_admin,
    pages_recovery,
    # /api/v1
    api,
    api_operations,
    api_designer,
    api_admin_calendar,
    api_notifications,
    api_reports,
    api_recovery,
)


def create_app(core: Core | None = None, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    core = core or Core()
    app.extensions["oaflow"] = core
    app.config.update(
        SECRET_KEY=core.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        JSON_AS_ASCII=False,
        TOKEN_MAX_AGE=12 * 3600,  # seconds an API token lasts
        SESSION_MAX_AGE=7 * 24 * 3600,  # seconds a browser session lasts at most (closing the browser ends it)
        TRUSTED_PROXIES=int(os.environ.get("OAFLOW_TRUSTED_PROXIES") or 0),  # reverse proxies in front
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # form properties keep their order: it is the field order
    app.config.update(config or {})

    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    auth.init_app(app)
    i18n.init_app(app)
    layout.init_app(app)

    @app.errorhandler(OaflowError)
    def _domain_error(exc: OaflowError):
        if request.path.startswith("/api/"):
            body = {"error": exc.message}
            if isinstance(exc, InvalidData):
                body["errors"] = [e.as_dict() for e in exc.errors]
            if isinstance(exc, DeployFailed):
                body["errors"] = [p.as_dict() for p in exc.problems]
            if getattr(exc, "element", None):  # the engine failed at a BPMN element (WorkflowFailed)
                body["element"] = exc.element
            response = jsonify(body)
        else:
            response = layout.error_page(exc.message, exc.status)
        response = app.make_response(response)
        response.status_code = exc.status
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(404)
    def _not_found(_exc):
        if request.path.startswith("/api/"):
            return jsonify({"error": "接口不存在"}), 404
        return layout.error_page("页面不存在", 404)

    @app.errorhandler(405)
    def _method(_exc):
        if request.path.startswith("/api/"):
            return jsonify({"error": "不支持该请求方法"}), 405
        return layout.error_page("不支持该请求方法", 405)

    @app.errorhandler(413)
    def _too_large(_exc):
        return jsonify({"error": "上传内容过大（上限 8 MB）"}), 413

    @app.teardown_appcontext
    def _drop_user(_exc):
        g.pop("user", None)

    return app


def core_of(app: Flask) -> Core:
    return app.extensions["oaflow"]
