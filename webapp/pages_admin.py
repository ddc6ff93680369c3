"""Administrators' pages for process designers (流程管理): upload with inline errors, versions, the diagram of
any deployed version, the difference between two versions, and the migration of running instances."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine import fields
from engine.errors import DeployFailed, InvalidData, OaflowError
from engine.work import deployment
from engine.work import migration as instance_migration

from . import i18n, postback
from .inputs import int_arg, uploaded_files
from .layout import show

bp = Blueprint("admin", __name__, url_prefix="/admin")
KEPT_PROBLEMS = 8  # problems a report carries to the page after a POST (the session is a cookie)

# English for these pages' own words (?lang=en), kept beside the pages that use them; never overriding a
# word the shared table already translates.
_ADMIN_EN = {
    "上传流程文件": "Upload process files",
    "BPMN 文件（.bpmn / .bpmn20.xml，来自 Camunda Modeler、Flowable、bpmn.io 均可）与表单（.json），可多选。"
    "先校验，无误后部署；内容未变的流程不会产生新版本。": (
        "BPMN files (.bpmn / .bpmn20.xml, from Camunda Modeler, Flowable or bpmn.io) and forms (.json). "
        "Validate first, then deploy; an unchanged process gets no new version."
    ),
    "校验": "Validate",
    "部署": "Deploy",
    "校验通过": "Valid",
    "发现 {n} 个问题，未写入任何内容": "{n} problem(s) found; nothing was stored",
    "提示": "Warnings",
    "部署结果": "Deployed",
    "新版本": "new version",
    "内容未变化，版本不变": "unchanged, same version",
    "已部署的流程": "Deployed processes",
    "标识": "Key",
    "新实例使用": "Used by new requests",
    "版本数": "Versions",
    "全部停用": "All deactivated",
    "版本与迁移": "Versions and migration",
    "版本": "Versions",
    "启用": "Activate",
    "停用": "Deactivate",
    "已停用": "Deactivated",
    "已结束": "Ended",
    "部署时间": "Deployed at",
    "部署人": "Deployed by",
    "系统": "System",
    "新实例使用最新的启用版本；审批中的实例保持原版本，除非迁移。": (
        "New requests use the newest active version; running ones keep theirs unless migrated."
    ),
    "版本差异": "Differences",
    "从": "From",
    "到": "To",
    "比较": "Compare",
    "新增节点": "Added steps",
    "删除节点": "Removed steps",
    "修改节点": "Changed steps",
    "迁移审批中的实例": "Migrate running requests",
    "先试迁移：逐个实例判断能否安全迁移（例如所在节点已被删除、已完成的节点之后新增了步骤则不安全），"
    "再一次迁移所有安全的实例；每个实例的流转记录都会记下迁移。": (
        "Dry-run first: each request is judged safe or unsafe (for example when the step it waits on was "
        "removed); then migrate all safe ones at once. Each request's history records the migration."
    ),
    "从版本": "From version",
    "到版本": "To version",
    "申请编号（可选，逗号分隔；留空为该版本全部审批中的实例）": (
        "Request numbers (optional, comma separated; empty: every running request of that version)"
    ),
    "试迁移": "Dry run",
    "迁移安全的实例": "Migrate the safe ones",
    "试迁移结果": "Dry run",
    "迁移结果": "Migration",
    "安全": "safe",
    "不安全": "unsafe",
    "已迁移": "migrated",
    "结论": "Verdict",
    "原因": "Reason",
    "申请": "Request",
    "该版本没有审批中的实例": "No running requests on this version",
    "内容摘要": "Content hash",
    "文件": "File",
    "该版本的流程文件没有图形信息（BPMN DI），无法绘制流程图。"
    "在 Camunda Modeler 或 bpmn.io 中打开并保存一次即可生成。": (
        "This version's file carries no diagram interchange (BPMN DI), so no diagram can be drawn. "
        "Open and save it once in Camunda Modeler or bpmn.io to add one."
    ),
    "类型": "Type",
    "表单": "Form",
    "办理人规则": "Assignee rule",
    "外部任务": "External work",
    "流程管理员": "process administrator",
    "个字段": "fields",
    "（未指定处理程序）": "(no handler named)",
}
for _zh, _en in _ADMIN_EN.items():
    i18n.EN.setdefault(_zh, _en)


def _core():
    return current_app.extensions["oaflow"]


@bp.before_request
def _signed_in_only():
    if g.get("user") is None:
        return redirect(url_for("account.login", next=request.path))
    return None


@bp.route("/processes", methods=["GET", "POST"])
def processes():
    """流程管理: the process list and the upload form (校验 / 部署), errors shown inline."""
    core = _core()
    if request.method == "POST":  # the report is shown by the GET that follows (Post/Redirect/Get)
        files = uploaded_files()
        deployed = None
        if request.form.get("action") == "deploy":
            try:
                result = deployment.deploy(core, g.user.username, files)
                deployed = result["processes"]
                report = {"errors": [], "warnings": result["warnings"]}
                flash("部署完成", "success")
            except DeployFailed as exc:
                report = {"errors": exc.problems, "warnings": exc.warnings}
        else:
            bundle = deployment.validate(core, g.user, files)
            report = {"errors": bundle.problems, "warnings": bundle.warnings}
        return postback.back(request.path, report=_kept_report(report, list(files)), deployed=deployed)
    kept = postback.kept()
    data = deployment.processes_page(core, g.user)
    return show(
        "admin_processes.html",
        data["layout"],
        processes=data["processes"],
        report=kept.get("report"),
        deployed=kept.get("deployed"),
    )


def _kept_report(report: dict, files: list[str]) -> dict:
    """The validation report as the next page shows it: the first problems (the session is small)."""

    def first(problems):
        shown = [{**p.as_dict(), "severity": p.severity} for p in problems[:KEPT_PROBLEMS]]
        if len(problems) > KEPT_PROBLEMS:
            more = f"另有 {len(problems) - KEPT_PROBLEMS} 项未列出，请用 oaflow validate 或 API 查看全部"
            shown.append({"file": "", "line": None, "element": None, "message": more, "severity": "error"})
        return shown

    return {"errors": first(report["errors"]), "warnings": first(report["warnings"]), "files": files[:20]}


@bp.get("/processes/<key>")
def process(key):
    """版本: every version with its instance counts, the diff of two versions and the migration form."""
    data = deployment.versions_page(
        _core(),
        g.user,
        key,
        int_arg("from", None, low=0, high=fields.ID_MAX),
        int_arg("to", None, low=0, high=fields.ID_MAX),
    )
    return show(
        "admin_versions.html",
        data["layout"],
        key=key,
        versions=data["versions"],
        compare=data["compare"],
        summary=data["summary"],
        migration=None,
    )


@bp.post("/processes/<key>/versions/<int:version>/active")
def set_active(key, version):
    active = request.form.get("active") == "1"
    deployment.set_active(_core(), g.user.username, key, version, active)
    flash(f"已{'启用' if active else '停用'}第 {version} 版", "success")
    return redirect(url_for("admin.process", key=key))


@bp.get("/processes/<key>/versions/<int:version>")
def version(key, version):
    """A deployed version: its diagram (or why there is none), nodes and forms."""
    data = deployment.version_page(_core(), g.user, key, version)
    return show(
        "admin_version.html",
        data["layout"],
        row=data["row"],
        model=data["model"],
        forms=data["forms"],
        svg=data["svg"],
        assignees=data["assignees"],
    )


@bp.post("/processes/<key>/migrations")
def migration(key):
    """试迁移 (dry run) or 迁移 (migrate the safe instances), for one instance or all of a version."""
    core = _core()
    form = request.form
    result, error = None, None
    try:
        old, new = int(form.get("from_version", "")), int(form.get("to_version", ""))
        ids = [int(x) for x in form.get("instance_ids", "").replace("，", ",").split(",") if x.strip()] or None
        if not all(0 < n <= fields.ID_MAX for n in (old, new, *(ids or []))):
            raise ValueError("out of range")
    except ValueError:
        old = new = ids = None
        error = "请选择版本；申请编号用逗号分隔"
    if error is None:
        try:
            if form.get("action") == "migrate":
                result = instance_migration.migrate(core, g.user.username, key, old, new, ids)
                flash(f"已迁移 {len(result['migrated'])} 个实例，{result['unsafe']} 个未迁移", "success")
            else:
                result = instance_migration.dry_run(core, g.user.username, key, old, new, ids)
        except (InvalidData, OaflowError) as exc:
            if exc.status not in (404, 409, 422):
                raise
            error = exc.message
    if error is not None:
        return postback.back(url_for("admin.process", key=key), error)
    if form.get("action") == "migrate":
        return redirect(url_for("admin.process", key=key), 303)
    compare = (old, new) if error is None else (None, None)
    data = deployment.versions_page(core, g.user, key, *compare, newest_by_default=False)
    html = show(
        "admin_versions.html",
        data["layout"],
        key=key,
        versions=data["versions"],
        compare=data["compare"],
        summary=data["summary"],
        migration=result,
        migration_action=form.get("action"),
        migration_error=error,
        form=form,
    )
    return html, (422 if error else 200)
