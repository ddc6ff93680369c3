"""Flask application factory: a thin layer that parses requests, calls the engine and renders."""

from __future__ import annotations

import os
import secrets

from flask import Flask, g, jsonify, request
from sqlalchemy import insert, select

from engine.core import Core
from engine.errors import DeployFailed, InvalidData, OaflowError
from engine.store.tables import setting


def _secret_key(core: Core) -> str:
    """One key for every app process sharing the database, so sessions and tokens work behind a
    load balancer; OAFLOW_SECRET_KEY overrides it."""
    env = os.environ.get("OAFLOW_SECRET_KEY")
    if env:
        return env
    with core.db.write() as conn:
        value = conn.execute(select(setting.c.value).where(setting.c.key == "secret_key")).scalar()
        if value is None:
            value = secrets.token_urlsafe(48)
            conn.execute(insert(setting).values(key="secret_key", value=value))
    return value


def create_app(core: Core | None = None, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    core = core or Core()
    app.extensions["oaflow"] = core
    app.config.update(
        SECRET_KEY=_secret_key(core),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        JSON_AS_ASCII=False,
        TOKEN_MAX_AGE=12 * 3600,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # form properties keep their order: it is the field order
    app.config.update(config or {})

    from . import api, api_designer, api_operations, auth, i18n, pages, pages_admin, pages_operations

    app.register_blueprint(api.bp)
    app.register_blueprint(api_operations.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(pages_operations.bp)
    _register_deadlines(app)
    app.register_blueprint(api_designer.bp)
    app.register_blueprint(pages_admin.bp)
    auth.init_app(app)
    i18n.init_app(app)

    @app.errorhandler(OaflowError)
    def _domain_error(exc: OaflowError):
        if request.path.startswith("/api/"):
            body = {"error": exc.message}
            if isinstance(exc, InvalidData):
                body["errors"] = [e.as_dict() for e in exc.errors]
            if isinstance(exc, DeployFailed):
                body["errors"] = [p.as_dict() for p in exc.problems]
            return jsonify(body), exc.status
        return pages.error_page(exc.message, exc.status)

    @app.errorhandler(404)
    def _not_found(_exc):
        if request.path.startswith("/api/"):
            return jsonify({"error": "接口不存在"}), 404
        return pages.error_page("页面不存在", 404)

    @app.errorhandler(405)
    def _method(_exc):
        if request.path.startswith("/api/"):
            return jsonify({"error": "不支持该请求方法"}), 405
        return pages.error_page("不支持该请求方法", 405)

    @app.errorhandler(413)
    def _too_large(_exc):
        return jsonify({"error": "上传内容过大（上限 8 MB）"}), 413

    @app.teardown_appcontext
    def _drop_user(_exc):
        g.pop("user", None)

    return app


def _register_deadlines(app: Flask) -> None:
    """Issue 4: calendar and office hours, 挂起/恢复, messages and notification settings, monthly statistics."""
    from . import api_admin_calendar, api_notifications, api_reports, pages_deadlines

    for module in (api_admin_calendar, api_notifications, api_reports, pages_deadlines):
        app.register_blueprint(module.bp)


def core_of(app: Flask) -> Core:
    return app.extensions["oaflow"]
