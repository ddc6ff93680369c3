"""OpenAPI paths of 预算管理 (webapp.api_budgets): budgets per department, 费用类型 and year, their import from
Excel, CSV or an ERP's JSON, and what is left for a claim's form."""

from __future__ import annotations

from .openapi_common import area_operation, object_schema

_MONEY = {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}], "description": "元，最多两位小数"}
_BUDGET = object_schema(
    {
        "department": {"type": "string", "maxLength": 100},
        "category": {"type": "string", "enum": ["差旅费", "办公用品", "业务招待", "培训", "其他"]},
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "amount": _MONEY,
    },
    ["department", "category", "year", "amount"],
)


def paths() -> dict:
    imported = area_operation(
        '导入预算（管理员）：JSON {"budgets": [{department, category, year, amount}, …]}；也接受 text/csv 请求体，'
        "或 multipart 的 file（.xlsx、.csv，第一行表头 部门、费用类型、年度、预算金额）。任何一行有错则全部不导入",
        body=object_schema({"budgets": {"type": "array", "items": _BUDGET}}, ["budgets"]),
    )
    return {
        "/budgets": {
            "get": area_operation(
                "预算列表：每个部门、费用类型、年度的预算金额、已占用、已使用、余额（金额为两位小数的字符串）（管理员）",
                query=[("year", "integer"), ("department", "string")],
            ),
            "put": area_operation("设置一项预算（不存在则新建；不得低于已占用与已使用之和）（管理员）", body=_BUDGET),
        },
        "/budgets/import": {"post": imported},
        "/processes/{key}/budget": {
            "get": area_operation(
                "本人部门本年度各费用类型的预算余额（受预算控制的流程；其他流程为空对象）",
                params=[("key", "string")],
                codes=(401, 404),
            )
        },
    }
