"""Browser forms for the approval operations (退回, 转办, 委派, 加签/减签, 知会, 撤回, 撤销, 催办), 代理设置
and 常用意见. Each form posts to its own route, which calls one engine command and then either
redirects with a Chinese message or re-renders the page with the engine's message next to the field."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.errors import FieldError, InvalidData, OaflowError
from engine.org import delegations, users
from engine.process import definitions
from engine.store.tables import utcnow
from engine.time.working_days import to_local
from engine.work import handover, opinions, readers, retraction, rework
from engine.work.kernel import case as kernel

from . import auth
from .api_operations import signature_response
from .pages import picker_groups, render_instance, render_work_item, save_phrase_if_asked

bp = Blueprint("ops", __name__)


def _core():
    return current_app.extensions["oaflow"]


def _names(usernames) -> str:
    """Display names for usernames, joined the Chinese way."""
    if not usernames:
        return ""
    with _core().db.read() as conn:
        found = {name: users.find_user(conn, name) for name in usernames}
    return "、".join(found[name].display_name if found[name] else name for name in usernames)


def _op_errors(exc: InvalidData, fields) -> dict[str, str]:
    """Field → message for the fields this form shows; anything else goes to '_' above the form."""
    errors: dict[str, str] = {}
    general = []
    for error in exc.errors:
        if error.field in fields:
            errors.setdefault(error.field, error.message)
        else:
            general.append(error.message)
    if general:
        errors["_"] = "；".join(general)
    return errors


def _item_op(item_id: int, name: str, fields, command, success, *, values: dict, after="inbox"):
    """Run one work-item operation: flash + redirect on success; re-render the task page on bad input,
    flash the engine's message when the state does not allow it (already handled, not permitted …)."""
    try:
        result = command()
    except InvalidData as exc:
        op = {"name": name, "errors": _op_errors(exc, fields), "values": values}
        return render_work_item(item_id, op=op, status=422)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return redirect(url_for("pages.work_item", item_id=item_id))
    flash(success(result), "success")
    save_phrase_if_asked(values.get("opinion"))
    if after == "item":
        return redirect(url_for("pages.work_item", item_id=item_id))
    if after == "instance":
        return redirect(url_for("pages.instance", instance_id=result["id"]))
    return redirect(url_for("pages.inbox", box="todo"))


def _instance_op(instance_id: int, name: str, fields, command, success, *, values: dict):
    try:
        result = command()
    except InvalidData as exc:
        op = {"name": name, "errors": _op_errors(exc, fields), "values": values}
        return render_instance(instance_id, op=op, status=422)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(success(result), "success")
    return redirect(url_for("pages.instance", instance_id=instance_id))


def _form(*names) -> dict:
    return {name: request.form.get(name, "") for name in names}


def _chosen(username: str) -> str:
    """A one-person picker must name someone (the engine would report user '' as unknown)."""
    if not username.strip():
        raise InvalidData([FieldError("to_user", "请选择一个人")])
    return username


# --- work-item operations ----------------------------------------------------------------------


@bp.post("/work-items/<int:item_id>/send-back")
@auth.page_login_required
def send_back(item_id):
    values = _form("to_node", "opinion")

    def success(result):
        target = result["to"]
        handlers = "、".join(target["handlers"])
        return f"已退回至{target['name']}" + (f"（{handlers}）" if handlers else "")

    return _item_op(
        item_id,
        "send_back",
        ("to_node", "opinion"),
        lambda: rework.send_back(_core(), g.user.username, item_id, values["to_node"] or None, values["opinion"]),
        success,
        values=values,
    )


@bp.post("/work-items/<int:item_id>/transfer")
@auth.page_login_required
def transfer(item_id):
    values = _form("to_user", "opinion")
    return _item_op(
        item_id,
        "transfer",
        ("to_user", "opinion"),
        lambda: handover.transfer(_core(), g.user.username, item_id, _chosen(values["to_user"]), values["opinion"]),
        lambda result: f"已转办给{_names([result['to']])}",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/delegate")
@auth.page_login_required
def delegate(item_id):
    values = _form("to_user", "opinion")
    return _item_op(
        item_id,
        "delegate",
        ("to_user", "opinion"),
        lambda: handover.delegate(_core(), g.user.username, item_id, _chosen(values["to_user"]), values["opinion"]),
        lambda result: f"已委派给{_names([result['to']])}：对方办理完成后，待办会回到您这里由您决定",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/resolve")
@auth.page_login_required
def resolve(item_id):
    values = _form("opinion")
    return _item_op(
        item_id,
        "resolve",
        ("opinion",),
        lambda: handover.resolve(_core(), g.user.username, item_id, values["opinion"]),
        lambda result: "已办理完成，已交回委派人决定",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/add-signers")
@auth.page_login_required
def add_signers(item_id):
    values = {**_form("position", "opinion"), "users": request.form.getlist("users")}

    def success(result):
        label = handover.POSITIONS.get(result["position"], ("", "加签"))[1]
        return f"已加签：{_names(result['added'])}（{label}）"

    return _item_op(
        item_id,
        "add_signers",
        ("users", "position", "opinion"),
        lambda: handover.add_signers(
            _core(), g.user.username, item_id, values["users"], values["position"], values["opinion"]
        ),
        success,
        values=values,
        after="item",
    )


@bp.post("/work-items/<int:item_id>/remove-signers")
@auth.page_login_required
def remove_signers(item_id):
    values = {"users": request.form.getlist("users")}
    return _item_op(
        item_id,
        "remove_signers",
        ("users",),
        lambda: handover.remove_signers(_core(), g.user.username, item_id, values["users"]),
        lambda result: f"已减签：{_names(result['removed'])}",
        values=values,
        after="item",
    )


def _instance_of(item_id: int) -> int:
    """The instance of one of the user's own work items (NotFound / Forbidden otherwise)."""
    with _core().db.read() as conn:
        return kernel.item_for_actor(conn, item_id, g.user).instance_id


def _cc_message(result) -> str:
    readers = result.get("readers") or []
    return f"已知会：{'、'.join(readers)}" if readers else "所选人员都已知会过，未重复发送"


@bp.post("/work-items/<int:item_id>/cc")
@auth.page_login_required
def cc_from_item(item_id):
    values = {**_form("message"), "users": request.form.getlist("users")}
    instance_id = _instance_of(item_id)
    return _item_op(
        item_id,
        "cc",
        ("users", "message"),
        lambda: readers.cc(_core(), g.user.username, instance_id, values["users"], values["message"]),
        _cc_message,
        values=values,
        after="item",
    )


@bp.post("/work-items/<int:item_id>/cancel")
@auth.page_login_required
def cancel_from_item(item_id):
    """撤销申请 from the drafter's 重新提交 page."""
    values = _form("reason")
    instance_id = _instance_of(item_id)
    return _item_op(
        item_id,
        "cancel",
        ("reason",),
        lambda: retraction.cancel(_core(), g.user.username, instance_id, values["reason"]),
        lambda result: "已撤销申请",
        values=values,
        after="instance",
    )


@bp.post("/work-items/<int:item_id>/recall")
@auth.page_login_required
def recall(item_id):
    """撤回审批: take back my own approval while the next step has not acted."""
    instance_id = _instance_of(item_id)
    try:
        retraction.recall(_core(), g.user.username, item_id)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash("已撤回审批：待办已回到您手中，可重新办理", "success")
    return redirect(url_for("pages.instance", instance_id=instance_id))


# --- instance operations -----------------------------------------------------------------------


@bp.post("/instances/<int:instance_id>/withdraw")
@auth.page_login_required
def withdraw(instance_id):
    return _instance_op(
        instance_id,
        "withdraw",
        (),
        lambda: retraction.withdraw(_core(), g.user.username, instance_id),
        lambda result: "已撤回申请：请在待办中修改后重新提交，或撤销申请",
        values={},
    )


@bp.post("/instances/<int:instance_id>/cancel")
@auth.page_login_required
def cancel(instance_id):
    values = _form("reason")
    return _instance_op(
        instance_id,
        "cancel",
        ("reason",),
        lambda: retraction.cancel(_core(), g.user.username, instance_id, values["reason"]),
        lambda result: "已撤销申请",
        values=values,
    )


@bp.post("/instances/<int:instance_id>/urge")
@auth.page_login_required
def urge(instance_id):
    values = _form("message")
    return _instance_op(
        instance_id,
        "urge",
        ("message",),
        lambda: readers.urge(_core(), g.user.username, instance_id, values["message"]),
        lambda result: f"已催办：{_names(result['urged'])}",
        values=values,
    )


@bp.post("/instances/<int:instance_id>/cc")
@auth.page_login_required
def cc(instance_id):
    values = {**_form("message"), "users": request.form.getlist("users")}
    return _instance_op(
        instance_id,
        "cc",
        ("users", "message"),
        lambda: readers.cc(_core(), g.user.username, instance_id, values["users"], values["message"]),
        _cc_message,
        values=values,
    )


@bp.get("/instances/<int:instance_id>/signatures/<int:item_id>.png")
@auth.page_login_required
def signature(instance_id, item_id):
    return signature_response(_core(), g.user, instance_id, item_id)


# --- 代理设置 ----------------------------------------------------------------------------------


def _processes(conn) -> list[dict]:
    core = _core()
    found = []
    for row in definitions.list_latest(conn):
        model = core.specs.from_row(row).model
        found.append({"key": row.process_key, "name": model.name or row.name})
    return found


def _delegation_state(item: dict, today: date) -> tuple[str, str]:
    if not item["active"]:
        return "已结束", "ended"
    starts, ends = date.fromisoformat(item["starts_on"]), date.fromisoformat(item["ends_on"])
    if ends < today:
        return "已到期", "ended"
    if starts > today:
        return "未开始", "future"
    return "生效中", "active"


def _render_delegation(values: dict | None = None, errors: dict | None = None, status: int = 200):
    today = to_local(utcnow()).date()
    with _core().db.read() as conn:
        items = delegations.list_for(conn, g.user)
        processes = _processes(conn)
        people = picker_groups(conn, exclude={g.user.username})
    names = {p["key"]: p["name"] for p in processes}
    for item in items:
        item["state"], item["state_class"] = _delegation_state(item, today)
        item["process_names"] = [names.get(key, key) for key in item["processes"]]
    defaults = {
        "delegate": "",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=6)).isoformat(),
        "scope": "all",
        "processes": [],
        "reason": "",
        "move_existing": "",
    }
    return render_template(
        "delegation.html",
        items=items,
        processes=processes,
        people=people,
        values={**defaults, **(values or {})},
        errors=errors or {},
        active_nav="settings",
    ), status


@bp.get("/settings/delegation")
@auth.page_login_required
def delegation():
    return _render_delegation()


@bp.post("/settings/delegation")
@auth.page_login_required
def create_delegation():
    values = {
        **_form("delegate", "starts_on", "ends_on", "reason", "move_existing"),
        "scope": request.form.get("scope", "all"),
        "processes": request.form.getlist("processes"),
    }
    scope = values["processes"] if values["scope"] == "some" else []
    if values["scope"] == "some" and not scope:
        return _render_delegation(values, {"processes": "请至少选择一个流程，或选择“全部流程”"}, 422)
    core = _core()
    try:
        with core.db.write() as conn:
            result = delegations.create(
                conn,
                g.user,
                values["delegate"],
                values["starts_on"],
                values["ends_on"],
                scope,
                values["reason"],
                bool(values["move_existing"]),
                is_postgres=not core.db.is_sqlite,
            )
    except InvalidData as exc:
        fields = ("delegate", "starts_on", "ends_on", "processes", "reason")
        return _render_delegation(values, _op_errors(exc, fields), 422)
    message = f"已设置代理：{result['starts_on']} 至 {result['ends_on']} 由{result['delegate_name']}代理"
    if result.get("moved"):
        message += f"，已转交 {result['moved']} 项待办"
    flash(message, "success")
    return redirect(url_for("ops.delegation"))


@bp.post("/settings/delegation/<int:delegation_id>/end")
@auth.page_login_required
def end_delegation(delegation_id):
    try:
        with _core().db.write() as conn:
            result = delegations.end(conn, g.user, delegation_id)
    except OaflowError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已结束{result['delegate_name']}的代理：之后的新待办将回到您这里", "success")
    return redirect(url_for("ops.delegation"))


# --- 常用意见 ----------------------------------------------------------------------------------


def _render_phrases(text: str = "", errors: dict | None = None, status: int = 200):
    with _core().db.read() as conn:
        items = opinions._phrases(conn, g.user.id)
    return render_template("phrases.html", items=items, text=text, errors=errors or {}, active_nav="settings"), status


@bp.get("/settings/phrases")
@auth.page_login_required
def phrases():
    return _render_phrases()


@bp.post("/settings/phrases")
@auth.page_login_required
def add_phrase():
    text = request.form.get("text", "")
    try:
        opinions.add_phrase(_core(), g.user.id, text)
    except InvalidData as exc:
        return _render_phrases(text, _op_errors(exc, ("text",)), 422)
    flash("已添加常用意见", "success")
    return redirect(url_for("ops.phrases"))


@bp.post("/settings/phrases/<int:phrase_id>/delete")
@auth.page_login_required
def delete_phrase(phrase_id):
    try:
        opinions.delete_phrase(_core(), g.user.id, phrase_id)
    except OaflowError as exc:
        flash(exc.message, "error")
    else:
        flash("已删除常用意见", "success")
    return redirect(url_for("ops.phrases"))
