"""Browser pages (Simplified Chinese, server-rendered). Each view parses the request, calls the
engine and renders a template; the engine owns every rule and every permission check."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from engine.errors import Forbidden, InvalidData, OaflowError
from engine.org import users
from engine.process import definitions
from engine.store.tables import definition, department, instance, user_account
from engine.time.working_days import PRIORITIES, to_local
from engine.work import checks, decisions, initiate, opinions, readers, worklist
from engine.work.kernel import case as kernel
from engine.work.kernel import routing

from . import auth

bp = Blueprint("pages", __name__)

PER_PAGE = 20
ERROR_TITLES = {400: "请求无效", 403: "无权访问", 404: "未找到", 409: "操作冲突", 422: "无法处理"}


def _core():
    return current_app.extensions["oaflow"]


# --- template helpers ---------------------------------------------------------------------------


@bp.app_template_filter("when")
def format_time(value) -> str:
    """ISO string (+08:00 from the engine) or datetime → 'YYYY-MM-DD HH:MM' in office time."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:  # naive values in our tables are UTC
        value = to_local(value)
    return value.strftime("%Y-%m-%d %H:%M")


@bp.app_template_global()
def due_state(due_at: str | None, is_open: bool = True) -> str | None:
    """'overdue', 'soon' (due within a day) or None."""
    if not due_at or not is_open:
        return None
    try:
        due = datetime.fromisoformat(due_at)
    except ValueError:
        return None
    now = datetime.now(timezone.utc)
    if due < now:
        return "overdue"
    return "soon" if due - now <= timedelta(days=1) else None


@bp.app_template_global()
def lang_url(lang: str) -> str:
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = lang
    if request.endpoint is None:  # error pages for unknown URLs
        return f"{request.path}?lang={lang}"
    return url_for(request.endpoint, **{**args, **(request.view_args or {})})


@bp.app_context_processor
def _layout_context():
    counts = None
    user = g.get("user")
    if user is not None:
        try:
            with _core().db.read() as conn:
                counts = worklist.counts(conn, user)
        except Exception:  # the badges must not take an error page down with them
            current_app.logger.exception("inbox counts failed")
    return {"nav_counts": counts}


# What a done work item's decision means, in a clerk's words (已办, 签批情况).
DECISION_LABELS = {
    **kernel.DECISIONS,
    "send_back": "退回",
    "transfer": "转办",
    "resolve": "办理完成",
    "resubmit": "重新提交",
}


@bp.app_template_filter("decision")
def decision_label(value: str | None) -> str:
    return DECISION_LABELS.get(value, value or "")


# --- errors -------------------------------------------------------------------------------------


def error_page(message: str, status: int):
    title = ERROR_TITLES.get(status, "出错了")
    return render_template("error.html", title=title, message=message, status=status), status


@bp.app_errorhandler(400)
def _bad_request(_exc):
    # Mostly a missing or stale CSRF token: the form was open too long or the session was reset.
    if request.path.startswith("/api/"):
        return jsonify({"error": "请求无效"}), 400
    return error_page("页面已过期或请求无效，请返回刷新后重试", 400)


# --- login --------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: '//host' and '/\\host' would send the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


def _home() -> str:
    return url_for("pages.inbox", box="todo")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if g.get("user") is not None and request.method == "GET":
        return redirect(next_url or _home())
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        with _core().db.read() as conn:
            user = users.authenticate(conn, username, request.form.get("password", ""))
        if user is not None:
            auth.login_user(user)
            return redirect(next_url or _home())
        error = "用户名或密码错误"
    return render_template("login.html", error=error, username=username, next_url=next_url)


@bp.post("/logout")
def logout():
    auth.logout_user()
    return redirect(url_for("pages.login"))


# --- lists --------------------------------------------------------------------------------------


@bp.get("/")
@auth.page_login_required
def index():
    return redirect(_home())


@bp.get("/inbox/<box>")
@auth.page_login_required
def inbox(box):
    if box not in worklist.BOXES:
        abort(404)
    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int))
    core = _core()
    with core.db.read() as conn:
        result = worklist.inbox(conn, g.user, box, q, page, PER_PAGE)
        recallable = _recallable(core, conn, result["items"]) if box == "done" else set()
        waiting = worklist.waiting(conn, g.user) if box == "todo" and page == 1 and not q else []
    pages = max(1, math.ceil(result["total"] / PER_PAGE))
    return render_template(
        "inbox.html",
        box=box,
        box_label=worklist.BOX_LABELS[box],
        q=q,
        result=result,
        pages=pages,
        recallable=recallable,
        waiting=waiting,
    )


def _recallable(core, conn, items: list[dict]) -> set[int]:
    """已办 items whose approval the user may still take back (撤回审批): the next step has not acted."""
    ids = set()
    for item in items:
        if item["decision"] == "approve" and item["instance_status"] == "running":
            try:
                if "recall" in checks.available_actions(core, conn, g.user, kernel.work_item_row(conn, item["id"])):
                    ids.add(item["id"])
            except OaflowError:  # a listing must not fail because one instance cannot be loaded
                current_app.logger.exception("available_actions failed for work item %s", item["id"])
    return ids


@bp.get("/start")
@auth.page_login_required
def start_list():
    core = _core()
    processes = []
    with core.db.read() as conn:
        for row in definitions.list_latest(conn):
            model = core.specs.from_row(row).model
            if routing.may_start(conn, g.user, model):
                processes.append(
                    {
                        "key": row.process_key,
                        "name": model.name or row.name,
                        "category": model.properties.get("category") or "其他",
                        "description": model.properties.get("description"),
                        "version": row.version,
                    }
                )
    processes.sort(key=lambda p: (p["category"] == "其他", p["category"], p["name"]))
    return render_template("start_list.html", processes=processes)


# --- forms --------------------------------------------------------------------------------------


def _empty_form() -> dict:
    return {"type": "object", "properties": {}}


def _defaults(schema: dict) -> dict:
    return {name: prop["default"] for name, prop in schema.get("properties", {}).items() if "default" in prop}


def _number(text: str, kind: str):
    try:
        return int(text) if kind == "integer" else float(text)
    except ValueError:
        return text  # the validator names the field


def _submitted(schema: dict) -> tuple[dict, dict]:
    """Read the schema's fields from the posted form: (data for the engine, raw values to re-render).

    Empty fields are left out so a required one gets "请填写…" rather than a format error."""
    data, raw = {}, {}
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "string")
        if kind == "boolean":
            raw[name] = data[name] = request.form.get(name) is not None
        elif kind == "array":
            items = prop.get("items", {})
            if "enum" in items:
                values = [v for v in request.form.getlist(name) if v != ""]
            else:  # one value per line in a textarea
                values = [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]
            raw[name] = values
            if items.get("type") in {"number", "integer"}:
                values = [_number(v, items["type"]) for v in values]
            if values:
                data[name] = values
        else:
            value = request.form.get(name, "")
            raw[name] = value
            if value.strip():
                data[name] = value
    return data, raw


def _field_errors(exc: InvalidData, schema: dict, *own: str) -> dict[str, str]:
    """Field name → message; errors about fields the page does not show go to '_' (the banner)."""
    shown = set(schema.get("properties", {})) | set(own)
    errors: dict[str, str] = {}
    general = []
    for error in exc.errors:
        if error.field in shown:
            errors.setdefault(error.field, error.message)
        else:
            general.append(error.message)
    if general:
        errors["_"] = "；".join(general)
    return errors


def _has_user_widget(*schemas) -> bool:
    return any(prop.get("x-widget") == "user" for schema in schemas for prop in schema.get("properties", {}).values())


def _active_users(conn) -> list:
    return list(
        conn.execute(
            select(user_account.c.username, user_account.c.display_name)
            .where(user_account.c.active.is_(True))
            .order_by(user_account.c.department_id, user_account.c.id)
        )
    )


def _user_names(conn, schema: dict, data: dict) -> dict[str, str]:
    """Display names for the values of user-picker fields, for the read-only view."""
    wanted = {
        data[name]
        for name, prop in schema.get("properties", {}).items()
        if prop.get("x-widget") == "user" and isinstance(data.get(name), str)
    }
    if not wanted:
        return {}
    rows = conn.execute(
        select(user_account.c.username, user_account.c.display_name).where(user_account.c.username.in_(wanted))
    )
    return {row.username: row.display_name for row in rows}


def _view_schema(compiled, start_form: dict, data: dict) -> dict:
    """The start form, plus titles from the process's other forms for fields approvers filled in."""
    props = dict(start_form.get("properties", {}))
    for form in compiled.forms.values():
        for name, prop in form.get("properties", {}).items():
            if name in data and name not in props:
                props[name] = prop
    return {"properties": props}


@bp.route("/start/<key>", methods=["GET", "POST"])
@auth.page_login_required
def start(key):
    core = _core()
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, key))
        if not routing.may_start(conn, g.user, compiled.model):
            raise Forbidden(f"您无权发起“{compiled.model.name}”")
        schema = compiled.form(compiled.model.start_form) or _empty_form()
        users = _active_users(conn) if _has_user_widget(schema) else []
    values, errors, priority = _defaults(schema), {}, "正常"
    if request.method == "POST":
        data, values = _submitted(schema)
        priority = request.form.get("priority") or "正常"
        try:
            result = initiate.start(core, g.user.username, key, data, priority)
        except InvalidData as exc:
            errors = _field_errors(exc, schema, "priority")
        except OaflowError as exc:
            if exc.status not in (409, 422):
                raise
            errors = {"_": exc.message}
        else:
            flash("已提交", "success")
            return redirect(url_for("pages.instance", instance_id=result["id"]))
    return render_template(
        "start.html",
        model=compiled.model,
        schema=schema,
        values=values,
        errors=errors,
        users=users,
        priority=priority,
        priorities=PRIORITIES,
    ), (422 if errors else 200)


# --- work item and instance ---------------------------------------------------------------------


def _with_history(core, conn, instance_id: int) -> tuple[dict, object]:
    """Instance detail (history, status, holders) and its compiled definition."""
    detail = worklist.instance_detail(core, conn, g.user, instance_id)
    return detail, core.specs.get(conn, detail["definition_id"])


# How a signer came to this node (签批情况), when not by the node's own rule.
SIGNER_ORIGINS = {
    "add_before": "前加签",
    "add_after": "后加签",
    "add_parallel": "并加签",
    "transfer": "转办",
    "delegate": "委派",
    "recall": "撤回后重办",
    "send_back": "退回后重办",
}


@bp.app_template_global()
def signer_state(signer: dict, sign_mode: str = "") -> tuple[str, str]:
    """(words, css class) for one signer of a node: 待办 / 等待 / 同意 / 不同意 / 已由他人处理 …"""
    status, decision = signer["status"], signer.get("decision")
    if status == "open":
        return "待办", "pending"
    if status == "waiting":
        return "等待", "waiting"
    if status == "done":
        if decision == "approve":
            return ("已提交意见" if sign_mode == "collect" else "同意"), "approved"
        if decision == "reject":
            return "不同意", "rejected"
        return DECISION_LABELS.get(decision, decision or "已处理"), "other"
    return signer.get("note") or "已取消", "cancelled"


@bp.app_template_global()
def signer_origin(signer: dict) -> str:
    return SIGNER_ORIGINS.get(signer.get("origin"), "")


def _state_label(item: dict) -> str:
    if item["kind"] == "cc":
        return "知会，无需审批"
    if item["status"] == "done":
        return f"已处理：{DECISION_LABELS.get(item['decision'], item['decision'] or '')}".rstrip("：")
    if item["status"] == "waiting":
        return f"暂不能处理：{item.get('note') or '等待他人处理'}"
    if item["status"] == "cancelled":
        return "已由他人处理" if not item.get("note") else item["note"]
    if not item["mine"]:
        return "这不是您的待办"
    return "该申请已结束，无需处理"


# Operations whose forms pick people.
PICKER_ACTIONS = {"transfer", "delegate", "add_signers", "cc"}


def picker_groups(conn, exclude=()) -> list[tuple[str, list]]:
    """Active users by department, for the 转办/委派/加签/知会/代理 pickers: [(department, [users])]."""
    rows = conn.execute(
        select(user_account.c.username, user_account.c.display_name, department.c.name.label("department"))
        .outerjoin(department, department.c.id == user_account.c.department_id)
        .where(user_account.c.active.is_(True))
        .order_by(user_account.c.department_id, user_account.c.id)
    )
    groups: dict[str, list] = {}
    for row in rows:
        if row.username not in exclude:
            groups.setdefault(row.department or "其他", []).append(row)
    return list(groups.items())


def _return_reason(detail: dict) -> dict | None:
    """The latest 退回 / 撤回申请 event: why the application is back with its drafter."""
    for event in reversed(detail["history"]):
        if event["type"] in ("sent_back", "withdrawn"):
            return event
    return None


def _prefill(item: dict) -> dict:
    if item["origin"] == "resubmit":  # the drafter corrects what was submitted
        fields = item["form"].get("properties", {})
        return {name: value for name, value in item["data"].items() if name in fields}
    return _defaults(item["form"])


def render_work_item(
    item_id: int,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    opinion: str = "",
    signature: str = "",
    op: dict | None = None,
    status: int = 200,
):
    """The task page. `op` = {"name": operation, "errors": {field: message}, "values": {...}} re-opens
    one operation's form with what was typed and the engine's message next to the field."""
    core = _core()
    with core.db.read() as conn:
        item = worklist.work_item_detail(core, conn, g.user, item_id)
        detail, compiled = _with_history(core, conn, item["instance_id"])
        view = _view_schema(compiled, item["start_form"], item["data"])
        user_names = _user_names(conn, view, item["data"])
        users = _active_users(conn) if item["actions"] and _has_user_widget(item["form"]) else []
        actions = set(item["actions"])
        busy = {s["assignee"] for s in item["signers"] if s["status"] in ("open", "waiting")}
        people = picker_groups(conn, exclude=busy | {g.user.username}) if actions & PICKER_ACTIONS else []
        cc_readers = picker_groups(conn, exclude={g.user.username}) if "cc" in actions else []
        phrases = opinions._phrases(conn, g.user.id) if actions else []
    return render_template(
        "work_item.html",
        item=item,
        detail=detail,
        view_schema=view,
        user_names=user_names,
        values=_prefill(item) if values is None else values,
        errors=errors or {},
        opinion=opinion,
        signature=signature,
        users=users,
        people=people,
        readers=cc_readers,
        phrases=phrases,
        op=op or {"name": None, "errors": {}, "values": {}},
        return_reason=_return_reason(detail) if item["origin"] == "resubmit" else None,
        state_label=_state_label(item),
    ), status


def save_phrase_if_asked(opinion: str | None) -> None:
    """The "保存为常用意见" box next to an opinion: keep the text once the operation succeeded."""
    text = (opinion or "").strip()
    if not request.form.get("save_phrase") or not text:
        return
    try:
        opinions.add_phrase(_core(), g.user.id, text)
    except InvalidData as exc:
        flash(f"常用意见未保存：{exc.errors[0].message}", "error")
    else:
        flash("已保存为常用意见", "info")


@bp.route("/work-items/<int:item_id>", methods=["GET", "POST"])
@auth.page_login_required
def work_item(item_id):
    if request.method == "GET":
        return render_work_item(item_id)
    core = _core()
    with core.db.read() as conn:
        item = worklist.work_item_detail(core, conn, g.user, item_id)
    schema = item["form"]
    data, values = _submitted(schema)
    decision = request.form.get("decision", "")
    opinion = request.form.get("opinion", "")
    signature = request.form.get("signature", "").strip()
    try:
        decisions.complete(core, g.user.username, item_id, data, decision, opinion, signature or None)
    except InvalidData as exc:
        errors = _field_errors(exc, schema, "opinion", "signature")
        return render_work_item(item_id, values=values, errors=errors, opinion=opinion, signature=signature, status=422)
    except OaflowError as exc:
        if exc.status not in (409, 422):
            raise
        flash(exc.message, "error")
        return redirect(url_for("pages.work_item", item_id=item_id))
    if item["origin"] == "resubmit":
        flash("已重新提交", "success")
        return redirect(url_for("pages.instance", instance_id=item["instance_id"]))
    if decision == "approve":
        flash("已提交意见" if item["sign_mode"] == "collect" else "已同意", "success")
    else:
        flash("已不同意", "success")
    save_phrase_if_asked(opinion)
    return redirect(_home())


def _diagram(conn, detail: dict) -> str | None:
    """SVG from engine.diagram (our own renderer, which escapes every text it writes)."""
    bpmn_xml = conn.execute(
        select(definition.c.bpmn_xml)
        .select_from(instance.join(definition, definition.c.id == instance.c.definition_id))
        .where(instance.c.id == detail["id"])
    ).scalar()
    current = {w["node"] for w in detail["work_items"] if w["kind"] == "approve" and w["status"] == "open"}
    done = set(detail["completed_nodes"]) - current
    waiting: dict[str, list[str]] = {}  # captions under current nodes: who holds them
    for w in detail["work_items"]:
        if w["node"] in current and w["kind"] == "approve" and w["status"] == "open":
            waiting.setdefault(w["node"], []).append(w["assignee_name"])
    labels = {node: "、".join(names) for node, names in waiting.items()}
    try:
        from engine.process import diagram

        return diagram.render_svg(bpmn_xml, detail["process"], done=done, current=current, labels=labels)
    except Exception:  # a diagram is a convenience: the page must still open without it
        current_app.logger.exception("diagram rendering failed for instance %s", detail["id"])
        return None


def _holders(detail: dict) -> list[tuple[str, list[dict]]]:
    """Open approval steps and who holds them, in creation order."""
    groups: dict[str, list[dict]] = {}
    for w in detail["work_items"]:
        if w["kind"] == "approve" and w["status"] == "open":
            groups.setdefault(w["node_name"], []).append(w)
    return list(groups.items())


def render_instance(instance_id: int, *, op: dict | None = None, status: int = 200):
    """The instance page; `op` re-opens one operation's form with its errors (see render_work_item)."""
    core = _core()
    with core.db.read() as conn:
        detail, compiled = _with_history(core, conn, instance_id)
    unread_cc = any(
        w["kind"] == "cc" and w["assignee"] == g.user.username and not w["read"] for w in detail["work_items"]
    )
    if unread_cc:
        readers.mark_read(core, g.user.username, instance_id)
    me = g.user.username
    with core.db.read() as conn:
        svg = _diagram(conn, detail)
        view = _view_schema(compiled, detail["form"], detail["data"])
        user_names = _user_names(conn, view, detail["data"])
        recall_items = [
            w
            for w in detail["work_items"]
            if detail["status"] == "running"
            and w["kind"] == "approve"
            and w["assignee"] == me
            and w["status"] == "done"
            and w["decision"] == "approve"
            and "recall" in checks.available_actions(core, conn, g.user, kernel.work_item_row(conn, w["id"]))
        ]
        cc_readers = picker_groups(conn, exclude={me}) if "cc" in detail["actions"] else []
    my_items = [
        w
        for w in detail["work_items"]
        if w["kind"] == "approve" and w["status"] in ("open", "waiting") and w["assignee"] == me
    ]
    return render_template(
        "instance.html",
        detail=detail,
        view_schema=view,
        user_names=user_names,
        svg=svg,
        holders=_holders(detail),
        my_items=my_items,
        recall_items=recall_items,
        readers=cc_readers,
        op=op or {"name": None, "errors": {}, "values": {}},
    ), status


# Endpoint `pages.instance`; the function has another name so it does not shadow engine.db.instance.
@bp.get("/instances/<int:instance_id>", endpoint="instance")
@auth.page_login_required
def instance_page(instance_id):
    return render_instance(instance_id)
