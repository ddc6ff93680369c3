"""The authorization matrix: every route of the app (pages and /api/v1, every method but HEAD/OPTIONS) is
called as each of six people, and the answer must match the route's row in ROWS below.

    anonymous   nobody signed in
    stranger    lisi: a colleague of the applicant with no part in the application
    reader      zhaolei: the application was 知会'd to him and he has read it (may see it, never act on it)
    assignee    sunli: holds the open work item of the application (部门负责人审批)
    initiator   zhangsan: started the application (请假)
    admin       the demo administrator (系统管理员)
    process_admin  liuchang: a 流程管理员 with no part in the applications, none of the scenario's processes his
    file_admin  zhouyi: a 文件管理员 (公文 registers and 文号) with no part in the applications

Adding a route? Add ONE line to ROWS, keyed by its endpoint name (test_every_route_has_a_row names it):

    "blueprint.view": ADMIN,                                      # who may call it, the same for every method
    "blueprint.view": Row(SIGNED_IN, body={"text": "…"}),         # + a body that would succeed
    "blueprint.view": Row({"GET": PARTICIPANT, "POST": ASSIGNEE}, body=...),   # per method
    "blueprint.view": Row(ASSIGNEE, on={"item_id": "approved_item"}),         # another object of the scenario

Who may: PUBLIC (anyone, signed in or not), SIGNED_IN (any account), PARTICIPANT (initiator, assignee,
reader and administrators: who may see the application), ASSIGNEE, INITIATOR, ADMIN, OWNER (the owner of
a personal record: the scenario's 常用意见, 代理 and messages are sunli's), or a union: INITIATOR | ADMIN.
`body` is JSON for /api/v1 and form fields for pages (the CSRF token is added), sent with every method but
GET; `query` is the query string of a GET.
Give a body with which an allowed caller would succeed: a denial must come from who is asking, not from
bad input. Path values are named after the route's parameters (what `_build_scenario` returns: the 请假
zhangsan started, its item with sunli, …); `on` picks another object of the scenario for a parameter.

What each cell must answer:
  allowed            neither 401, 403 nor 404 (the objects exist), never 5xx, no login page, no error message
                     flashed by a page; a 4xx for bad input or the state is fine; the API's errors are JSON
  denied, anonymous  API: 401 with a JSON error; pages: a redirect to the login page
  denied, signed in  the product's convention (`refusal_status`): 403 on administrators' routes; 404 for an
                     application the caller has no part in, or another person's record; 403 otherwise — as
                     JSON with an error message on the API, as an error page on pages, or, on the pages'
                     operation forms, a redirect back to the page with the refusal as an error message;
                     a 404 reads exactly like the answer for an id nothing has (no existence oracle)
  denied, any        nothing stored: no transaction committed at all (SQLite's `PRAGMA data_version`, read
                     before and after on a connection of its own, is unchanged)

Every scenario object is made once per module; a cell whose request changed stored data leaves the next
cell a fresh copy of the scenario database. SQLite only: the rules live in the engine, the same on both.
"""

from __future__ import annotations

import base64
import io
import shutil
import sqlite3
import struct
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from attachment_files import PDF
from support import CONTRACT, LEAVE, PASSWORD, ApiClient, sign_in

from engine.core import Core
from engine.process import definitions, library
from webapp import create_app

ROLES = ("anonymous", "stranger", "reader", "assignee", "initiator", "admin", "process_admin", "file_admin")
USERNAMES = {
    "stranger": "lisi",
    "reader": "zhaolei",
    "assignee": "sunli",
    "initiator": "zhangsan",
    "admin": "admin",
    "process_admin": "liuchang",
    "file_admin": "zhouyi",
}

PUBLIC = frozenset(ROLES)
SIGNED_IN = PUBLIC - {"anonymous"}
PARTICIPANT = frozenset({"reader", "assignee", "initiator", "admin"})
ASSIGNEE = frozenset({"assignee"})
INITIATOR = frozenset({"initiator"})
ADMIN = frozenset({"admin"})
PROCESS_ADMIN = frozenset({"process_admin"})  # deploys; the versions of his own processes only
FILE_ADMIN = frozenset({"file_admin"})  # the 发文字号 register
ADMINS = ADMIN | PROCESS_ADMIN | FILE_ADMIN
STRANGERS = frozenset({"stranger", "process_admin", "file_admin"})  # no part in the scenario's applications
OWNER = ASSIGNEE  # the scenario's personal records (常用意见, 代理, messages) are the assignee's, sunli's


@dataclass(frozen=True)
class Row:
    allowed: frozenset | dict
    body: dict | None = None
    query: dict | None = None
    on: dict = field(default_factory=dict)
    files: bool = False  # send the scenario's process file as a multipart upload (deployments)
    upload: bool = False  # send a small PDF as the multipart field `file` (附件)
    sheet: bool = False  # send a one-account CSV as the multipart field `file` (导入用户), with the body's fields
    departments_sheet: bool = False  # send a one-department CSV as `file` (导入部门), with the body's fields
    # The scenario has no object in the state the route needs (an application in 异常): an allowed caller
    # passes the who-check and is then refused with exactly this message about the state, and nothing else.
    state_refusal: str | None = None
    json: bool = False  # a page route that takes JSON (oaflow.js's previews): the body as JSON, CSRF as a header

    def who(self, method: str) -> frozenset:
        return self.allowed[method] if isinstance(self.allowed, dict) else self.allowed


LEAVE_FORM = {k: str(v) for k, v in LEAVE.items()}
OTHER = "wangfang"  # a third person to hand over to, 知会 or add (not part of the scenario's applications)

ROWS: dict[str, Row | frozenset] = {
    # --- public ---------------------------------------------------------------------------------------
    "static": PUBLIC,
    "account.login": Row(PUBLIC, body={"username": "zhangsan", "password": PASSWORD}),
    "account.logout": PUBLIC,
    "api.openapi": PUBLIC,
    "api.token": Row(PUBLIC, body={"username": "zhangsan", "password": PASSWORD}),
    # --- anyone signed in: their own lists, settings and personal records --------------------------------
    "inbox.index": SIGNED_IN,
    "inbox.box": SIGNED_IN,
    # 批量同意: anyone may send a batch; each item is checked on its own (another's item is refused in the summary)
    "inbox.batch_approve": Row(SIGNED_IN, body={"ids": "1", "opinion": "同意"}),
    "start.processes": SIGNED_IN,
    "start.form": Row(SIGNED_IN, body=LEAVE_FORM),
    "start.preview": Row(SIGNED_IN, body={"data": LEAVE}, json=True),
    "messages.inbox": SIGNED_IN,
    "messages.read_all": SIGNED_IN,
    "messages.settings": Row(SIGNED_IN, body={"email": "me@example.com"}),
    "messages.open_message": OWNER,
    "settings.delegation": SIGNED_IN,
    "settings.create_delegation": Row(
        SIGNED_IN, body={"delegate": OTHER, "starts_on": "2027-05-06", "ends_on": "2027-05-07"}
    ),
    "settings.end_delegation": OWNER,
    "settings.phrases": SIGNED_IN,
    "settings.add_phrase": Row(SIGNED_IN, body={"text": "同意，请按时返岗"}),
    "settings.delete_phrase": OWNER,
    "api.me": SIGNED_IN,
    "api_recovery.errors": ADMIN,
    "api_recovery.retry": ADMIN,
    "recovery.errors": ADMIN,
    "recovery.retry": Row(ADMIN, state_refusal="该申请审批中，不在异常状态，无需重试"),
    # 流程监控, 日志 (administrators) and the search (anyone: their own applications)
    "api_monitor.instances": Row(ADMIN | PROCESS_ADMIN, query={"q": "请假"}),  # his find none of them
    "api_monitor.jump": Row(
        ADMIN, body={"node": "Task_dept_leader", "reason": "重新审核"}, on={"instance_id": "approved_instance"}
    ),
    "api_monitor.terminate": Row(ADMIN, body={"reason": "申请有误"}),
    "api_monitor.reassign": Row(ADMIN, body={"to_user": OTHER, "reason": "原办理人出差"}),
    "api_monitor.login_logs": ADMIN,
    "api_monitor.operation_logs": ADMIN,
    "api_monitor.find": Row(SIGNED_IN, query={"q": "请假"}),
    "monitor.instances": Row(ADMIN | PROCESS_ADMIN, query={"q": "请假"}),
    "monitor.instance": ADMIN,
    "monitor.jump": Row(
        ADMIN, body={"node": "Task_dept_leader", "reason": "重新审核"}, on={"instance_id": "approved_instance"}
    ),
    "monitor.terminate": Row(ADMIN, body={"reason": "申请有误"}),
    "monitor.reassign": Row(ADMIN, body={"to_user": OTHER, "reason": "原办理人出差"}),
    "monitor.login_logs": ADMIN,
    "monitor.operation_logs": ADMIN,
    "monitor.retention": Row(ADMIN, body={"retention_days": "200"}),
    "monitor.find": Row(SIGNED_IN, query={"q": "请假"}),
    "api.revoke_token": SIGNED_IN,
    "api.change_password": Row(SIGNED_IN, body={"old_password": PASSWORD, "new_password": "another-secret-9"}),
    "account.password": Row(
        SIGNED_IN, body={"old_password": PASSWORD, "new_password": "another-secret-9", "confirm": "another-secret-9"}
    ),
    "api.processes": SIGNED_IN,
    "api.process": SIGNED_IN,
    "api.start": Row(SIGNED_IN, body={"process": "leave", "data": LEAVE}),
    "api_attachments.upload": Row(SIGNED_IN, upload=True),
    "api.computed": Row(SIGNED_IN, body={"data": LEAVE}),
    "api.work_items": Row(SIGNED_IN, query={"box": "todo"}),
    "api_documents.search": Row(SIGNED_IN, query={"q": "通知", "year": "2026"}),
    "api.batch_complete": Row(SIGNED_IN, body={"ids": [1], "opinion": "同意"}),
    "api_notifications.inbox": SIGNED_IN,
    "api_notifications.mark_read": Row(SIGNED_IN, body={"all": True}),
    "api_notifications.settings": SIGNED_IN,
    "api_notifications.set_settings": Row(SIGNED_IN, body={"email": "me@example.com"}),
    "api_operations.list_delegations": SIGNED_IN,
    "api_operations.create_delegation": Row(
        SIGNED_IN, body={"delegate": OTHER, "starts_on": "2027-05-06", "ends_on": "2027-05-07"}
    ),
    "api_operations.end_delegation": OWNER,
    "api_operations.list_phrases": SIGNED_IN,
    "api_operations.add_phrase": Row(SIGNED_IN, body={"text": "同意，请按时返岗"}),
    "api_operations.delete_phrase": OWNER,
    # --- an application: who may see it, who may act on it -------------------------------------------------
    "instance.page": PARTICIPANT,
    "api.instance": PARTICIPANT,
    "api_designer.waiting": PARTICIPANT,
    "api_attachments.instance_attachments": Row(PARTICIPANT, on={"instance_id": "contract_instance"}),
    "api_attachments.download": PARTICIPANT,
    "attachments.download": PARTICIPANT,
    "printing.approval_form": PARTICIPANT,
    "printing.processing_sheet": PARTICIPANT,
    "printing.redhead": PARTICIPANT,
    "api_print.approval_form": PARTICIPANT,
    "api_print.processing_sheet": PARTICIPANT,
    "instance_ops.signature": Row(PARTICIPANT, on={"instance_id": "signed_instance", "item_id": "signed_item"}),
    "api_operations.signature": Row(PARTICIPANT, on={"instance_id": "signed_instance", "item_id": "signed_item"}),
    "api_operations.mark_read": PARTICIPANT,
    "instance_ops.cc": Row(INITIATOR | ASSIGNEE | ADMIN, body={"users": OTHER, "message": "请知悉"}),
    "api_operations.cc": Row(INITIATOR | ASSIGNEE | ADMIN, body={"users": [OTHER], "message": "请知悉"}),
    # 传阅: the holder of an open item (sunli) or an administrator; 撤回传阅: who circulated, or an administrator
    "instance_ops.circulate": Row(ASSIGNEE | ADMIN, body={"users": OTHER, "message": "请阅示"}),
    "api_operations.circulate": Row(ASSIGNEE | ADMIN, body={"users": [OTHER], "message": "请阅示"}),
    "instance_ops.recall_readers": Row(ASSIGNEE | ADMIN, body={"users": OTHER}, on={"instance_id": "circulated"}),
    "api_operations.recall_readers": Row(ASSIGNEE | ADMIN, body={"users": [OTHER]}, on={"instance_id": "circulated"}),
    "instance_ops.withdraw": INITIATOR,
    "api_operations.withdraw": INITIATOR,
    "instance_ops.urge": Row(INITIATOR, body={"message": "请尽快审批"}),
    "api_operations.urge": Row(INITIATOR, body={"message": "请尽快审批"}),
    "instance_ops.cancel": Row(INITIATOR | ADMIN, body={"reason": "计划有变"}),
    "api_operations.cancel": Row(INITIATOR | ADMIN, body={"reason": "计划有变"}),
    "instance_ops.suspend": Row(ADMIN, body={"reason": "等待材料"}),
    "api_admin_calendar.suspend": Row(ADMIN, body={"reason": "等待材料"}),
    "instance_ops.resume": Row(ADMIN, body={"reason": "材料已到"}, on={"instance_id": "suspended_instance"}),
    "api_admin_calendar.resume": Row(ADMIN, body={"reason": "材料已到"}, on={"instance_id": "suspended_instance"}),
    "api_designer.complete_external": Row(ADMIN, body={"data": {}}, on={"instance_id": "events_instance"}),
    "api_designer.instance_message": Row(
        ADMIN, body={"name": "矩阵到账", "payload": {}}, on={"instance_id": "events_instance"}
    ),
    # --- a work item: its holder acts on it; participants may look --------------------------------------------
    "work_item.page": Row({"GET": PARTICIPANT, "POST": ASSIGNEE}, body={"decision": "approve", "opinion": "同意"}),
    "api.work_item": PARTICIPANT,
    "api.item_computed": Row(ASSIGNEE, body={"data": {}}),
    "work_item.preview": Row(ASSIGNEE, body={"data": {}}, json=True),
    "api.complete": Row(ASSIGNEE, body={"decision": "approve", "opinion": "同意"}),
    "item_ops.send_back": Row(ASSIGNEE, body={"opinion": "请补充说明"}),
    "api_operations.send_back": Row(ASSIGNEE, body={"opinion": "请补充说明"}),
    "api_operations.send_back_targets": ASSIGNEE,
    "item_ops.transfer": Row(ASSIGNEE, body={"to_user": OTHER, "opinion": "请代为审批"}),
    "api_operations.transfer": Row(ASSIGNEE, body={"to_user": OTHER, "opinion": "请代为审批"}),
    "item_ops.delegate": Row(ASSIGNEE, body={"to_user": OTHER, "opinion": "请协助办理"}),
    "api_operations.delegate": Row(ASSIGNEE, body={"to_user": OTHER, "opinion": "请协助办理"}),
    "item_ops.resolve": Row(ASSIGNEE, body={"opinion": "已办理"}, on={"item_id": "delegated_item"}),
    "api_operations.resolve": Row(ASSIGNEE, body={"opinion": "已办理"}, on={"item_id": "delegated_item"}),
    "item_ops.add_signers": Row(ASSIGNEE, body={"users": OTHER, "position": "after", "opinion": "请会签"}),
    "api_operations.add_signers": Row(ASSIGNEE, body={"users": [OTHER], "position": "after", "opinion": "请会签"}),
    "item_ops.remove_signers": Row(ASSIGNEE, body={"users": OTHER}, on={"item_id": "adding_item"}),
    "api_operations.remove_signers": Row(ASSIGNEE, body={"users": [OTHER]}, on={"item_id": "adding_item"}),
    "item_ops.cc": Row(ASSIGNEE, body={"users": OTHER, "message": "请知悉"}),
    "item_ops.recall": Row(ASSIGNEE, on={"item_id": "approved_item"}),
    "item_ops.read": Row(ASSIGNEE, body={"comment": "已阅，同意"}, on={"item_id": "read_item"}),
    "api_operations.read": Row(ASSIGNEE, body={"comment": "已阅，同意"}, on={"item_id": "read_item"}),
    "api_operations.recall": Row(ASSIGNEE, on={"item_id": "approved_item"}),
    # 撤销申请 from the drafter's 重新提交 page: the item of a sent-back application, held by its initiator
    "item_ops.cancel": Row(INITIATOR, body={"reason": "计划有变"}, on={"item_id": "resubmit_item"}),
    # --- administrators ----------------------------------------------------------------------------------------
    "calendar.page": ADMIN,
    "calendar.set_day": Row(ADMIN, body={"date": "2026-12-31", "is_workday": "0", "note": "矩阵"}),
    "calendar.import_year": Row(ADMIN, body={"year": "2027", "text": "2027-01-01 休 元旦"}),
    "calendar.office_hours": Row(ADMIN, body={"timezone": "Asia/Shanghai", "periods": "09:00-12:00\n13:30-18:00"}),
    "messages.failures": ADMIN,
    "messages.retry": ADMIN,
    "reports.monthly": ADMIN,
    "reports.monthly_xlsx": ADMIN,
    "reports.items": Row(ADMIN, query={"scope": "department", "key": "业务部", "measure": "handled"}),
    "admin.processes": Row(ADMIN | PROCESS_ADMIN, body={"action": "validate"}, files=True),
    "admin.process": ADMIN,
    "admin.version": ADMIN,
    "admin.set_active": Row(ADMIN, body={"active": "0"}),
    "admin.migration": Row(ADMIN, body={"from_version": "1", "to_version": "2"}),
    "api.deploy": Row(ADMIN | PROCESS_ADMIN, files=True),
    "api_designer.validate": Row(ADMIN | PROCESS_ADMIN, files=True),
    "api_designer.process_versions": ADMIN,
    "api_designer.activate": ADMIN,
    "api_designer.deactivate": ADMIN,
    "api_designer.diff": Row(ADMIN, query={"from": "1", "to": "2"}),
    "api_designer.version_diagram": ADMIN,
    "api_designer.migration_dry_run": Row(ADMIN, body={"from_version": 1, "to_version": 2}),
    "api_designer.migration": Row(ADMIN, body={"from_version": 1, "to_version": 2}),
    "api_designer.start_message": Row(ADMIN, body={"name": "矩阵订单", "payload": {}}),
    "api_designer.signal": Row(ADMIN, body={"name": "矩阵信号", "payload": {}}),
    "api_admin_calendar.calendar_year": ADMIN,
    "api_admin_calendar.calendar_day": Row(ADMIN, body={"is_workday": False, "note": "矩阵"}),
    "api_admin_calendar.calendar_history": ADMIN,
    "api_admin_calendar.calendar_import": Row(ADMIN, body={"year": 2027, "text": "2027-01-01 休 元旦"}),
    "api_admin_calendar.office_hours": ADMIN,
    "api_admin_calendar.set_office_hours": Row(
        ADMIN, body={"timezone": "Asia/Shanghai", "periods": ["09:00-12:00", "13:30-18:00"]}
    ),
    "api_notifications.failures": ADMIN,
    "api_notifications.retry": ADMIN,
    "api_notifications.get_config": ADMIN,
    "api_notifications.set_config": Row(ADMIN, body={}),
    "api_reports.monthly": Row(ADMIN, query={"month": "2026-11"}),
    "api_reports.monthly_xlsx": Row(ADMIN, query={"month": "2026-11"}),
    "api_reports.snapshot": Row(ADMIN, body={"snapshot": "day28"}),
    "doc_numbers.page": ADMIN | FILE_ADMIN,
    "doc_numbers.set_next": Row(ADMIN | FILE_ADMIN, body={"prefix": "示例办发", "year": "2026", "next": "5"}),
    "doc_numbers.void": Row(
        ADMIN | FILE_ADMIN, body={"prefix": "示例办发", "year": "2026", "number": "3", "reason": "矩阵"}
    ),
    "doc_numbers.reserve": Row(ADMIN | FILE_ADMIN, body={"prefix": "示例办发", "year": "2026", "number": "7"}),
    "api_documents.counters": ADMIN | FILE_ADMIN,
    "api_documents.set_next": Row(ADMIN | FILE_ADMIN, body={"next": 5, "reason": "矩阵"}),
    "api_documents.void": Row(ADMIN | FILE_ADMIN, body={"number": 3, "reason": "矩阵", "reuse": True}),
    "api_documents.reserve": Row(ADMIN | FILE_ADMIN, body={"count": 2}),
    # the number is not reserved: an administrator passes the who-check and is refused for the state (409)
    "budgets.page": ADMIN,
    "budgets.set_budget": Row(
        ADMIN, body={"department": "业务部", "category": "差旅费", "year": "2026", "amount": "100"}
    ),
    "budgets.import_file": Row(ADMIN, body={"csv": "部门,费用类型,年度,预算金额\n业务部,培训,2026,500"}),
    "api_budgets.listing": ADMIN,
    "api_budgets.put": Row(ADMIN, body={"department": "业务部", "category": "差旅费", "year": 2026, "amount": 100}),
    "api_budgets.import_budgets": Row(
        ADMIN, body={"budgets": [{"department": "业务部", "category": "培训", "year": 2026, "amount": 500}]}
    ),
    "api_budgets.remaining": SIGNED_IN,
    "api_documents.assign": Row(ADMIN | FILE_ADMIN, body={"number": 9, "instance_id": 1}),
    # 组织与用户: the system administrators only
    "org.page": ADMIN,
    "org.create_department": Row(ADMIN, body={"name": "矩阵部", "parent": "示例单位"}),
    "org.update_department": Row(ADMIN, body={"name": "人事部", "parent": "示例单位", "leader": "liuyang"}),
    "org.create_user": Row(ADMIN, body={"username": "matrixuser", "display_name": "矩阵用户"}),
    "org.update_user": Row(ADMIN, body={"display_name": "李四", "department": "业务部"}),
    "org.set_active": Row(ADMIN, body={"active": "1"}),
    "org.reset_password": ADMIN,
    "org.export": ADMIN,
    "org.import_users": Row(ADMIN, body={"action": "preview"}, sheet=True),
    "org.export_departments": ADMIN,
    "org.import_departments": Row(ADMIN, body={"action": "preview"}, departments_sheet=True),
    "api_org.departments": ADMIN,
    "api_org.create_department": Row(ADMIN, body={"name": "矩阵部", "parent": "示例单位"}),
    "api_org.update_department": Row(ADMIN, body={"leader": "liuyang"}),
    "api_org.users": ADMIN,
    "api_org.create_user": Row(ADMIN, body={"username": "matrixuser", "display_name": "矩阵用户"}),
    "api_org.update_user": Row(ADMIN, body={"title": "业务员"}),
    "api_org.reset_password": ADMIN,
    "api_org.import_users": Row(ADMIN, body={"dry_run": "1"}, sheet=True),
    "api_org.import_departments": Row(ADMIN, body={"dry_run": "1"}, departments_sheet=True),
}

USERS_CSV = "登录名,姓名,部门\nmatrixsheet,矩阵导入,业务部\n".encode()
DEPARTMENTS_CSV = "部门名称,上级部门,负责人\n矩阵导入部,示例单位,liuyang\n".encode()

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
LOGIN_PATH = "/login"


def _row(endpoint: str) -> Row:
    value = ROWS[endpoint]
    return value if isinstance(value, Row) else Row(value)


# --- the scenario -----------------------------------------------------------------------------------------------

EVENTS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
             id="defs_{key}" targetNamespace="https://oaflow.example/tests">
"""

# Waits on external work (查询信用) and on a message (矩阵到账) at once.
EVENTS = (
    EVENTS_HEAD.format(key="matrix_events")
    + """  <message id="m_paid" name="矩阵到账" />
  <process id="matrix_events" name="矩阵事件" isExecutable="true">
    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="split" />
    <parallelGateway id="split" />
    <sequenceFlow id="f2" sourceRef="split" targetRef="call" />
    <sequenceFlow id="f3" sourceRef="split" targetRef="wait" />
    <serviceTask id="call" name="查询信用" camunda:class="org.example.CreditCheck" />
    <receiveTask id="wait" name="等待到账" messageRef="m_paid" />
    <sequenceFlow id="f4" sourceRef="call" targetRef="join" />
    <sequenceFlow id="f5" sourceRef="wait" targetRef="join" />
    <parallelGateway id="join" />
    <sequenceFlow id="f6" sourceRef="join" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>
"""
).encode()

# Started by a message (POST /api/v1/messages).
ORDER = (
    EVENTS_HEAD.format(key="matrix_order")
    + """  <message id="m_order" name="矩阵订单" />
  <process id="matrix_order" name="矩阵订单" isExecutable="true">
    <startEvent id="s"><messageEventDefinition messageRef="m_order" /></startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="handle" />
    <userTask id="handle" name="处理订单" />
    <sequenceFlow id="f2" sourceRef="handle" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>
"""
).encode()

# What the deployment routes upload: a new process, so an allowed upload stores a version.
UPLOAD = (
    EVENTS_HEAD.format(key="matrix_upload")
    + """  <process id="matrix_upload" name="矩阵上传" isExecutable="true">
    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>
"""
).encode()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 4, 2, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * 4 for _ in range(2)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


SIGNATURE = "data:image/png;base64," + base64.b64encode(_png()).decode()


def _ok(response, what: str):
    assert response.status_code < 300, (what, response.status_code, response.get_json(silent=True))
    return response.get_json()


def _build_scenario(path) -> dict:
    """Every object a row may name, made through the API as the demo users; returns the path values."""
    core = Core(url=f"sqlite:///{path}")
    with core.db.write() as conn:
        definitions.deploy(conn, {"matrix_events.bpmn": EVENTS, "matrix_order.bpmn": ORDER}, None)
    client = create_app(core, {"TESTING": True}).test_client()
    api = {name: ApiClient(client, name) for name in ("zhangsan", "sunli", "huangwei", "zhaolei", "admin")}
    for username, role in (("liuchang", "process_admin"), ("zhouyi", "file_admin")):  # their own password set
        account = {"username": username, "display_name": username, "roles": [role], "password": "first-time-1"}
        _ok(api["admin"].post("/api/v1/admin/users", json=account), "create user")
        token = _ok(client.post("/api/v1/auth/token", json={"username": username, "password": "first-time-1"}), "t")
        change = {"old_password": "first-time-1", "new_password": PASSWORD}
        headers = {"Authorization": "Bearer " + token["token"]}
        _ok(client.post("/api/v1/me/password", json=change, headers=headers), "password")

    def read_by_reader(instance_id: int) -> int:
        """zhangsan 知会s the application to the reader, who opens it."""
        act("zhangsan", f"/instances/{instance_id}/cc", {"users": [USERNAMES["reader"]], "message": "请知悉"})
        act(USERNAMES["reader"], f"/instances/{instance_id}/read", {})
        return instance_id

    def start(days: int = 2, process: str = "leave") -> int:
        data = {**LEAVE, "days": days, "end_date": "2026-11-24" if days <= 2 else "2026-11-27"}
        body = {"process": process, "data": data if process == "leave" else {}}
        return read_by_reader(_ok(api["zhangsan"].post("/api/v1/instances", json=body), "start")["id"])

    def held(user: str, instance_id: int) -> int:
        listed = _ok(api[user].get("/api/v1/work-items?box=todo&per_page=100"), "todo")["items"]
        (item,) = [i["id"] for i in listed if i["instance_id"] == instance_id]
        return item

    def act(user: str, path: str, body: dict) -> dict:
        return _ok(api[user].post(f"/api/v1{path}", json=body), path)

    instance_id = start()
    item_id = held("sunli", instance_id)

    signed = start()  # sunli approved with a handwritten signature
    signed_item = held("sunli", signed)
    act(
        "sunli",
        f"/work-items/{signed_item}/complete",
        {"decision": "approve", "opinion": "同意", "signature": SIGNATURE},
    )

    approved = start(days=5)  # sunli approved; the next step (分管领导) has not acted: sunli may 撤回审批
    approved_item = held("sunli", approved)
    act("sunli", f"/work-items/{approved_item}/complete", {"decision": "approve", "opinion": "同意"})

    sent_back = start()  # sent back to zhangsan, who holds the 重新提交 item
    act("sunli", f"/work-items/{held('sunli', sent_back)}/send-back", {"opinion": "请补充说明", "to_node": "initiator"})
    resubmit_item = held("zhangsan", sent_back)

    delegating = start(days=5)  # 分管领导 huangwei 委派 his item to sunli: she holds it until 办理完成
    act("sunli", f"/work-items/{held('sunli', delegating)}/complete", {"decision": "approve", "opinion": "同意"})
    act("huangwei", f"/work-items/{held('huangwei', delegating)}/delegate", {"to_user": "sunli", "opinion": "请协助"})
    delegated_item = held("sunli", delegating)

    adding = start()  # sunli added wangfang after herself (后加签): sunli may 减签
    adding_item = held("sunli", adding)
    act("sunli", f"/work-items/{adding_item}/add-signers", {"users": [OTHER], "position": "after", "opinion": "请会签"})

    circulated = start()  # sunli circulated it to wangfang, who has not read it; the administrator, to sunli
    act("sunli", f"/instances/{circulated}/circulate", {"users": [OTHER]})
    act("admin", f"/instances/{circulated}/circulate", {"users": ["sunli"]})
    (read_item,) = [
        i["id"]
        for i in _ok(api["sunli"].get("/api/v1/work-items?box=read"), "read")["items"]
        if i["instance_id"] == circulated
    ]

    suspended = start()
    act("admin", f"/instances/{suspended}/suspend", {"reason": "等待材料"})

    events_instance = start(process="matrix_events")

    # a 合同会签 with its contract text (sunli approves it first; zhaolei reads it)
    upload = api["zhangsan"].post(
        "/api/v1/attachments", data={"file": (io.BytesIO(PDF), "合同.pdf")}, content_type="multipart/form-data"
    )
    attachment_id = _ok(upload, "upload")["id"]
    contract = {"process": "contract_countersign", "data": {**CONTRACT, "contract_file": {"id": attachment_id}}}
    contract_instance = read_by_reader(_ok(api["zhangsan"].post("/api/v1/instances", json=contract), "contract")["id"])

    phrase_id = _ok(api["sunli"].post("/api/v1/phrases", json={"text": "同意"}), "phrase")["id"]
    delegation_id = _ok(
        api["sunli"].post(
            "/api/v1/delegations", json={"delegate": OTHER, "starts_on": "2027-03-01", "ends_on": "2027-03-05"}
        ),
        "delegation",
    )["id"]
    notification_id = _ok(api["sunli"].get("/api/v1/notifications"), "notifications")["items"][0]["id"]

    # 请假 version 2, so that the versions' difference and the migration of version 1 have something to do
    files = library.library_files()
    second = files["leave.bpmn"].replace('name="请假申请"'.encode(), 'name="请假申请（第二版）"'.encode())
    with core.db.write() as conn:
        definitions.deploy(
            conn, {**{n: v for n, v in files.items() if n.startswith("leave")}, "leave.bpmn": second}, None
        )
    core.db.dispose()
    return {
        "instance_id": instance_id,
        "item_id": item_id,
        "signed_instance": signed,
        "signed_item": signed_item,
        "approved_item": approved_item,
        "approved_instance": approved,
        "resubmit_item": resubmit_item,
        "delegated_item": delegated_item,
        "adding_item": adding_item,
        "suspended_instance": suspended,
        "circulated": circulated,
        "read_item": read_item,
        "events_instance": events_instance,
        "contract_instance": contract_instance,
        "attachment_id": attachment_id,
        "element": "call",
        "phrase_id": phrase_id,
        "delegation_id": delegation_id,
        "notification_id": notification_id,
        "key": "leave",
        "version": 1,
        "day": "2026-12-31",
        "box": "todo",
        "filename": "style.css",
        "prefix": "示例办发",
        "year": 2026,
        "name": "人事部",
        "username": "lisi",
    }


# --- running the cells -------------------------------------------------------------------------------------------


class World:
    """One copy of the scenario database with its own app; `watch` sees every commit made to it."""

    def __init__(self, path):
        self.path = path
        self.core = Core(url=f"sqlite:///{path}")
        self.app = create_app(self.core, {"TESTING": True})
        self.watch = sqlite3.connect(path)
        self.tokens: dict[str, dict] = {}
        self.dirty = False

    def data_version(self) -> int:
        return self.watch.execute("PRAGMA data_version").fetchone()[0]

    def headers(self, role: str) -> dict:
        if role == "anonymous":
            return {}
        if role not in self.tokens:
            self.tokens[role] = ApiClient(self.app.test_client(), USERNAMES[role]).headers
        return self.tokens[role]

    def page_client(self, role: str):
        client = self.app.test_client()
        if role == "anonymous":
            with client.session_transaction() as session:
                session["csrf"] = "test-csrf"
        else:
            sign_in(client, self.core, USERNAMES[role])
        return client

    def close(self) -> None:
        self.watch.close()
        self.core.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)


class Matrix:
    def __init__(self, directory, scenario, values):
        self.directory, self.scenario, self.values = directory, scenario, values
        self.world: World | None = None
        self.worlds = 0
        self.requests = 0
        self.allowed_refusals: list[str] = []  # allowed callers turned away for their input or the state (4xx)

    def current(self) -> World:
        if self.world is None or self.world.dirty:
            if self.world is not None:
                self.world.close()
            self.worlds += 1
            path = self.directory / f"world{self.worlds}.sqlite3"
            with sqlite3.connect(self.scenario) as source, sqlite3.connect(path) as copy:
                source.backup(copy)
            source.close()
            copy.close()
            self.world = World(path)
        return self.world

    def rules(self):
        return [rule for rule in self.current().app.url_map.iter_rules()]

    def path(self, rule, row: Row, missing: bool = False) -> str:
        values = {name: self.values[row.on.get(name, name)] for name in rule.arguments}
        if missing:  # ids nothing has
            values.update({name: MISSING_ID for name in values if name in APPLICATION_PARAMETERS | RECORD_PARAMETERS})
        adapter = self.current().app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, force_external=False)

    def call(self, rule, method: str, role: str, row: Row, missing: bool = False):
        """(path, response, whether stored data changed, the error messages flashed)."""
        world = self.current()
        path = self.path(rule, row, missing)
        api = path.startswith("/api/")
        kwargs: dict = {"method": method}
        if method == "GET":
            kwargs["query_string"] = row.query or {}
        elif row.files:
            kwargs["data"] = {**(row.body or {}), "files": (io.BytesIO(UPLOAD), "matrix_upload.bpmn")}
            kwargs["content_type"] = "multipart/form-data"
        elif row.sheet:
            kwargs["data"] = {**(row.body or {}), "file": (io.BytesIO(USERS_CSV), "users.csv")}
            kwargs["content_type"] = "multipart/form-data"
        elif row.departments_sheet:
            kwargs["data"] = {**(row.body or {}), "file": (io.BytesIO(DEPARTMENTS_CSV), "departments.csv")}
            kwargs["content_type"] = "multipart/form-data"
        elif row.upload:
            kwargs["data"] = {"file": (io.BytesIO(PDF), "矩阵.pdf")}
            kwargs["content_type"] = "multipart/form-data"
        elif (api or row.json) and row.body is not None:
            kwargs["json"] = row.body
        elif not api:
            kwargs["data"] = dict(row.body or {})
        if api:
            client = world.app.test_client()
            kwargs["headers"] = world.headers(role)
        else:
            client = world.page_client(role)
            if method != "GET" and row.json:
                kwargs["headers"] = {"X-CSRF-Token": "test-csrf"}
            elif method != "GET":
                kwargs["data"]["csrf_token"] = "test-csrf"
        before = world.data_version()
        response = client.open(path, **kwargs)
        changed = world.data_version() != before
        self.requests += 1
        flashes = []
        if not api:
            with client.session_transaction() as session:
                flashes = [text for kind, text in session.get("_flashes", []) if kind == "error"]
        if changed:
            world.dirty = True
        return path, response, changed, flashes


def _error_text(response) -> str:
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        return str(body.get("error", body))[:120]
    return ""


def _login_redirect(response) -> bool:
    """The way pages ask for a login: a redirect to the login page naming where to come back to."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    location = urlsplit(response.headers.get("Location", ""))
    return location.path == LOGIN_PATH and "next=" in location.query


# The parameters that name an application, and those that name one person's record.
APPLICATION_PARAMETERS = {"instance_id", "item_id", "attachment_id"}
RECORD_PARAMETERS = {"phrase_id", "delegation_id", "notification_id"}
MISSING_ID = 987654321


def refusal_status(role: str, allowed: frozenset, parameters) -> int:
    """The product's convention for a signed-in caller who may not: 403 on administrators' routes (checked
    before anything is looked up); 404 for an application the caller has no part in or another person's
    record (the caller cannot tell it from one that does not exist); 403 otherwise (the caller may see it,
    but not do this)."""
    if allowed <= ADMINS:
        return 403
    if parameters & RECORD_PARAMETERS:
        return 404
    if parameters & APPLICATION_PARAMETERS and role in STRANGERS:
        return 404
    return 403


def judge(role: str, allowed: frozenset, rule, api: bool, response, changed: bool, flashes: list[str]) -> str | None:
    """What is wrong with one cell's answer, or None."""
    status = response.status_code
    said = _error_text(response) or "; ".join(flashes)
    if status >= 500:
        return f"server error {status}"
    if api and status >= 400 and not response.is_json:
        return f"{status} answered as {response.mimetype}, not JSON"
    if role in allowed:
        if status in (401, 403, 404):
            return f"allowed by its row, but refused with {status} ({said})"
        if _login_redirect(response):
            return "allowed by its row, but sent to the login page"
        if flashes:
            return f"allowed by its row, but the page showed an error ({said}): give the row a body that succeeds"
        return None
    if changed:
        return f"denied by its row, yet it stored a change (answered {status} {said})"
    if role == "anonymous":
        if api and (status != 401 or not said):
            return f"anonymous: expected 401 with a JSON error, got {status} ({said})"
        if not api and not _login_redirect(response):
            return f"anonymous: expected a redirect to the login page, got {status}"
        return None
    expected = refusal_status(role, allowed, set(rule.arguments))
    if status == expected and (said or not api):
        return None
    if not api and 300 <= status < 400 and flashes and not _login_redirect(response):
        return None  # the pages' forms: back where the form was, the refusal shown as an error message
    return f"denied by its row: expected {expected}, got {status} ({said})"


def hides(role: str, allowed: frozenset, rule) -> bool:
    """Whether the caller is refused as if the object did not exist (404)."""
    return role != "anonymous" and refusal_status(role, allowed, set(rule.arguments)) == 404


def tell_apart(matrix, rule, method: str, role: str, row: Row, response, flashes) -> str | None:
    """A refusal that hides an object must read exactly like the answer for an id nothing has."""
    _path, other, changed, other_flashes = matrix.call(rule, method, role, row, missing=True)
    seen = (response.status_code, _error_text(response), flashes)
    unseen = (other.status_code, _error_text(other), other_flashes)
    if changed:
        return f"an id nothing has, yet it stored a change (answered {other.status_code})"
    if seen != unseen:
        return f"tells an existing object from a missing one: {seen} against {unseen}"
    return None


@pytest.fixture(scope="module")
def matrix(sqlite_template, tmp_path_factory):
    directory = tmp_path_factory.mktemp("authorization_matrix")
    scenario = directory / "scenario.sqlite3"
    shutil.copy(sqlite_template, scenario)
    values = _build_scenario(scenario)
    result = Matrix(directory, scenario, values)
    yield result
    if result.world is not None:
        result.world.close()
    print(f"\nauthorization matrix: {result.requests} requests, {result.worlds} scenario copies")
    for line in result.allowed_refusals:
        print("  allowed, refused for input/state:", line)


def _routes(matrix) -> dict[str, list]:
    routes: dict[str, list] = {}
    for rule in matrix.rules():
        routes.setdefault(rule.endpoint, []).append(rule)
    return routes


def test_every_route_has_a_row(matrix):
    routes = _routes(matrix)
    missing = sorted(set(routes) - set(ROWS))
    assert not missing, (
        f"routes without a row in the authorization matrix: {missing}. Add one line per endpoint to ROWS in "
        f"{__file__} saying who may call it (see the top of that file), e.g. "
        f'"{missing[0]}": SIGNED_IN,'
    )
    stale = sorted(set(ROWS) - set(routes))
    assert not stale, f"rows for endpoints the app no longer has: {stale}; remove them from ROWS"


@pytest.mark.parametrize("endpoint", sorted(ROWS))
def test_route(matrix, endpoint):
    row = _row(endpoint)
    rules = _routes(matrix).get(endpoint)
    if not rules:
        pytest.fail(f"{endpoint}: the app has no such route (see test_every_route_has_a_row)")
    problems = []
    for rule in rules:
        for method in sorted(rule.methods - SKIPPED_METHODS):
            allowed = row.who(method)
            for role in ROLES:
                path, response, changed, flashes = matrix.call(rule, method, role, row)
                api = path.startswith("/api/")
                if role in allowed and row.state_refusal and flashes == [row.state_refusal]:
                    flashes = []
                problem = judge(role, allowed, rule, api, response, changed, flashes)
                if not problem and role not in allowed and hides(role, allowed, rule):
                    problem = tell_apart(matrix, rule, method, role, row, response, flashes)
                if problem:
                    problems.append(f"{method} {path} as {role} ({USERNAMES.get(role, 'nobody')}): {problem}")
                elif role in allowed and response.status_code >= 400:
                    matrix.allowed_refusals.append(f"{method} {path} as {role}: {response.status_code}")
    assert not problems, "\n".join(problems)
