"""OpenAPI paths of 公文查询 and the 发文字号 register (webapp.api_documents)."""

from __future__ import annotations

from .openapi_common import TEXT, area_operation, object_schema

_NUMBER = {"type": "integer", "minimum": 1}


def paths() -> dict:
    counter = [("prefix", "string"), ("year", "integer")]
    return {
        "/documents": {
            "get": area_operation(
                "公文查询：有发文字号或属于公文流程、本人可见的申请（参与人；管理员全部），按文号、标题、年份",
                query=[("doc_no", "string"), ("q", "string"), ("year", "integer"), ("page", "integer")],
                codes=(401, 422),
            )
        },
        "/admin/doc-numbers": {
            "get": area_operation(
                "发文字号计数器：每个机关代字和年份的下一个文号、已用、作废、预留数（管理员）", codes=(401, 403)
            )
        },
        "/admin/doc-numbers/{prefix}/{year}": {
            "put": area_operation(
                "设置下一个文号（接续纸质登记簿；不得小于等于已使用过的文号）（管理员）",
                body=object_schema({"next": _NUMBER, "reason": TEXT}, ["next"]),
                params=counter,
            )
        },
        "/admin/doc-numbers/{prefix}/{year}/void": {
            "post": area_operation(
                "作废文号：保持作废，或 reuse=true 由下一次编号优先使用（原因必填）（管理员）",
                body=object_schema(
                    {"number": _NUMBER, "reason": TEXT, "reuse": {"type": "boolean"}}, ["number", "reason"]
                ),
                params=counter,
                codes=(401, 403, 409, 422),
            )
        },
        "/admin/doc-numbers/{prefix}/{year}/reserve": {
            "post": area_operation(
                "预留文号：指定 number，或 count 个接下来的空号；编号时跳过（管理员）",
                body=object_schema({"number": _NUMBER, "count": _NUMBER, "reason": TEXT}),
                params=counter,
                ok=201,
                codes=(401, 403, 409, 422),
            )
        },
        "/admin/doc-numbers/{prefix}/{year}/assign": {
            "post": area_operation(
                "把预留的文号分配给一个申请（该申请尚无文号）（管理员）",
                body=object_schema({"number": _NUMBER, "instance_id": _NUMBER}, ["number", "instance_id"]),
                params=counter,
                codes=(401, 403, 404, 409, 422),
            )
        },
    }
