"""OpenAPI paths of issue 4's endpoints (calendar, office hours, 挂起/恢复, messages, statistics).

Kept beside their blueprints and added to /api/v1/openapi.json when the blueprints are registered, so
the shared document module stays as it is."""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/Error"}
TEXT = {"type": "string"}
BEARER = [{"bearer": []}]
_ERRORS = {
    401: "未登录或令牌无效",
    403: "无权执行（管理员功能，或不是您自己的数据）",
    404: "不存在",
    409: "状态不允许",
    422: "数据无效：errors 列出每个出错的字段",
}


def _op(summary: str, *, body: dict | None = None, params=(), query=(), ok=200, codes=(401, 403, 422)) -> dict:
    operation = {
        "summary": summary,
        "security": BEARER,
        "responses": {
            str(ok): {"description": "成功", "content": {"application/json": {"schema": {"type": "object"}}}},
            **{
                str(code): {"description": _ERRORS[code], "content": {"application/json": {"schema": ERROR_REF}}}
                for code in codes
            },
        },
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in params] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": kind}} for name, kind in query
    ]
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _object(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def paths() -> dict:
    instance = [("instance_id", "integer")]
    reason = _object({"reason": TEXT})
    holiday = _object({"start": TEXT, "end": TEXT, "name": TEXT}, ["start"])
    workday = _object({"date": TEXT, "name": TEXT}, ["date"])
    hours = _object({"timezone": TEXT, "periods": {"type": "array", "items": TEXT}}, ["periods"])
    month = [("month", "string"), ("source", "string")]
    return {
        "/instances/{instance_id}/suspend": {
            "post": _op("挂起：停止办理和计时（管理员）", body=_object({"reason": TEXT}, ["reason"]), params=instance)
            | {"responses": _op("", codes=(401, 403, 404, 409, 422))["responses"]}
        },
        "/instances/{instance_id}/resume": {
            "post": _op("恢复：期限按挂起的工作时间顺延（管理员）", body=reason, params=instance)
            | {"responses": _op("", codes=(401, 403, 404, 409, 422))["responses"]}
        },
        "/admin/calendar": {"get": _op("某年的工作日历、覆盖范围与提醒（管理员）", query=[("year", "integer")])},
        "/admin/calendar/days/{day}": {
            "put": _op(
                "修改单日：上班或休息，重新计算未办结待办的期限（管理员）",
                body=_object({"is_workday": {"type": "boolean"}, "note": TEXT}, ["is_workday"]),
                params=[("day", "string")],
            )
        },
        "/admin/calendar/import": {
            "post": _op(
                "导入全年节假日安排（国务院办公厅每年 11 月发布）（管理员）",
                body=_object(
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
        "/admin/calendar/history": {"get": _op("工作日历与办公时间的调整记录（管理员）", codes=(401, 403))},
        "/admin/office-hours": {
            "get": _op("办公时间（管理员）", codes=(401, 403)),
            "put": _op("设置办公时间与时区（管理员）", body=hours),
        },
        "/notifications": {
            "get": _op(
                "我的消息（铃铛）",
                query=[("unread", "boolean"), ("page", "integer"), ("per_page", "integer")],
                codes=(401, 422),
            )
        },
        "/notifications/read": {
            "post": _op(
                "标为已读：{ids: [...]} 或 {all: true}（只影响自己的消息）",
                body=_object({"ids": {"type": "array", "items": {"type": "integer"}}, "all": {"type": "boolean"}}),
                codes=(401, 422),
            )
        },
        "/me/notification-settings": {
            "get": _op("我的通知渠道", codes=(401,)),
            "put": _op(
                "设置我的通知渠道（站内消息始终开启）",
                body=_object(
                    {
                        "channels": _object({"email": {"type": "boolean"}, "sms": {"type": "boolean"}}),
                        "email": TEXT,
                        "phone": TEXT,
                    }
                ),
                codes=(401, 422),
            ),
        },
        "/admin/notifications/failures": {"get": _op("发送失败或重试中的通知（管理员）", codes=(401, 403))},
        "/admin/notifications/{notification_id}/retry": {
            "post": _op("重新发送一条通知（管理员）", params=[("notification_id", "integer")], codes=(401, 403, 404))
        },
        "/admin/notification-config": {
            "get": _op("邮件服务器与短信网关设置（管理员）", codes=(401, 403)),
            "put": _op(
                "修改邮件服务器与短信网关设置（管理员）",
                body=_object(
                    {
                        key: TEXT
                        for key in (
                            "smtp_host",
                            "smtp_port",
                            "smtp_user",
                            "smtp_password",
                            "smtp_from",
                            "smtp_starttls",
                            "sms_webhook_url",
                            "base_url",
                        )
                    }
                ),
            ),
        },
        "/reports/monthly": {
            "get": _op("月度统计：按人员、部门、流程（管理员）", query=month, codes=(401, 403, 404, 422))
        },
        "/reports/monthly.xlsx": {
            "get": _op("月度统计 Excel 导出（管理员）", query=month, codes=(401, 403, 404, 422))
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
                    **_op("", codes=(401, 403, 404, 422))["responses"],
                }
            }
        },
        "/reports/monthly/snapshot": {
            "post": _op(
                "立即生成本月快照（day28 | month_end）（管理员）",
                body=_object({"snapshot": {"type": "string", "enum": ["day28", "month_end"]}}),
                ok=201,
            )
        },
    }
