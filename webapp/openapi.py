"""The OpenAPI 3.1 document for /api/v1, written by hand so it says what the API promises: the shared parts
and the core paths here, each area's paths in its own module."""

from __future__ import annotations

import re

from . import (
    openapi_attachments,
    openapi_budgets,
    openapi_calendar,
    openapi_designer,
    openapi_documents,
    openapi_monitor,
    openapi_notifications,
    openapi_operations,
    openapi_org,
    openapi_recovery,
    openapi_reports,
)
from .openapi_common import ERROR, error_responses, inbox_filter_parameters, json_body, response

COMPUTED_FIELDS = (
    "表单中带 x-computed 的字段（如请假的天数 days）由服务器根据其他字段计算（函数 working_days 按工作日历计数："
    "周末、法定节假日不计，调休上班日计入，开始/结束可为上午或下午以计半天）。客户端发送的值会被忽略并以服务器"
    "计算的值保存；路由条件使用计算值。日期范围为空、结束早于开始、没有工作日或跨度超过 366 天时返回 422，"
    "errors 指明字段。发起、退回后重新提交和审批表单保存时都会重新计算。"
)


def _preview(summary: str, parameters: list) -> dict:
    return {
        "summary": summary,
        "description": COMPUTED_FIELDS
        + " 本接口按已填写的内容给出计算字段的值（无法计算时为 null）及与之相关的问题，用于边填边显示。",
        "security": [{"bearer": []}],
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "properties": {"data": {"type": "object"}}}}},
        },
        "responses": {
            "200": response(
                "计算结果",
                {
                    "type": "object",
                    "properties": {
                        "values": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
                        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
                    },
                },
            ),
            **error_responses(401, 403, 404, 422),
        },
    }


def openapi_document() -> dict:
    bearer = [{"bearer": []}]
    item_id = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "oaflow API", "version": "1.0.0", "description": "协同办公审批平台 REST API"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR,
                "FieldError": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
                "DeployError": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string"},
                        "line": {"type": ["integer", "null"]},
                        "element": {"type": ["string", "null"]},
                        "message": {"type": "string"},
                    },
                },
                "Instance": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": [
                                "running",
                                "approved",
                                "rejected",
                                "cancelled",
                                "terminated",
                                "suspended",
                                "error",
                            ],
                        },
                        "status_label": {"type": "string"},
                        "initiator": {"type": "string"},
                        "version": {"type": "integer"},
                        "current_nodes": {"type": "array", "items": {"type": "string"}},
                        "doc_no": {
                            "type": "string",
                            "nullable": True,
                            "description": "发文字号，如 示例办发〔2026〕12号（编号前为 null）",
                        },
                        "work_items": {"type": "array", "items": {"type": "object"}},
                        "history": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "流转记录；每条带 round（第几轮，重新提交结束一轮）",
                        },
                        "rounds": {"type": "integer", "description": "轮次：1，每次重新提交加 1"},
                        "circulation": {"type": "array", "items": {"$ref": "#/components/schemas/Reader"}},
                    },
                },
                "Reader": {
                    "type": "object",
                    "description": "传阅名单中的一人",
                    "properties": {
                        "username": {"type": "string"},
                        "name": {"type": "string"},
                        "department": {"type": ["string", "null"]},
                        "state": {"type": "string", "enum": ["unread", "read", "commented"]},
                        "comment": {"type": ["string", "null"], "description": "最新的批示"},
                        "comments": {"type": "array", "items": {"type": "object"}, "description": "全部批示，按时间"},
                        "read_at": {"type": ["string", "null"]},
                        "circulated_by": {"type": ["string", "null"]},
                        "circulated_at": {"type": "string"},
                    },
                },
            },
        },
        "paths": {
            "/auth/token": {
                "post": {
                    "summary": "登录，换取访问令牌",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["username", "password"],
                                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": response("令牌（12 小时内有效，可用 DELETE 撤销）", {"type": "object"}),
                        **error_responses(401, 429),
                    },
                },
                "delete": {
                    "summary": "撤销本次请求所用的令牌（退出）",
                    "security": bearer,
                    "responses": {"204": {"description": "已撤销"}, **error_responses(401)},
                },
            },
            "/me": {
                "get": {
                    "summary": "当前用户与待办计数",
                    "security": bearer,
                    "responses": {"200": response("当前用户"), **error_responses(401)},
                }
            },
            "/me/password": {
                "post": {
                    "summary": "修改密码：其他所有登录与令牌随即失效，本次所用令牌保持有效",
                    "security": bearer,
                    "requestBody": json_body(
                        {"old_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 8}},
                        ["old_password", "new_password"],
                    ),
                    "responses": {"200": response("已修改"), **error_responses(401, 409, 422, 429)},
                }
            },
            "/processes": {
                "get": {
                    "summary": "我可以发起的流程",
                    "security": bearer,
                    "responses": {"200": response("流程列表"), **error_responses(401)},
                }
            },
            "/processes/{key}": {
                "get": {
                    "summary": "流程最新版本及其发起表单（JSON Schema）",
                    "security": bearer,
                    "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": response("流程"), **error_responses(401, 404)},
                }
            },
            "/processes/{key}/computed": {
                "post": _preview(
                    "预览发起表单的计算字段（不保存）",
                    [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                )
            },
            "/deployments": {
                "post": {
                    "summary": "部署 BPMN 与表单文件（管理员）",
                    "security": bearer,
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": response("部署结果：每个流程的版本号，内容未变时 created=false"),
                        "422": response(
                            "部署失败",
                            {
                                "type": "object",
                                "properties": {
                                    "error": {"type": "string"},
                                    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/DeployError"}},
                                },
                            },
                        ),
                        **error_responses(401, 403),
                    },
                }
            },
            "/instances": {
                "post": {
                    "summary": "发起申请",
                    "description": COMPUTED_FIELDS,
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["process"],
                                    "properties": {
                                        "process": {"type": "string"},
                                        "data": {"type": "object"},
                                        "priority": {"type": "string", "enum": ["紧急", "重要", "正常"]},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": response("已发起", {"$ref": "#/components/schemas/Instance"}),
                        **error_responses(401, 403, 404, 422),
                    },
                }
            },
            "/instances/{id}": {
                "get": {
                    "summary": "申请详情与流转记录（仅参与人和管理员可见）",
                    "security": bearer,
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": response("申请", {"$ref": "#/components/schemas/Instance"}),
                        **error_responses(401, 404),
                    },
                }
            },
            "/work-items": {
                "get": {
                    "summary": "待办 / 已办 / 我发起的 / 抄送我的 / 待阅",
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "box",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["todo", "done", "started", "cc", "read"]},
                        },
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        *inbox_filter_parameters(),
                    ],
                    "responses": {
                        "200": response(
                            "{items, total}；待办、已办的每项带 came_back（退回/撤回/委派返回：谁、何时、原因）"
                            "与 urged（催办次数、最近时间）"
                        ),
                        **error_responses(401, 422),
                    },
                }
            },
            "/work-items/{item_id}": {
                "get": {
                    "summary": "待办详情：节点、表单、当前数据、可执行操作、期限",
                    "description": "changed：重新提交后申请人修改的字段及修改前的值（{字段: 原值}；第一轮为空）",
                    "security": bearer,
                    "parameters": [item_id],
                    "responses": {"200": response("待办"), **error_responses(401, 404)},
                }
            },
            "/work-items/{item_id}/computed": {
                "post": _preview("预览本人待办表单的计算字段（退回后重新提交时为申请表单；不保存）", [item_id])
            },
            "/work-items/{item_id}/complete": {
                "post": {
                    "summary": "办理：同意或不同意",
                    "security": bearer,
                    "parameters": [item_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["decision"],
                                    "properties": {
                                        "data": {"type": "object"},
                                        "decision": {"type": "string", "enum": ["approve", "reject"]},
                                        "opinion": {"type": "string"},
                                        "signature": {
                                            "type": "string",
                                            "description": "手写签名，PNG data URL（不超过 64 KB）",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": response("已办理"), **error_responses(401, 403, 404, 409, 422)},
                }
            },
            **openapi_operations.paths(),
            **openapi_calendar.paths(),
            **openapi_notifications.paths(),
            **openapi_reports.paths(),
            **openapi_designer.paths(),
            **openapi_recovery.paths(),
            **openapi_attachments.paths(),
            **openapi_documents.paths(),
            **openapi_budgets.paths(),
            **openapi_monitor.paths(),
            **openapi_org.paths(),
        },
    }
    _declare_path_parameters(document["paths"])
    return document


def _declare_path_parameters(paths: dict) -> None:
    """Every `{name}` in a path is a required path parameter of each of its operations."""
    for path, operations in paths.items():
        names = re.findall(r"\{(\w+)\}", path)
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            for name in names:
                if name not in declared:
                    kind = "integer" if name in {"id", "item_id", "version", "instance_id"} else "string"
                    operation.setdefault("parameters", []).append(
                        {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
                    )
