"""Budgets (engine.budget): one row per department, 费用类型 and year with its amount and what claims hold
of it, and one hold per claim (an instance) that reserved part of a budget."""

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from engine.store.tables import metadata

MONEY = BigInteger  # in fen (分): whole numbers are exact on both databases (SQLite has no true decimal)

# reserved: held by claims under way; consumed: paid. amount - reserved - consumed is what is left. The row
# is what concurrent claims queue on: PostgreSQL locks it (SELECT … FOR UPDATE); SQLite's write lock does.
budget = Table(
    "budget",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("department_id", Integer, ForeignKey("department.id"), nullable=False),
    Column("category", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("reserved", MONEY, nullable=False),
    Column("consumed", MONEY, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by_id", Integer, ForeignKey("user_account.id")),
    UniqueConstraint("department_id", "category", "year", name="uq_budget"),
)

# state: reserved (the claim is under way) | consumed (paid) | released (不通过, 撤销, 终止)
budget_hold = Table(
    "budget_hold",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("budget_id", Integer, ForeignKey("budget.id"), nullable=False),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False, unique=True),
    Column("amount", MONEY, nullable=False),
    Column("state", String(12), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("settled_at", DateTime),
    Index("ix_budget_hold_budget", "budget_id", "state"),
)
