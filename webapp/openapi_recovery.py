"""OpenAPI paths of the administrators' 异常申请 (webapp.api_recovery)."""

from __future__ import annotations

from .openapi_common import error_responses, response

_ERROR_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "process": {"type": "string"},
        "initiator": {"type": "string"},
        "status": {"type": "string", "enum": ["error"]},
        "status_label": {"type": "string"},
        "element": {"type": "string", "nullable": True, "description": "出错的 BPMN 元素 id"},
        "element_name": {"type": "string", "nullable": True},
        "message": {"type": "string"},
        "failed_at": {"type": "string"},
    },
}


def paths() -> dict:
    inst = [{"name": "instance_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    listing = {"type": "object", "properties": {"items": {"type": "array", "items": _ERROR_ITEM}}}
    return {
        "/admin/errors": {
            "get": {
                "summary": "异常申请：流程执行出错、等待管理员处理的申请（仅管理员）",
                "security": [{"bearer": []}],
                "responses": {"200": response("异常申请列表", listing), **error_responses(401, 403)},
            }
        },
        "/admin/errors/{instance_id}/retry": {
            "post": {
                "summary": "重试异常申请：修复原因后流程从出错处继续（仅管理员）",
                "security": [{"bearer": []}],
                "parameters": inst,
                "responses": {"200": response("已恢复运行"), **error_responses(401, 403, 404, 409, 422)},
            }
        },
    }
