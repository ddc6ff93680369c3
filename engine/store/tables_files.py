"""The attachment table (migration 0011): one row per uploaded file as the product uses it.

The content itself lives once per SHA-256 in the files directory (engine.store.blobs); a row names it and
says who uploaded it, when, under which name and type, and where it is used: `instance_id` is null until a
form binds the upload to an application, then `field` is the form field and `version` its place in that
field's history (1, 2, …). A newer version of a one-file field sets `superseded_at` on the older ones;
they stay downloadable. A copy handed to another application (a message start) is a new row on the same
content, `copied_from_id` saying where it came from.

Beside engine.store.tables rather than in it: that file is at the length our modules stop at.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table

from engine.store.tables import metadata

attachment = Table(
    "attachment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("extension", String(10), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("uploaded_by_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
    Column("instance_id", Integer, ForeignKey("instance.id")),
    Column("field", String(64)),
    Column("version", Integer),
    Column("superseded_at", DateTime),
    Column("copied_from_id", Integer, ForeignKey("attachment.id")),
    Index("ix_attachment_instance", "instance_id", "field", "version"),
    Index("ix_attachment_uploader", "uploaded_by_id", "instance_id"),
    Index("ix_attachment_sha256", "sha256"),
)
