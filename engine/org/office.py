"""The office itself: its name as the 发文机关标志 of a 红头 prints it (示例市教育局 + 文件), kept in the
`setting` table like the top approver and set with `oaflow org office-name`."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine import fields
from engine.store.tables import setting

OFFICE_NAME_KEY = "org.office_name"  # setting: the office's full name (发文机关全称或规范化简称)
DEFAULT_OFFICE_NAME = "示例市教育局"
MAX_OFFICE_NAME = 40


def office_name(conn: Connection) -> str:
    """The office's name, or the example name until an administrator sets it."""
    return conn.execute(select(setting.c.value).where(setting.c.key == OFFICE_NAME_KEY)).scalar() or DEFAULT_OFFICE_NAME


def set_office_name(conn: Connection, name: str) -> str:
    """Name the office (1–40 characters, trimmed)."""
    name = fields.text(name, "office_name", "机关名称", max_length=MAX_OFFICE_NAME, required=True)
    exists = conn.execute(select(setting.c.key).where(setting.c.key == OFFICE_NAME_KEY)).first()
    if exists:
        conn.execute(update(setting).where(setting.c.key == OFFICE_NAME_KEY).values(value=name))
    else:
        conn.execute(insert(setting).values(key=OFFICE_NAME_KEY, value=name))
    return name
