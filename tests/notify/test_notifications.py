"""Notifications: the outbox written with the change, the bell, each user's channels, e-mail received by a
real SMTP server (aiosmtpd), SMS through a local HTTP webhook, retries with back-off, and failures shown
to administrators."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from support import sign_in

from engine.notify import delivery, settings
from engine.store.tables import notification, notification_delivery, utcnow


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check that it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller.hostname, controller.port, inbox
    finally:
        controller.stop()


class _Webhook(BaseHTTPRequestHandler):
    received: list
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    server.received = []
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def configure(core, **values):
    with core.db.write() as conn:
        settings.set_config(conn, values)


def choose(api, user: str, **settings):
    client = api(user)
    response = client.client.put("/api/v1/me/notification-settings", headers=client.headers, json=settings)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def outbox(core, user_id=None):
    with core.db.read() as conn:
        query = select(notification).order_by(notification.c.id)
        return conn.execute(query).all()


def test_email_is_received_by_a_real_smtp_server(core, api, leave, smtp_server):
    host, port, inbox = smtp_server
    configure(core, smtp_host=host, smtp_port=str(port), smtp_from="oa@example.cn", base_url="http://oa.example.cn")
    choose(api, "sunli", channels={"email": True}, email="sunli@example.cn")
    started = leave.start()
    stats = delivery.deliver(core)
    assert stats["sent"] == 1
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["sunli@example.cn"]
    # The subject is the message's title (the wording of runtime.notify's 待办 titles may name the request).
    assert message["Subject"].startswith("【oaflow】您有新的待办：") and "部门负责人审批" in message["Subject"]
    text = message.get_content()
    assert "孙丽，您好" in text and "张三的请假申请（年假 2 天）" in text
    item = leave.my_item("sunli", started["id"])
    assert f"http://oa.example.cn/work-items/{item['id']}" in text
    # Delivered once: the next run has nothing to send.
    assert delivery.deliver(core) == {"sent": 0, "retry": 0, "failed": 0, "web_only": 0}
    assert len(inbox.messages) == 1
    # Users who chose no external channel are done at once (the browser already shows it).
    assert all(row.delivery_status == "done" for row in outbox(core))


def test_sms_goes_to_the_webhook(core, api, leave, webhook):
    configure(core, sms_webhook_url=f"http://127.0.0.1:{webhook.server_port}/sms")
    choose(api, "sunli", channels={"sms": True}, phone="138-0000-0000")
    leave.start()
    assert delivery.deliver(core)["sent"] == 1
    assert len(webhook.received) == 1
    assert webhook.received[0]["to"] == "138-0000-0000"
    text = webhook.received[0]["text"]
    assert text.startswith("【oaflow】新待办：您有新的待办：") and "部门负责人审批" in text and " http" in text


def test_failures_are_retried_with_back_off_then_shown_to_administrators(core, api, leave, webhook, smtp_server):
    host, port, inbox = smtp_server
    configure(core, smtp_host=host, smtp_port=str(port), sms_webhook_url=f"http://127.0.0.1:{webhook.server_port}/")
    choose(api, "sunli", channels={"email": True, "sms": True}, email="sunli@example.cn", phone="13800000000")
    webhook.status = 500
    leave.start()
    now = utcnow()
    stats = delivery.deliver(core, now=now)
    assert stats["retry"] == 1
    [row] = [r for r in outbox(core) if r.delivery_status != "done"]
    assert row.attempts == 1 and "HTTP 500" in row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=60)
    assert delivery.deliver(core, now=now + timedelta(seconds=30))["retry"] == 0  # not due yet
    later = now
    for attempt, wait in enumerate((60, 300, 900, 3600), start=2):
        later += timedelta(seconds=wait)
        stats = delivery.deliver(core, now=later)
        assert stats == {
            "sent": 0,
            "retry": 0 if attempt == 5 else 1,
            "failed": 1 if attempt == 5 else 0,
            "web_only": 0,
        }
    assert len(webhook.received) == 5
    assert len(inbox.messages) == 1  # the e-mail went out once and was not sent again with the retries
    with core.db.read() as conn:
        channels = {r.channel: (r.status, r.attempts) for r in conn.execute(select(notification_delivery))}
    assert channels == {"email": ("sent", 1), "sms": ("error", 5)}

    failures = api("admin").get("/api/v1/admin/notifications/failures").get_json()["items"]
    assert [(f["user"], f["status"], f["attempts"]) for f in failures] == [("sunli", "failed", 5)]
    assert "短信" in failures[0]["last_error"]
    assert api("sunli").get("/api/v1/admin/notifications/failures").status_code == 403
    sign_in(api("admin").client, core, "admin")
    page = api("admin").client.get("/admin/notifications").get_data(as_text=True)
    assert "已放弃" in page and "HTTP 500" in page

    webhook.status = 200
    response = api("admin").post(f"/api/v1/admin/notifications/{failures[0]['id']}/retry")
    assert response.status_code == 200
    assert delivery.deliver(core)["sent"] == 1
    assert len(webhook.received) == 6 and len(inbox.messages) == 1
    assert api("admin").get("/api/v1/admin/notifications/failures").get_json()["items"] == []


def test_the_bell(core, api, leave, client):
    started = leave.start()
    sunli = api("sunli")
    bell = sunli.get("/api/v1/notifications").get_json()
    assert bell["unread"] == 1
    assert bell["items"][0]["title"].startswith("您有新的待办：") and "部门负责人审批" in bell["items"][0]["title"]
    assert bell["items"][0]["instance_id"] == started["id"]
    mine = bell["items"][0]["id"]
    # Someone else's message ids are ignored.
    others = api("zhangsan").post("/api/v1/notifications/read", json={"ids": [mine]}).get_json()
    assert others["marked"] == 0
    assert sunli.get("/api/v1/notifications?unread=1").get_json()["total"] == 1
    assert sunli.post("/api/v1/notifications/read", json={"ids": "all"}).status_code == 422
    assert sunli.post("/api/v1/notifications/read", json={"ids": [mine]}).get_json() == {"marked": 1, "unread": 0}

    leave.start(user="lisi")
    sign_in(client, core, "sunli")
    page = client.get("/inbox/todo").get_data(as_text=True)
    assert "消息" in page and '<span class="count">1</span>' in page.split("消息", 1)[1][:200]
    listing = client.get("/notifications").get_data(as_text=True)
    assert "您有新的待办：" in listing and "部门负责人审批" in listing
    newest = sunli.get("/api/v1/notifications").get_json()["items"][0]
    response = client.get(f"/notifications/{newest['id']}/open")
    assert response.status_code == 302 and "/work-items/" in response.headers["Location"]
    assert sunli.get("/api/v1/notifications").get_json()["unread"] == 0


def test_settings_are_validated_and_only_the_users_own(core, api, client):
    sunli = api("sunli")
    put = sunli.client.put
    bad = put(
        "/api/v1/me/notification-settings",
        headers=sunli.headers,
        json={"channels": {"email": True, "fax": True, "web": False}, "email": "not-an-address"},
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert fields == {"channels.fax", "channels.web", "email"}
    bad = put("/api/v1/me/notification-settings", headers=sunli.headers, json={"channels": {"sms": True}})
    assert [e["field"] for e in bad.get_json()["errors"]] == ["phone"]
    assert sunli.get("/api/v1/me/notification-settings").get_json()["channels"] == {
        "web": True,
        "email": False,
        "sms": False,
    }  # nothing stored
    saved = choose(api, "sunli", channels={"email": True}, email="sunli@example.cn")
    assert saved["channels"]["email"] is True
    assert api("lisi").get("/api/v1/me/notification-settings").get_json()["channels"]["email"] is False
    token = sign_in(client, core, "lisi")
    response = client.post(
        "/settings/notifications", data={"csrf_token": token, "sms_enabled": "1", "phone": ""}, follow_redirects=True
    )
    assert [r.status_code for r in response.history] == [303]  # a refresh does not send the form again
    assert response.request.path == "/settings/notifications"
    assert "开启短信通知需要填写手机号" in response.get_data(as_text=True)
    response = client.post(
        "/settings/notifications", data={"csrf_token": token, "sms_enabled": "1", "phone": "13900000000"}
    )
    assert response.status_code == 302
    assert api("lisi").get("/api/v1/me/notification-settings").get_json()["channels"]["sms"] is True


def test_a_failed_command_leaves_no_message(core, api, leave, row_counts):
    started = leave.start()
    item = leave.my_item("sunli", started["id"])
    before = row_counts()
    response = leave.complete("sunli", item["id"], "reject", opinion=None)  # 不同意 needs an opinion
    assert response.status_code == 422
    assert row_counts() == before


def test_every_message_about_a_work_item_names_it(core, api, leave):
    # One outbox writer, which records the work item a message is about: a 待办 message links to the item,
    # and a 催办 or 知会 to the item it concerns, without guessing from the instance later.
    started = leave.start(days=5)
    sunli_item = leave.my_item("sunli", started["id"])
    api("zhangsan").post(f"/api/v1/instances/{started['id']}/urge", json={"message": "请尽快"})
    api("zhangsan").post(f"/api/v1/instances/{started['id']}/cc", json={"users": ["lisi"]})
    leave.decide("sunli", started["id"])
    with core.db.read() as conn:
        rows = conn.execute(
            select(notification.c.kind, notification.c.work_item_id, notification.c.user_id)
            .where(notification.c.instance_id == started["id"])
            .order_by(notification.c.id)
        ).all()
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row.work_item_id)
    huangwei_item = leave.my_item("huangwei", started["id"])
    assert by_kind["todo"] == [sunli_item["id"], huangwei_item["id"]]
    assert by_kind["urge"] == [sunli_item["id"]]
    [cc_item] = [w["id"] for w in leave.detail(started["id"])["work_items"] if w["kind"] == "cc"]
    assert by_kind["cc"] == [cc_item]  # the 知会 copy lisi got
