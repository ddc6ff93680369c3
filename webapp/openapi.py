"""The OpenAPI 3.1 document for /api/v1, written by hand so it says what the API promises."""

from __future__ import annotations

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
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": _resp("已办理"), **_errors(401, 403, 404, 409, 422)},
                }
            },
        },
    }
    from .api_designer import openapi_paths  # designers' and integrations' routes (their own blueprint)

    document["paths"].update(openapi_paths())
    return document
