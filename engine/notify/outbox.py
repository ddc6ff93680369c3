"""The outbox: the one place a message is written, in the same transaction as the change that caused it.

The browser shows it at once (engine.notify.messages, the bell); e-mail and SMS go out after commit
(engine.notify.delivery). Every message names the instance and the work item it is about, so its link is
known when it is written, never guessed later.
"""

from __future__ import annotations

import logging

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from engine.store.fastsql import Prepared
from engine.store.tables import (
    notification,
    utcnow,
)

log = logging.getLogger("oaflow.notifications")


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
