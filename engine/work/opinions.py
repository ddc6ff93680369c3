"""Opinions: what every decision may carry (an opinion, 签名留痕 — a handwritten signature), and 常用意见,
each user's reusable opinions."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from engine import fields
from engine.errors import FieldError, InvalidData, NotFound
from engine.store.tables import user_phrase, utcnow

MAX_SIGNATURE_BYTES = 64 * 1024
MAX_PHRASES = 50
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEFAULT_PHRASES = ("同意", "同意，请按规定办理", "请补充材料后再提交", "情况属实，同意")


MAX_OPINION = 2000
MAX_PHRASE = 500  # user_phrase.text


def check_opinion(opinion: str | None, *, required: bool, what: str) -> str:
    """The opinion as stored: trimmed; required for 不同意, 退回 and where the node asks for one."""
    text = fields.text(opinion, "opinion", "意见", max_length=MAX_OPINION)
    if required and not text:
        raise InvalidData([FieldError("opinion", f"{what}必须填写意见")])
    return text


def check_signature(signature: str | None) -> str | None:
    """A drawn signature as a PNG data URL (or bare base64): returns the base64 to store, or None."""
    if not signature:
        return None
    text = fields.text(signature, "signature", "签名", max_length=MAX_SIGNATURE_BYTES * 2)
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if header != "data:image/png;base64":
            raise InvalidData([FieldError("signature", "签名必须是 PNG 图片")])
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidData([FieldError("signature", "签名图片数据无效")]) from None
    if not raw.startswith(PNG_MAGIC):
        raise InvalidData([FieldError("signature", "签名必须是 PNG 图片")])
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise InvalidData([FieldError("signature", f"签名图片过大（上限 {MAX_SIGNATURE_BYTES // 1024} KB）")])
    return base64.b64encode(raw).decode()


def phrases(core, user_id: int) -> list[dict]:
    """The user's 常用意见 (a few defaults until they save their own)."""
    with core.db.read() as conn:
        return phrases_of(conn, user_id)


def phrases_of(conn: Connection, user_id: int) -> list[dict]:
    rows = list(conn.execute(select(user_phrase).where(user_phrase.c.user_id == user_id).order_by(user_phrase.c.id)))
    if not rows:
        return [{"id": None, "text": text} for text in DEFAULT_PHRASES]
    return [{"id": row.id, "text": row.text} for row in rows]


def add_phrase(core, user_id: int, text: str | None) -> dict:
    """Keep an opinion for reuse (once; at most MAX_PHRASES per user)."""
    text = fields.text(text, "text", "常用意见", max_length=MAX_PHRASE, required=True)
    with core.db.write() as conn:
        existing = conn.execute(
            select(user_phrase.c.id).where(user_phrase.c.user_id == user_id, user_phrase.c.text == text)
        ).scalar()
        if existing is not None:
            return {"id": existing, "text": text}
        count = conn.execute(
            select(func.count()).select_from(user_phrase).where(user_phrase.c.user_id == user_id)
        ).scalar()
        if count >= MAX_PHRASES:
            raise InvalidData([FieldError("text", f"常用意见最多保存 {MAX_PHRASES} 条，请先删除不用的")])
        new_id = conn.execute(
            insert(user_phrase).values(user_id=user_id, text=text, created_at=utcnow())
        ).inserted_primary_key[0]
    return {"id": new_id, "text": text}


def delete_phrase(core, user_id: int, phrase_id: int) -> None:
    """Remove one of the user's own phrases (another user's is "not found")."""
    with core.db.write() as conn:
        result = conn.execute(
            delete(user_phrase).where(user_phrase.c.id == phrase_id, user_phrase.c.user_id == user_id)
        )
        if result.rowcount != 1:
            raise NotFound("常用意见不存在")
