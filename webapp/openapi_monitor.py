"""OpenAPI paths of 流程监控, the 日志 and the search (webapp.api_monitor)."""

from __future__ import annotations

from .openapi_common import area_operation

_SEARCH = (
    ("q", "string"),
    ("process", "string"),
    ("status", "string"),
    ("started_from", "string"),
    ("started_to", "string"),
    ("page", "integer"),
)
_LOGS = (("user", "string"), ("from", "string"), ("to", "string"), ("page", "integer"), ("format", "string"))
_REASON = {"type": "string", "maxLength": 500, "description": "原因（必填）"}


def paths() -> dict:
    inst = (("instance_id", "integer"),)
    return {
        "/admin/instances": {
            "get": area_operation(
                "流程监控：按标题/文号开头、发起人、流程、版本、状态、当前节点、当前办理人、发起日期查找所有申请，"
                "新的在前，每页 20 条（管理员）",
                query=(
                    *_SEARCH,
                    ("initiator", "string"),
                    ("handler", "string"),
                    ("node", "string"),
                    ("version", "string"),
                ),
            )
        },
        "/admin/instances/{instance_id}/jump": {
            "post": area_operation(
                "跳转：申请转到流程中的某个审批节点，须填原因；到不了的节点不做改动（409）（管理员）",
                params=inst,
                body={"type": "object", "properties": {"node": {"type": "string"}, "reason": _REASON}},
                codes=(401, 403, 404, 409, 422),
            )
        },
        "/admin/instances/{instance_id}/terminate": {
            "post": area_operation(
                "终止：申请以“已终止”结束，须填原因（管理员）",
                params=inst,
                body={"type": "object", "properties": {"reason": _REASON}},
                codes=(401, 403, 404, 409, 422),
            )
        },
        "/admin/work-items/{item_id}/reassign": {
            "post": area_operation(
                "转办（管理员）：把任何人未办结的待办转给另一人，须填原因",
                params=(("item_id", "integer"),),
                body={"type": "object", "properties": {"to_user": {"type": "string"}, "reason": _REASON}},
                codes=(401, 403, 404, 409, 422),
            )
        },
        "/admin/logs/login": {
            "get": area_operation(
                "登录日志：谁、何时、从哪个 IP 登录，成功或失败；format=xlsx 导出 Excel（管理员）",
                query=(*_LOGS, ("result", "string")),
            )
        },
        "/admin/logs/operations": {
            "get": area_operation(
                "操作日志：每一次管理和审批操作（流转记录），可按人、操作、日期查找；format=xlsx 导出 Excel（管理员）",
                query=(*_LOGS, ("action", "string")),
            )
        },
        "/search": {
            "get": area_operation(
                "搜索：我发起或经手的申请（管理员：所有申请），标题和文号按开头匹配，发起人按姓名包含匹配",
                query=_SEARCH,
            )
        },
    }
