"""Delivery after commit: e-mail and SMS from the outbox, with retries, and the failures administrators see.

The scheduler's delivery job claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marks them `sending`
with a lease, sends outside any transaction, then records each channel's result; failures are retried with
back-off and, after the last attempt, stay `failed` for the administrators to see. The texts come from
Jinja2 templates, one per event, in `templates/`.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from engine.errors import Actor, NotFound, require_admin
from engine.notify.messages import KIND_LABELS, local_iso, work_item_of
from engine.notify.settings import CHANNELS, config
from engine.store import audit
from engine.store.tables import (
    instance,
    notification,
    notification_delivery,
    notification_pref,
    user_account,
    utcnow,
)
from engine.time.office_hours import UTC, work_calendar

log = logging.getLogger("oaflow.notifications")

MAX_ATTEMPTS = 5


BACKOFF_SECONDS = (60, 300, 900, 3600)  # after the 1st, 2nd, 3rd, 4th failed attempt


LEASE_SECONDS = 300


_TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, e-mail text, SMS text) for one message, from the event's template."""
    try:
        template = _TEMPLATES.get_template(f"{kind}.txt")
    except TemplateNotFound:
        template = _TEMPLATES.get_template("default.txt")
    body = template.render(**context).strip() + "\n"
    sms = _TEMPLATES.get_template("sms.txt").render(**context).strip()
    return f"【oaflow】{context['title']}", body, sms


def _context(conn: Connection, row, cfg: dict) -> dict:
    user = conn.execute(select(user_account.c.display_name).where(user_account.c.id == row.user_id)).scalar()
    inst_title = None
    if row.instance_id is not None:
        inst_title = conn.execute(select(instance.c.title).where(instance.c.id == row.instance_id)).scalar()
    item_id = work_item_of(row)
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
            "next_attempt_at": local_iso(conn, row.next_attempt_at),
            "created_at": local_iso(conn, row.created_at),
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


def failed_messages(core, actor: Actor) -> list[dict]:
    """通知失败: what failed for good or is being retried after an error (administrators)."""
    require_admin(actor)
    with core.db.read() as conn:
        return failures(conn)


def send_again(core, actor: Actor, notification_id: int) -> dict:
    """An administrator has a failed message sent again."""
    require_admin(actor)
    with core.db.write() as conn:
        retry(conn, actor.id, notification_id)
    return {"id": notification_id, "status": "pending"}
