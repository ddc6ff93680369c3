"""OpenAPI paths of the monthly statistics (webapp.api_reports)."""

from __future__ import annotations

from .openapi_common import area_operation, object_schema


def paths() -> dict:
    month = [("month", "string"), ("source", "string")]
    return {
        "/reports/monthly": {
            "get": area_operation("月度统计：按人员、部门、流程（管理员）", query=month, codes=(401, 403, 404, 422))
        },
        "/reports/monthly.xlsx": {
            "get": area_operation("月度统计 Excel 导出（管理员）", query=month, codes=(401, 403, 404, 422))
            | {
                "responses": {
                    "200": {
                        "description": "Excel 文件",
                        "content": {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    **area_operation("", codes=(401, 403, 404, 422))["responses"],
                }
            }
        },
        "/reports/monthly/snapshot": {
            "post": area_operation(
                "立即生成本月快照（day28 | month_end）（管理员）",
                body=object_schema({"snapshot": {"type": "string", "enum": ["day28", "month_end"]}}),
                ok=201,
            )
        },
    }
