"""The OpenAPI 3.1 document for /api/v1, written by hand so it says what the API promises."""

from __future__ import annotations

import re

from .openapi_deadlines import paths as deadline_paths


def designer_paths() -> dict:
    from .api_designer import openapi_paths  # imported late: api_designer imports the app's helpers

    return openapi_paths()


ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "中文错误说明"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["error"],
}


def _resp(description: str, schema: dict | None = None) -> dict:
    body = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def _errors(*codes: int) -> dict:
    text = {
        401: "未登录或令牌无效",
        403: "无权执行",
        404: "不存在或无权查看",
        409: "状态不允许（例如待办已处理）",
        422: "数据无效：errors 列出每个字段或 BPMN 元素",
    }
    return {str(code): _resp(text[code], {"$ref": "#/components/schemas/Error"}) for code in codes}


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
                            "enum": ["running", "approved", "rejected", "cancelled", "suspended", "error"],
                        },
                        "status_label": {"type": "string"},
                        "initiator": {"type": "string"},
                        "version": {"type": "integer"},
                        "current_nodes": {"type": "array", "items": {"type": "string"}},
                        "work_items": {"type": "array", "items": {"type": "object"}},
                        "history": {"type": "array", "items": {"type": "object"}},
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
                    "responses": {"200": _resp("令牌", {"type": "object"}), **_errors(401)},
                }
            },
            "/me": {
                "get": {
                    "summary": "当前用户与待办计数",
                    "security": bearer,
                    "responses": {"200": _resp("当前用户"), **_errors(401)},
                }
            },
            "/processes": {
                "get": {
                    "summary": "我可以发起的流程",
                    "security": bearer,
                    "responses": {"200": _resp("流程列表"), **_errors(401)},
                }
            },
            "/processes/{key}": {
                "get": {
                    "summary": "流程最新版本及其发起表单（JSON Schema）",
                    "security": bearer,
                    "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _resp("流程"), **_errors(401, 404)},
                }
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
                        "201": _resp("部署结果：每个流程的版本号，内容未变时 created=false"),
                        "422": _resp(
                            "部署失败",
                            {
                                "type": "object",
                                "properties": {
                                    "error": {"type": "string"},
                                    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/DeployError"}},
                                },
                            },
                        ),
                        **_errors(401, 403),
                    },
                }
            },
            "/instances": {
                "post": {
                    "summary": "发起申请",
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
                        "201": _resp("已发起", {"$ref": "#/components/schemas/Instance"}),
                        **_errors(401, 403, 404, 422),
                    },
                }
            },
            "/instances/{id}": {
                "get": {
                    "summary": "申请详情与流转记录（仅参与人和管理员可见）",
                    "security": bearer,
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {"200": _resp("申请", {"$ref": "#/components/schemas/Instance"}), **_errors(401, 404)},
                }
            },
            "/work-items": {
                "get": {
                    "summary": "待办 / 已办 / 我发起的 / 抄送我的",
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "box",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["todo", "done", "started", "cc"]},
                        },
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "responses": {"200": _resp("{items, total}"), **_errors(401, 422)},
                }
            },
            "/work-items/{item_id}": {
                "get": {
                    "summary": "待办详情：节点、表单、当前数据、可执行操作、期限",
                    "security": bearer,
                    "parameters": [item_id],
                    "responses": {"200": _resp("待办"), **_errors(401, 404)},
                }
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
                    "responses": {"200": _resp("已办理"), **_errors(401, 403, 404, 409, 422)},
                }
            },
            **operation_paths(),
            **deadline_paths(),
            **designer_paths(),
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


def _json_body(properties: dict, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


def _op(summary: str, body: dict | None, codes=(401, 403, 404, 409, 422), params=None) -> dict:
    operation = {
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {"200": _resp("成功"), **_errors(*codes)},
    }
    if body is not None:
        operation["requestBody"] = body
    if params:
        operation["parameters"] = params
    return operation


def operation_paths() -> dict:
    """The approval operations (退回, 转办, 委派, 加签, 撤回, 撤销, 催办, 知会, 代理, 常用意见)."""
    text = {"type": "string"}
    users = {"type": "array", "items": {"type": "string"}, "description": "用户名列表"}
    item = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    inst = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "/work-items/{item_id}/send-back-targets": {
            "get": _op("可退回的节点（上一节点、已办理过的节点、发起人）", None, (401, 403, 404), item)
        },
        "/work-items/{item_id}/send-back": {
            "post": _op(
                "退回：退回上一节点、任一已办理节点或发起人修改",
                _json_body({"to_node": text, "opinion": text}, ["opinion"]),
                params=item,
            )
        },
        "/work-items/{item_id}/transfer": {
            "post": _op("转办：交给他人办理", _json_body({"to_user": text, "opinion": text}, ["to_user"]), params=item)
        },
        "/work-items/{item_id}/delegate": {
            "post": _op(
                "委派：请他人办理后交回", _json_body({"to_user": text, "opinion": text}, ["to_user"]), params=item
            )
        },
        "/work-items/{item_id}/resolve": {
            "post": _op("委派办理完成，交回委派人", _json_body({"opinion": text}, ["opinion"]), params=item)
        },
        "/work-items/{item_id}/add-signers": {
            "post": _op(
                "加签：前加签 / 后加签 / 并加签",
                _json_body(
                    {
                        "users": users,
                        "position": {"type": "string", "enum": ["before", "after", "parallel"]},
                        "opinion": text,
                    },
                    ["users", "position"],
                ),
                params=item,
            )
        },
        "/work-items/{item_id}/remove-signers": {
            "post": _op("减签：移除本人加签且尚未办理的人", _json_body({"users": users}, ["users"]), params=item)
        },
        "/work-items/{item_id}/recall": {"post": _op("撤回自己已同意的审批（下一步尚未办理时）", None, params=item)},
        "/instances/{id}/withdraw": {"post": _op("发起人撤回申请（尚无人审批时）", None, params=inst)},
        "/instances/{id}/cancel": {"post": _op("撤销申请", _json_body({"reason": text}, ["reason"]), params=inst)},
        "/instances/{id}/urge": {"post": _op("催办（每个待办每小时一次）", _json_body({"message": text}), params=inst)},
        "/instances/{id}/cc": {
            "post": _op("知会 / 抄送", _json_body({"users": users, "message": text}, ["users"]), params=inst)
        },
        "/instances/{id}/read": {"post": _op("把本申请的知会标记为已读", None, (401, 404), inst)},
        "/instances/{id}/signatures/{item_id}": {
            "get": {
                "summary": "审批签名图片（PNG，仅参与人可见）",
                "security": [{"bearer": []}],
                "parameters": inst + item,
                "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, **_errors(401, 404)},
            }
        },
        "/delegations": {
            "get": _op("我的代理设置", None, (401,)),
            "post": _op(
                "设置代理：期间内新待办交由代理人办理",
                _json_body(
                    {
                        "delegate": text,
                        "starts_on": {"type": "string", "format": "date"},
                        "ends_on": {"type": "string", "format": "date"},
                        "processes": {"type": "array", "items": text, "description": "流程标识；为空表示全部"},
                        "reason": text,
                        "move_existing": {"type": "boolean"},
                    },
                    ["delegate", "starts_on", "ends_on"],
                ),
                (401, 422),
            ),
        },
        "/delegations/{delegation_id}": {
            "delete": _op(
                "提前结束代理",
                None,
                (401, 404),
                [{"name": "delegation_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
        "/phrases": {
            "get": _op("我的常用意见", None, (401,)),
            "post": _op("添加常用意见", _json_body({"text": text}, ["text"]), (401, 422)),
        },
        "/phrases/{phrase_id}": {
            "delete": _op(
                "删除常用意见",
                None,
                (401, 404),
                [{"name": "phrase_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
    }
