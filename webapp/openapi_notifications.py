"""OpenAPI paths of the messages (the bell), each user's notification settings, and the delivery failures and
settings for administrators (webapp.api_notifications)."""

from __future__ import annotations

from .openapi_common import TEXT, area_operation, object_schema


def paths() -> dict:
    return {
        "/notifications": {
            "get": area_operation(
                "我的消息（铃铛）",
                query=[("unread", "boolean"), ("page", "integer"), ("per_page", "integer")],
                codes=(401, 422),
            )
        },
        "/notifications/read": {
            "post": area_operation(
                "标为已读：{ids: [...]} 或 {all: true}（只影响自己的消息）",
                body=object_schema(
                    {"ids": {"type": "array", "items": {"type": "integer"}}, "all": {"type": "boolean"}}
                ),
                codes=(401, 422),
            )
        },
        "/me/notification-settings": {
            "get": area_operation("我的通知渠道", codes=(401,)),
            "put": area_operation(
                "设置我的通知渠道（站内消息始终开启）",
                body=object_schema(
                    {
                        "channels": object_schema({"email": {"type": "boolean"}, "sms": {"type": "boolean"}}),
                        "email": TEXT,
                        "phone": TEXT,
                    }
                ),
                codes=(401, 422),
            ),
        },
        "/admin/notifications/failures": {"get": area_operation("发送失败或重试中的通知（管理员）", codes=(401, 403))},
        "/admin/notifications/{notification_id}/retry": {
            "post": area_operation(
                "重新发送一条通知（管理员）", params=[("notification_id", "integer")], codes=(401, 403, 404)
            )
        },
        "/admin/notification-config": {
            "get": area_operation("邮件服务器与短信网关设置（管理员）", codes=(401, 403)),
            "put": area_operation(
                "修改邮件服务器与短信网关设置（管理员）",
                body=object_schema(
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
    }
