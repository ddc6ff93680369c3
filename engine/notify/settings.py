"""Delivery settings (SMTP, SMS gateway, base URL) and each user's channels and addresses."""

from __future__ import annotations

import os
import re

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Actor, FieldError, InvalidData, NotFound, require_admin
from engine.store.tables import (
    notification_pref,
    setting,
    user_account,
    utcnow,
)

CHANNELS = {"web": "站内消息", "email": "电子邮件", "sms": "短信"}


CONFIG_KEYS = {
    "smtp_host": "OAFLOW_SMTP_HOST",
    "smtp_port": "OAFLOW_SMTP_PORT",
    "smtp_user": "OAFLOW_SMTP_USER",
    "smtp_password": "OAFLOW_SMTP_PASSWORD",
    "smtp_from": "OAFLOW_SMTP_FROM",
    "smtp_starttls": "OAFLOW_SMTP_STARTTLS",
    "sms_webhook_url": "OAFLOW_SMS_WEBHOOK_URL",
    "base_url": "OAFLOW_BASE_URL",
}


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")


def config(conn: Connection) -> dict[str, str]:
    """Delivery settings: the `setting` table (notify.<key>), overridden by environment variables."""
    stored = {
        row.key.split(".", 1)[1]: row.value
        for row in conn.execute(select(setting).where(setting.c.key.like("notify.%")))
    }
    result = {}
    for key, env in CONFIG_KEYS.items():
        value = os.environ.get(env) or stored.get(key) or ""
        result[key] = value
    result["base_url"] = (result["base_url"] or "http://127.0.0.1:8000").rstrip("/")
    return result


def set_config(conn: Connection, values: dict) -> None:
    """Store delivery settings (administrators: save_delivery_settings checks). Unknown keys are refused."""
    errors = [FieldError(key, "未知的设置项") for key in values if key not in CONFIG_KEYS]
    port = values.get("smtp_port")
    if port not in (None, "") and not str(port).isdigit():
        errors.append(FieldError("smtp_port", "端口必须是数字"))
    url = values.get("sms_webhook_url")
    if url and not str(url).startswith(("http://", "https://")):
        errors.append(FieldError("sms_webhook_url", "短信网关地址必须以 http:// 或 https:// 开头"))
    if errors:
        raise InvalidData(errors)
    for key, value in values.items():
        name = f"notify.{key}"
        exists = conn.execute(select(setting.c.key).where(setting.c.key == name)).first()
        if exists:
            conn.execute(update(setting).where(setting.c.key == name).values(value=str(value or "")))
        else:
            conn.execute(insert(setting).values(key=name, value=str(value or "")))


def preferences(conn: Connection, user_id: int) -> dict:
    account = conn.execute(select(user_account.c.email).where(user_account.c.id == user_id)).first()
    if account is None:
        raise NotFound("用户不存在")
    pref = conn.execute(select(notification_pref).where(notification_pref.c.user_id == user_id)).first()
    cfg = config(conn)
    return {
        "channels": {
            "web": True,
            "email": bool(pref and pref.email_enabled),
            "sms": bool(pref and pref.sms_enabled),
        },
        "email": (pref.email if pref and pref.email else None) or account.email,
        "phone": pref.phone if pref else None,
        "available": {"web": True, "email": bool(cfg["smtp_host"]), "sms": bool(cfg["sms_webhook_url"])},
    }


def set_preferences(conn: Connection, user_id: int, data: dict) -> dict:
    """A user's own choice of channels and addresses; nothing is stored when a field is wrong."""
    if not isinstance(data, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象")])
    current = preferences(conn, user_id)
    channels = data.get("channels", {})
    errors = []
    if not isinstance(channels, dict):
        errors.append(FieldError("channels", 'channels 必须是对象，例如 {"email": true, "sms": false}'))
        channels = {}
    for name, value in channels.items():
        if name not in CHANNELS:
            errors.append(FieldError(f"channels.{name}", f"未知的通知渠道（可选：{'、'.join(CHANNELS)}）"))
        elif not isinstance(value, bool):
            errors.append(FieldError(f"channels.{name}", "必须是 true 或 false"))
        elif name == "web" and value is False:
            errors.append(FieldError("channels.web", "站内消息不能关闭"))
    email = data.get("email", current["email"])
    phone = data.get("phone", current["phone"])
    email = (email or "").strip() or None if isinstance(email, (str, type(None))) else email
    phone = (phone or "").strip() or None if isinstance(phone, (str, type(None))) else phone
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email) or len(email) > 255):
        errors.append(FieldError("email", "邮箱地址格式不正确"))
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone)):
        errors.append(FieldError("phone", "手机号格式不正确（6–20 位数字，可带 + 和 -）"))
    want_email = channels.get("email", current["channels"]["email"]) is True
    want_sms = channels.get("sms", current["channels"]["sms"]) is True
    if want_email and not email:
        errors.append(FieldError("email", "开启邮件通知需要填写邮箱地址"))
    if want_sms and not phone:
        errors.append(FieldError("phone", "开启短信通知需要填写手机号"))
    if errors:
        raise InvalidData(errors)
    values = dict(email_enabled=want_email, sms_enabled=want_sms, email=email, phone=phone, updated_at=utcnow())
    exists = conn.execute(select(notification_pref.c.user_id).where(notification_pref.c.user_id == user_id)).first()
    if exists:
        conn.execute(update(notification_pref).where(notification_pref.c.user_id == user_id).values(**values))
    else:
        conn.execute(insert(notification_pref).values(user_id=user_id, **values))
    return preferences(conn, user_id)


def masked_config(conn: Connection) -> dict[str, str]:
    """The delivery settings as administrators see them: the SMTP password never leaves the server."""
    cfg = config(conn)
    cfg["smtp_password"] = "******" if cfg.get("smtp_password") else ""
    return cfg


def delivery_settings(core, actor: Actor) -> dict[str, str]:
    """The mail server and SMS gateway settings (administrators)."""
    require_admin(actor)
    with core.db.read() as conn:
        return masked_config(conn)


def save_delivery_settings(core, actor: Actor, values: dict) -> dict[str, str]:
    """Change the mail server and SMS gateway settings (administrators); returns them as stored."""
    require_admin(actor)
    if not isinstance(values, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象")])
    with core.db.write() as conn:
        set_config(conn, values)
        return masked_config(conn)


def my_preferences(core, user_id: int) -> dict:
    """The user's own channels and addresses, and which channels the office has set up."""
    with core.db.read() as conn:
        return preferences(conn, user_id)


def save_preferences(core, user_id: int, data: dict) -> dict:
    """The user's own choice of channels and addresses; nothing is stored when a field is wrong."""
    with core.db.write() as conn:
        return set_preferences(conn, user_id, data)
