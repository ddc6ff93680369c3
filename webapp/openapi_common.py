"""The pieces the OpenAPI document for /api/v1 is built from: error responses, request bodies, operations."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "中文错误说明"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["error"],
}
BEARER = [{"bearer": []}]
TEXT = {"type": "string"}


def response(description: str, schema: dict | None = None) -> dict:
    body = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def error_responses(*codes: int) -> dict:
    text = {
        401: "未登录或令牌无效",
        403: "无权执行",
        404: "不存在或无权查看",
        409: "状态不允许（例如待办已处理）",
        422: "数据无效：errors 列出每个字段或 BPMN 元素",
        429: "登录失败次数过多：Retry-After 秒后再试，期间不检查密码",
    }
    return {str(code): response(text[code], {"$ref": "#/components/schemas/Error"}) for code in codes}


def json_body(properties: dict, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


def operation(summary: str, body: dict | None, codes=(401, 403, 404, 409, 422), params=None) -> dict:
    """An authenticated operation answering 200; `body` is a whole requestBody (json_body)."""
    item = {
        "summary": summary,
        "security": BEARER,
        "responses": {"200": response("成功"), **error_responses(*codes)},
    }
    if body is not None:
        item["requestBody"] = body
    if params:
        item["parameters"] = params
    return item


# The calendar, messages and statistics endpoints say a little more about their errors, and list their path
# and query parameters by name.
_AREA_ERRORS = {
    401: "未登录或令牌无效",
    403: "无权执行（管理员功能，或不是您自己的数据）",
    404: "不存在",
    409: "状态不允许",
    422: "数据无效：errors 列出每个出错的字段",
}


def area_operation(
    summary: str, *, body: dict | None = None, params=(), query=(), ok=200, codes=(401, 403, 422)
) -> dict:
    """An authenticated operation; `body` is the JSON schema of its request body, `params` and `query` are
    (name, type) pairs."""
    item = {
        "summary": summary,
        "security": BEARER,
        "responses": {
            str(ok): {"description": "成功", "content": {"application/json": {"schema": {"type": "object"}}}},
            **{
                str(code): {
                    "description": _AREA_ERRORS[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                for code in codes
            },
        },
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in params] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": kind}} for name, kind in query
    ]
    if parameters:
        item["parameters"] = parameters
    if body is not None:
        item["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return item


def object_schema(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def inbox_filter_parameters() -> list[dict]:
    """The boxes' filters and sort orders as query parameters (engine.work.views.filters)."""
    text = {"type": "string"}
    day = {"type": "string", "format": "date"}
    flag = {"type": "string", "enum": ["1", "0", "true", "false"]}
    described = [
        ("process", text, "流程标识"),
        ("initiator", text, "发起人用户名"),
        ("arrived_from", day, "到达（我发起的：发起）日期起，办公时区"),
        ("arrived_to", day, "到达（我发起的：发起）日期止，含当天"),
        ("priority", {"type": "string", "enum": ["紧急", "重要", "正常"]}, "紧急程度"),
        ("overdue", flag, "已超时（已办：超过期限办理；我发起的/抄送我的：有已超时的步骤）"),
        ("due_soon", flag, "即将超时（一天内到期；已办不可用）"),
        (
            "status",
            {
                "type": "string",
                "enum": ["running", "approved", "rejected", "cancelled", "terminated", "suspended", "error"],
            },
            "申请状态",
        ),
        (
            "sort",
            {"type": "string", "enum": ["arrived", "-arrived", "due", "-due", "priority", "-priority"]},
            "排序（- 为倒序；期限只用于待办、已办）",
        ),
    ]
    return [{"name": n, "in": "query", "schema": s, "description": d} for n, s, d in described]
