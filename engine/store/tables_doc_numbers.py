"""The 发文字号 register (engine.numbering.register): one counter per (机关代字, year) and one row per number
that was ever given out, voided, made reusable or reserved."""

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from engine.store.tables import metadata

# The next number allocation tries (numbers with a row in doc_number are skipped). The row is what
# concurrent allocations queue on: PostgreSQL locks it (SELECT … FOR UPDATE); SQLite's write lock does.
doc_number_sequence = Table(
    "doc_number_sequence",
    metadata,
    Column("prefix", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("next_number", Integer, nullable=False),
)


# status: allocated (held by instance_id) | voided (never given out again) | reusable (voided; the next
# allocation takes the lowest one first) | reserved (skipped by allocation; an administrator assigns it).
doc_number = Table(
    "doc_number",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prefix", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("text", String(80), nullable=False),
    Column("status", String(12), nullable=False),
    Column("instance_id", Integer, ForeignKey("instance.id")),
    Column("reason", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("prefix", "year", "number", name="uq_doc_number"),
    Index("ix_doc_number_text", "text"),
    Index("ix_doc_number_instance", "instance_id"),
    Index("ix_doc_number_status", "prefix", "year", "status", "number"),
)
