"""组织与用户 (系统管理员): the department tree, the accounts, import with a preview, export. Each form posts
and redirects back to the page (webapp/postback.py keeps what was typed on an error); a one-time password is
shown once, in the flash message after the redirect. The import preview answers its POST directly, as the
migration dry run does: it stores nothing, and its 确认导入 form carries the file back."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import FieldError, InvalidData, OaflowError
from engine.work import organisation

from . import auth, inputs, postback
from .api_org import xlsx_response
from .layout import show

bp = Blueprint("org", __name__, url_prefix="/admin/org")

DEPARTMENT_FIELDS = ("name", "parent", "leader", "supervisor")
USER_FIELDS = ("username", "display_name", "department", "title", "email", "password", "business_roles")
PREVIEW_MAX = 2 * 1024 * 1024  # bytes of a file the preview page carries back for 确认导入


def _core():
    return current_app.extensions["oaflow"]


def _page(**extra):
    kept = postback.kept()
    data = organisation.org_page(
        _core(), g.user.username, request.args.get("q", "")[:100], request.args.get("department", "")[:100]
    )
    return show(
        "admin_org.html",
        data["layout"],
        departments=data["departments"],
        users=data["users"],
        roles=data["roles"],
        business_roles=data["business_roles"],
        q=request.args.get("q", ""),
        department=request.args.get("department", ""),
        form=kept.get("form"),
        values=kept.get("values") or {},
        errors=kept.get("errors") or {},
        active_nav="org",
        **extra,
    )


@bp.get("")
@auth.page_login_required
def page():
    return _page()


def _run(form: str, names, call, done: str):
    values = inputs.form_values(*names)
    values["roles"] = request.form.getlist("roles")
    try:
        result = call(values)
    except InvalidData as exc:
        errors = {e.field: e.message for e in exc.errors}
        kept = {k: v for k, v in values.items() if k != "password"}
        return postback.back(url_for("org.page"), form=form, values=kept, errors=errors)
    except OaflowError as exc:
        if exc.status not in (404, 409):
            raise
        return postback.back(url_for("org.page"), exc.message)
    flash(done.format(**result), "success")
    return redirect(url_for("org.page"), 303)


@bp.post("/departments")
@auth.page_login_required
def create_department():
    return _run(
        "department",
        DEPARTMENT_FIELDS,
        lambda v: organisation.create_department(_core(), g.user.username, _department_values(v)),
        "已新建部门“{name}”",
    )


@bp.post("/departments/<name>")
@auth.page_login_required
def update_department(name):
    return _run(
        f"dept:{name}",
        DEPARTMENT_FIELDS,
        lambda v: organisation.update_department(_core(), g.user.username, name, _department_values(v)),
        "已保存部门“{name}”",
    )


def _department_values(values: dict) -> dict:
    return {k: values[k] for k in DEPARTMENT_FIELDS}


@bp.post("/users")
@auth.page_login_required
def create_user():
    return _run(
        "user",
        USER_FIELDS,
        lambda v: organisation.create_user(_core(), g.user.username, v),
        "已新建用户“{display_name}”（{username}），初始密码：{password}（只显示这一次，首次登录须修改）",
    )


@bp.post("/users/<username>")
@auth.page_login_required
def update_user(username):
    def call(values):
        changes = {k: values[k] for k in ("display_name", "department", "title", "email", "business_roles")}
        changes["roles"] = values["roles"]
        return organisation.update_user(_core(), g.user.username, username, changes)

    return _run(f"user:{username}", USER_FIELDS, call, "已保存用户“{display_name}”（{username}）")


@bp.post("/users/<username>/active")
@auth.page_login_required
def set_active(username):
    active = request.form.get("active") == "1"
    return _run(
        f"user:{username}",
        (),
        lambda _v: organisation.update_user(_core(), g.user.username, username, {"active": active}),
        "已启用用户“{display_name}”" if active else "已停用用户“{display_name}”，其登录已全部退出",
    )


@bp.post("/users/<username>/password")
@auth.page_login_required
def reset_password(username):
    return _run(
        f"user:{username}",
        (),
        lambda _v: organisation.reset_password(_core(), g.user.username, username),
        "已重置 {username} 的密码，一次性密码：{password}（只显示这一次，下次登录须修改）",
    )


@bp.get("/users.xlsx")
@auth.page_login_required
def export():
    return xlsx_response(organisation.export_users(_core(), g.user.username), "用户.xlsx")


@bp.get("/departments.xlsx")
@auth.page_login_required
def export_departments():
    return xlsx_response(organisation.export_departments(_core(), g.user.username), "部门.xlsx")


@bp.post("/import")
@auth.page_login_required
def import_users():
    """预览 (nothing stored: the report and a 确认导入 form) or 导入 (then back to the page)."""

    def done(report):
        passwords = "；".join(f"{c['username']}：{c['password']}" for c in report["created"][:50])
        return f"已导入 {len(report['created'])} 个用户，跳过 {report['invalid']} 行。一次性密码：{passwords}"

    return _import(organisation.import_users, "users", "用户", done)


@bp.post("/import-departments")
@auth.page_login_required
def import_departments():
    """导入部门, as 导入用户: 预览 first, then 确认导入."""

    def done(report):
        created, updated = len(report["created"]), len(report["updated"])
        return f"已导入部门：新建 {created} 个，修改 {updated} 个，跳过 {report['invalid']} 行"

    return _import(organisation.import_departments, "departments", "部门", done)


def _import(command, kind: str, noun: str, done):
    try:
        filename, content = _import_file()
        confirm = request.form.get("action") == "import"
        only_valid = request.form.get("only_valid") == "1"
        report = command(_core(), g.user.username, filename, content, dry_run=not confirm, only_valid=only_valid)
    except InvalidData as exc:
        message = "；".join(e.message for e in exc.errors[:10])
        more = f"（另有 {len(exc.errors) - 10} 项）" if len(exc.errors) > 10 else ""
        return postback.back(url_for("org.page"), f"未导入任何{noun}：{message}{more}")
    if not report["dry_run"]:
        flash(done(report), "success")
        return redirect(url_for("org.page"), 303)
    carried = base64.b64encode(content).decode("ascii") if len(content) <= PREVIEW_MAX else None
    return _page(preview=report, preview_kind=kind, preview_file={"name": filename, "content": carried})


def _import_file() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.filename, upload.read()
    carried, name = request.form.get("content", ""), request.form.get("filename", "")
    if carried and name:
        try:
            return name, base64.b64decode(carried, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise InvalidData([FieldError("file", "请选择要导入的 Excel（.xlsx）或 CSV 文件")])
