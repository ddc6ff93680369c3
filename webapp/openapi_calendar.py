"""OpenAPI paths of the working-day calendar and office hours (administrators), and of 挂起/恢复
(webapp.api_admin_calendar)."""

from __future__ import annotations

from .openapi_common import TEXT, area_operation, object_schema


def paths() -> dict:
    instance = [("instance_id", "integer")]
    reason = object_schema({"reason": TEXT})
    holiday = object_schema({"start": TEXT, "end": TEXT, "name": TEXT}, ["start"])
    workday = object_schema({"date": TEXT, "name": TEXT}, ["date"])
    hours = object_schema({"timezone": TEXT, "periods": {"type": "array", "items": TEXT}}, ["periods"])
    return {
        "/instances/{instance_id}/suspend": {
            "post": area_operation(
                "挂起：停止办理和计时（管理员）", body=object_schema({"reason": TEXT}, ["reason"]), params=instance
            )
            | {"responses": area_operation("", codes=(401, 403, 404, 409, 422))["responses"]}
        },
        "/instances/{instance_id}/resume": {
            "post": area_operation("恢复：期限按挂起的工作时间顺延（管理员）", body=reason, params=instance)
            | {"responses": area_operation("", codes=(401, 403, 404, 409, 422))["responses"]}
        },
        "/admin/calendar": {
            "get": area_operation("某年的工作日历、覆盖范围与提醒（管理员）", query=[("year", "integer")])
        },
        "/admin/calendar/days/{day}": {
            "put": area_operation(
                "修改单日：上班或休息，重新计算未办结待办的期限（管理员）",
                body=object_schema({"is_workday": {"type": "boolean"}, "note": TEXT}, ["is_workday"]),
                params=[("day", "string")],
            )
        },
        "/admin/calendar/import": {
            "post": area_operation(
                "导入全年节假日安排（国务院办公厅每年 11 月发布）（管理员）",
                body=object_schema(
                    {
                        "year": {"type": "integer"},
                        "holidays": {"type": "array", "items": holiday},
                        "workdays": {"type": "array", "items": workday},
                        "text": {"type": "string", "description": "每行：日期或日期范围 休|班 名称"},
                    },
                    ["year"],
                ),
                ok=201,
            )
        },
        "/admin/calendar/history": {"get": area_operation("工作日历与办公时间的调整记录（管理员）", codes=(401, 403))},
        "/admin/office-hours": {
            "get": area_operation("办公时间（管理员）", codes=(401, 403)),
            "put": area_operation("设置办公时间与时区（管理员）", body=hours),
        },
    }
