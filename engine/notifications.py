"""Notifications: the outbox, in-browser messages (the bell), e-mail and SMS/webhook delivery.

A message is a `notification` row written in the same transaction as the change that caused it
(`runtime.notify`, `send` here). The browser shows it at once. E-mail and SMS go out after commit: the
scheduler's delivery job claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marks them
`sending` with a lease, sends outside any transaction, then records each channel's result; failures
are retried with back-off and, after the last attempt, stay `failed` for the administrators to see.
Each user chooses their channels (站内消息 is always on). The texts come from Jinja2 templates, one per
event, in `engine/notify_templates/`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from . import audit
from .db import (
    instance,
    notification,
    notification_delivery,
    notification_pref,
    setting,
    user_account,
    utcnow,
    work_item,
)
from .errors import FieldError, InvalidData, NotFound
from .fastsql import Prepared
from .office_hours import UTC, work_calendar

log = logging.getLogger("oaflow.notifications")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 900, 3600)  # after the 1st, 2nd, 3rd, 4th failed attempt
LEASE_SECONDS = 300
CHANNELS = {"web": "站内消息", "email": "电子邮件", "sms": "短信"}
KIND_LABELS = {
    "todo": "新待办",
    "cc": "知会",
    "result": "审批结果",
    "remind": "即将超时",
    "overdue": "已超时",
    "escalated": "超时督办",
    "auto_approved": "超时自动通过",
    "transferred": "超时转交",
    "suspended": "挂起",
    "resumed": "恢复",
    "timer": "定时事件",
}
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
_TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "notify_templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# --- writing (inside the caller's transaction) ----------------------------------------------------


_INSERT = Prepared(insert(notification))  # built once: the sweep sends one per due step


def send(
    conn: Connection,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    *,
    instance_id: int | None = None,
    work_item_id: int | None = None,
) -> int:
    """Put one message in the outbox; it is delivered after the caller's transaction commits."""
    now = utcnow()
    return conn.execute(
        _INSERT,
        {
            "user_id": user_id,
            "instance_id": instance_id,
            "work_item_id": work_item_id,
            "kind": kind,
            "title": title[:500],
            "body": body,
            "created_at": now,
            "next_attempt_at": now,
        },
    ).inserted_primary_key[0]


def send_many(conn: Connection, messages: list[dict]) -> None:
    """Several messages with one statement: dicts of send()'s arguments."""
    if not messages:
        return
    now = utcnow()
    conn.execute(
        _INSERT,
        [
            {
                "user_id": m["user_id"],
                "instance_id": m.get("instance_id"),
                "work_item_id": m.get("work_item_id"),
                "kind": m["kind"],
                "title": m["title"][:500],
                "body": m.get("body", ""),
                "created_at": now,
                "next_attempt_at": now,
            }
            for m in messages
        ],
    )


# --- the bell ---------------------------------------------------------------------------------------


def unread_count(conn: Connection, user_id: int) -> int:
    return conn.execute(
        select(func.count())
        .select_from(notification)
        .where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    ).scalar()


def _local_iso(conn: Connection, value: datetime | None) -> str | None:
    if value is None:
        return None
    return work_calendar(conn).local(value).isoformat(timespec="seconds")


def inbox(conn: Connection, user_id: int, unread_only: bool = False, page: int = 1, per_page: int = 20) -> dict:
    page = max(1, int(page or 1))
    per_page = max(1, min(100, int(per_page or 20)))
    where = [notification.c.user_id == user_id]
    if unread_only:
        where.append(notification.c.read_at.is_(None))
    total = conn.execute(select(func.count()).select_from(notification).where(*where)).scalar()
    rows = conn.execute(
        select(notification)
        .where(*where)
        .order_by(notification.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [
        {
            "id": row.id,
            "kind": row.kind,
            "kind_label": KIND_LABELS.get(row.kind, "通知"),
            "title": row.title,
            "body": row.body,
            "instance_id": row.instance_id,
            "work_item_id": work_item_of(conn, row) if row.read_at is None else row.work_item_id,
            "created_at": _local_iso(conn, row.created_at),
            "read": row.read_at is not None,
        }
        for row in rows
    ]
    return {
        "items": items,
        "total": total,
        "unread": unread_count(conn, user_id),
        "page": page,
        "per_page": per_page,
    }


def get(conn: Connection, user_id: int, notification_id: int):
    """One of the user's own messages (another user's is "not found")."""
    row = conn.execute(
        select(notification).where(notification.c.id == notification_id, notification.c.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("消息不存在")
    return row


def mark_read(conn: Connection, user_id: int, ids: list[int] | None = None) -> int:
    """Mark the user's own messages read (all of them when `ids` is None); others' ids are ignored."""
    query = update(notification).where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(notification.c.id.in_(ids))
    return conn.execute(query.values(read_at=utcnow())).rowcount


# --- each user's channels -----------------------------------------------------------------------------


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
    """Store delivery settings (administrators; the caller checks). Unknown keys are refused."""
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


# --- rendering -------------------------------------------------------------------------------------------


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, e-mail text, SMS text) for one message, from the event's template."""
    try:
        template = _TEMPLATES.get_template(f"{kind}.txt")
    except TemplateNotFound:
        template = _TEMPLATES.get_template("default.txt")
    body = template.render(**context).strip() + "\n"
    sms = _TEMPLATES.get_template("sms.txt").render(**context).strip()
    return f"【oaflow】{context['title']}", body, sms


def work_item_of(conn: Connection, row) -> int | None:
    """The work item a 待办-type message is about: named on the row, or (messages written by
    runtime.notify carry only the instance) the user's newest open item of that instance."""
    if row.kind not in {"todo", "remind", "overdue"}:
        return None
    if row.work_item_id:
        return row.work_item_id
    if row.instance_id is None:
        return None
    return conn.execute(
        select(work_item.c.id)
        .where(
            work_item.c.instance_id == row.instance_id,
            work_item.c.assignee_id == row.user_id,
            work_item.c.status == "open",
        )
        .order_by(work_item.c.id.desc())
        .limit(1)
    ).scalar()


def _context(conn: Connection, row, cfg: dict) -> dict:
    user = conn.execute(select(user_account.c.display_name).where(user_account.c.id == row.user_id)).scalar()
    inst_title = None
    if row.instance_id is not None:
        inst_title = conn.execute(select(instance.c.title).where(instance.c.id == row.instance_id)).scalar()
    item_id = work_item_of(conn, row)
    if item_id:
        link = f"{cfg['base_url']}/work-items/{item_id}"
    elif row.instance_id:
        link = f"{cfg['base_url']}/instances/{row.instance_id}"
    else:
        link = f"{cfg['base_url']}/notifications"
    created = row.created_at.replace(tzinfo=UTC).astimezone(work_calendar(conn).hours.tz)
    return {
        "user_name": user or "",
        "title": row.title,
        "body": row.body or "",
        "kind": row.kind,
        "kind_label": KIND_LABELS.get(row.kind, "通知"),
        "instance_title": inst_title,
        "link": link,
        "created_at": f"{created:%Y-%m-%d %H:%M}",
    }


# --- delivery (the scheduler's job) ----------------------------------------------------------------------


def _lock(query, conn: Connection):
    return query if conn.dialect.name == "sqlite" else query.with_for_update(skip_locked=True, of=notification)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def deliver(core, now: datetime | None = None, batch: int = 50, timeout: float = 10.0) -> dict:
    """Send due messages by e-mail / SMS; return {"sent": n, "retry": n, "failed": n, "web_only": n}."""
    now = now or utcnow()
    stats = {"sent": 0, "retry": 0, "failed": 0, "web_only": 0}
    due = (notification.c.delivery_status.in_(("pending", "sending")), notification.c.next_attempt_at <= now)
    with core.db.read() as conn:  # the usual answer is "nothing": don't take SQLite's write lock for it
        if conn.execute(select(notification.c.id).where(*due).limit(1)).first() is None:
            return stats
    jobs = []
    with core.db.write() as conn:
        rows = conn.execute(
            _lock(
                select(notification).where(*due).order_by(notification.c.next_attempt_at).limit(batch),
                conn,
            )
        ).all()
        if not rows:
            return stats
        cfg = config(conn)
        prefs = {
            row.user_id: row
            for row in conn.execute(
                select(notification_pref, user_account.c.email.label("account_email"))
                .join(user_account, user_account.c.id == notification_pref.c.user_id)
                .where(notification_pref.c.user_id.in_({r.user_id for r in rows}))
            )
        }
        sent_before = {
            (row.notification_id, row.channel)
            for row in conn.execute(
                select(notification_delivery.c.notification_id, notification_delivery.c.channel).where(
                    notification_delivery.c.notification_id.in_([r.id for r in rows]),
                    notification_delivery.c.status == "sent",
                )
            )
        }
        for row in rows:
            pref = prefs.get(row.user_id)
            wanted = []
            if pref is not None and pref.email_enabled:
                wanted.append(("email", pref.email or pref.account_email))
            if pref is not None and pref.sms_enabled:
                wanted.append(("sms", pref.phone))
            wanted = [(channel, address) for channel, address in wanted if (row.id, channel) not in sent_before]
            if not wanted:
                conn.execute(
                    update(notification)
                    .where(notification.c.id == row.id)
                    .values(delivery_status="done", delivered_at=now, next_attempt_at=None)
                )
                stats["web_only"] += 1
                continue
            attempts = row.attempts + 1
            conn.execute(
                update(notification)
                .where(notification.c.id == row.id)
                .values(
                    delivery_status="sending",
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=LEASE_SECONDS),
                )
            )
            jobs.append((row.id, attempts, wanted, render(row.kind, _context(conn, row, cfg))))

    results = []
    for notification_id, attempts, wanted, (subject, text, sms) in jobs:
        outcome = {}
        for channel, address in wanted:
            try:
                if not address:
                    raise DeliveryError("未设置邮箱地址" if channel == "email" else "未设置手机号")
                if channel == "email":
                    send_email(cfg, address, subject, text, timeout)
                else:
                    send_sms(cfg, address, sms, timeout)
                outcome[channel] = None
            except Exception as exc:  # every failure is recorded and retried; none stops the others
                outcome[channel] = _describe(exc)
        results.append((notification_id, attempts, outcome))

    with core.db.write() as conn:
        for notification_id, attempts, outcome in results:
            for channel, error in outcome.items():
                _record_channel(conn, notification_id, channel, error, now)
            errors = [f"{CHANNELS[c]}：{e}" for c, e in outcome.items() if e]
            if not errors:
                values = dict(delivery_status="done", delivered_at=now, next_attempt_at=None, last_error=None)
                stats["sent"] += 1
            elif attempts >= MAX_ATTEMPTS:
                values = dict(delivery_status="failed", next_attempt_at=None, last_error="；".join(errors))
                stats["failed"] += 1
                log.warning("notification %s failed for good: %s", notification_id, values["last_error"])
            else:
                values = dict(
                    delivery_status="pending", next_attempt_at=now + _backoff(attempts), last_error="；".join(errors)
                )
                stats["retry"] += 1
            conn.execute(update(notification).where(notification.c.id == notification_id).values(**values))
    return stats


class DeliveryError(Exception):
    pass


def _describe(exc: Exception) -> str:
    if isinstance(exc, DeliveryError):
        return str(exc)
    if isinstance(exc, urllib.error.HTTPError):
        return f"短信网关返回 HTTP {exc.code}"
    if isinstance(exc, (ConnectionError, OSError, smtplib.SMTPException, urllib.error.URLError)):
        return f"{type(exc).__name__}: {exc}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _record_channel(conn: Connection, notification_id: int, channel: str, error: str | None, now: datetime) -> None:
    key = and_(notification_delivery.c.notification_id == notification_id, notification_delivery.c.channel == channel)
    row = conn.execute(select(notification_delivery.c.attempts).where(key)).first()
    values = dict(status="error" if error else "sent", last_error=error, updated_at=now)
    if row is None:
        conn.execute(
            insert(notification_delivery).values(notification_id=notification_id, channel=channel, attempts=1, **values)
        )
    else:
        conn.execute(update(notification_delivery).where(key).values(attempts=row.attempts + 1, **values))


def send_email(cfg: dict, to: str, subject: str, text: str, timeout: float = 10.0) -> None:
    if not cfg.get("smtp_host"):
        raise DeliveryError("未配置邮件服务器（OAFLOW_SMTP_HOST）")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr(("oaflow 协同办公", cfg.get("smtp_from") or "oaflow@localhost"))
    message["To"] = to
    message.set_content(text, charset="utf-8")
    port = int(cfg.get("smtp_port") or 25)
    with smtplib.SMTP(cfg["smtp_host"], port, timeout=timeout) as smtp:
        if str(cfg.get("smtp_starttls", "")).lower() in {"1", "true", "yes"}:
            smtp.starttls()
        if cfg.get("smtp_user"):
            smtp.login(cfg["smtp_user"], cfg.get("smtp_password") or "")
        smtp.send_message(message)


def send_sms(cfg: dict, phone: str, text: str, timeout: float = 10.0) -> None:
    """SMS through the office's gateway: an HTTP POST of JSON {"to", "text"} to a configured webhook."""
    url = cfg.get("sms_webhook_url")
    if not url:
        raise DeliveryError("未配置短信网关（OAFLOW_SMS_WEBHOOK_URL）")
    payload = json.dumps({"to": phone, "text": text}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=payload, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (an administrator's URL)
        if not 200 <= response.status < 300:
            raise DeliveryError(f"短信网关返回 HTTP {response.status}")


# --- failures, for administrators ----------------------------------------------------------------------------


def failures(conn: Connection, limit: int = 200) -> list[dict]:
    """Messages that failed for good, and those still being retried after an error, newest first."""
    rows = conn.execute(
        select(notification, user_account.c.username, user_account.c.display_name)
        .join(user_account, user_account.c.id == notification.c.user_id)
        .where(
            or_(
                notification.c.delivery_status == "failed",
                and_(notification.c.delivery_status == "pending", notification.c.last_error.is_not(None)),
            )
        )
        .order_by(notification.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "user": row.username,
            "user_name": row.display_name,
            "kind": row.kind,
            "title": row.title,
            "status": row.delivery_status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "next_attempt_at": _local_iso(conn, row.next_attempt_at),
            "created_at": _local_iso(conn, row.created_at),
        }
        for row in rows
    ]


def retry(conn: Connection, actor_id: int, notification_id: int) -> None:
    """An administrator sends a failed message again (its channels that already succeeded are skipped)."""
    row = conn.execute(select(notification).where(notification.c.id == notification_id)).first()
    if row is None:
        raise NotFound("通知不存在")
    conn.execute(
        update(notification)
        .where(notification.c.id == notification_id)
        .values(delivery_status="pending", attempts=0, next_attempt_at=utcnow())
    )
    audit.record(conn, "notification_retry", actor_id=actor_id, message=f"重新发送通知 #{notification_id}：{row.title}")
