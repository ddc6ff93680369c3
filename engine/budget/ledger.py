"""The budget ledger: budgets and the claims' holds on them, in the caller's transaction (they take a `conn`).

Everything that changes a budget's totals first locks its row (`_locked`: SELECT … FOR UPDATE on
PostgreSQL; on SQLite the write transaction already holds the database's write lock, BEGIN IMMEDIATE), and
the reservation itself is a conditional UPDATE that only succeeds while enough is left: concurrent claims
queue on the row and none can overspend it. Every change is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.budget import amounts
from engine.errors import FieldError, InvalidData
from engine.store import audit
from engine.store.tables import department, utcnow
from engine.store.tables_budget import budget, budget_hold

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}
STATE_LABELS = {"reserved": "已占用", "consumed": "已使用", "released": "已释放"}


@dataclass(frozen=True)
class Line:
    """One budget as the pages and the API show it."""

    id: int
    department: str
    category: str
    year: int
    amount: Decimal
    reserved: Decimal
    consumed: Decimal

    @property
    def left(self) -> Decimal:
        return amounts.remaining(self.amount, self.reserved, self.consumed)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "department": self.department,
            "category": self.category,
            "year": self.year,
            "amount": str(self.amount),
            "reserved": str(self.reserved),
            "consumed": str(self.consumed),
            "remaining": str(self.left),
        }


def _line(row) -> Line:
    fen = amounts.from_fen
    return Line(row.id, row.department, row.category, row.year, fen(row.amount), fen(row.reserved), fen(row.consumed))


_LINES = select(budget, department.c.name.label("department")).join(
    department, department.c.id == budget.c.department_id
)


def department_id(conn: Connection, name: str, field: str = "department") -> int:
    found = conn.execute(select(department.c.id).where(department.c.name == name)).scalar()
    if found is None:
        raise InvalidData([FieldError(field, f"部门“{name}”不存在")])
    return found


def lines(conn: Connection, *, year: int | None = None, department_name: str | None = None) -> list[Line]:
    query = _LINES.order_by(budget.c.year.desc(), department.c.name, budget.c.category)
    if year is not None:
        query = query.where(budget.c.year == year)
    if department_name:
        query = query.where(department.c.name == department_name)
    return [_line(row) for row in conn.execute(query)]


def line(conn: Connection, department_id_: int, category: str, year: int, *, lock: bool = False) -> Line | None:
    """One budget, its row locked for the transaction when `lock`."""
    query = _LINES.where(budget.c.department_id == department_id_, budget.c.category == category, budget.c.year == year)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=budget)
    row = conn.execute(query).first()
    return _line(row) if row else None


def set_amount(
    conn: Connection, department_name: str, category: str, year: int, amount: Decimal, actor_id: int | None
) -> Line:
    """Set a budget (created when new); it may not go below what is reserved and consumed."""
    dept = department_id(conn, department_name)
    now = utcnow()
    insert = _INSERTS[conn.dialect.name](budget).values(
        department_id=dept,
        category=category,
        year=year,
        amount=amounts.to_fen(amount),
        reserved=0,
        consumed=0,
        updated_at=now,
        updated_by_id=actor_id,
    )
    conn.execute(insert.on_conflict_do_nothing(index_elements=["department_id", "category", "year"]))
    current = line(conn, dept, category, year, lock=True)
    try:
        amounts.change_amount(amounts.Totals(current.amount, current.reserved, current.consumed), amount)
    except ValueError as exc:
        raise InvalidData([FieldError("amount", f"{department_name} {year} 年{category}：{exc}")]) from None
    conn.execute(
        update(budget)
        .where(budget.c.id == current.id)
        .values(amount=amounts.to_fen(amount), updated_at=now, updated_by_id=actor_id)
    )
    if current.amount != amount:
        audit.record(
            conn,
            "budget_set",
            actor_id=actor_id,
            message=f"预算 {department_name} {year} 年{category}："
            f"{amounts.yuan(current.amount)} → {amounts.yuan(amount)}",
        )
    return line(conn, dept, category, year)


def reserve(conn: Connection, target: Line, instance_id: int, claim: Decimal, *, allow_over: bool = False) -> bool:
    """Hold `claim` of the (locked) budget for the instance; False, nothing held, when not enough is left
    (unless `allow_over`: a claim the process lets go on over its budget still holds what it will spend)."""
    fen = amounts.to_fen(claim)
    left = amounts.remaining(budget.c.amount, budget.c.reserved, budget.c.consumed)
    enough = [] if allow_over else [left >= fen]
    done = conn.execute(
        update(budget)
        .where(budget.c.id == target.id, *enough)
        .values(reserved=budget.c.reserved + fen, updated_at=utcnow())
    ).rowcount
    if done != 1:
        return False
    conn.execute(
        budget_hold.insert().values(
            budget_id=target.id, instance_id=instance_id, amount=fen, state="reserved", created_at=utcnow()
        )
    )
    audit.record(
        conn,
        "budget_reserved",
        instance_id=instance_id,
        message=f"占用预算 {target.department} {target.year} 年{target.category} {amounts.yuan(claim)}",
    )
    return True


def hold_of(conn: Connection, instance_id: int):
    return conn.execute(select(budget_hold).where(budget_hold.c.instance_id == instance_id)).first()


def settle(conn: Connection, instance_id: int, state: str) -> None:
    """The instance's hold, if it still reserves, becomes `consumed` (paid) or `released`."""
    hold = hold_of(conn, instance_id)
    if hold is None or hold.state != "reserved":
        return
    if conn.dialect.name == "postgresql":
        conn.execute(select(budget.c.id).where(budget.c.id == hold.budget_id).with_for_update())
    spent = hold.amount if state == "consumed" else 0
    conn.execute(
        update(budget)
        .where(budget.c.id == hold.budget_id)
        .values(reserved=budget.c.reserved - hold.amount, consumed=budget.c.consumed + spent, updated_at=utcnow())
    )
    conn.execute(update(budget_hold).where(budget_hold.c.id == hold.id).values(state=state, settled_at=utcnow()))
    verb = "使用" if state == "consumed" else "释放"
    audit.record(
        conn,
        f"budget_{state}",
        instance_id=instance_id,
        message=f"{verb}预算 {amounts.yuan(amounts.from_fen(hold.amount))}",
    )


def drop_hold(conn: Connection, instance_id: int) -> None:
    """Release and forget the instance's hold (重新提交 reserves again at the new total)."""
    settle(conn, instance_id, "released")
    conn.execute(budget_hold.delete().where(budget_hold.c.instance_id == instance_id))
