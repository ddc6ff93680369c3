"""Budget arithmetic: money as exact decimals, what is left of a budget, and what a claim does to it.

Pure functions, no database. Money is `Decimal` with two places (fen), rounded half up; a float never
takes part: values from JSON forms are read through their decimal text (`money`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
LIMIT = Decimal("100000000000000")  # 一百万亿: past the NUMERIC(16, 2) column


def money(value) -> Decimal:
    """An amount as Decimal yuan with two places; ValueError for what is no amount (text, NaN, ∞, too big)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("不是金额")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("不是有限的金额")
        value = repr(value)  # the shortest text that reads back as this float: 0.1 stays 0.1
    try:
        amount = Decimal(str(value).strip().replace(",", "").removeprefix("¥")).quantize(FEN, ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError("不是金额") from None
    if not amount.is_finite() or abs(amount) >= LIMIT:
        raise ValueError("金额超出范围")
    return amount


def yuan(amount: Decimal) -> str:
    """¥12,345.60"""
    return f"¥{amount:,.2f}"


def remaining(amount: Decimal, reserved: Decimal, consumed: Decimal) -> Decimal:
    """What is left to claim: the budget less what claims under way hold and what was paid."""
    return amount - reserved - consumed


@dataclass(frozen=True)
class Verdict:
    """What a claim does to a budget: `over` when it asks for more than is left."""

    claim: Decimal
    left: Decimal
    over: bool

    @property
    def shortfall(self) -> Decimal:
        return max(self.claim - self.left, Decimal(0))

    def message(self, what: str) -> str:
        return f"{what}预算余额 {yuan(self.left)}，本次报销 {yuan(self.claim)}，超出预算 {yuan(self.shortfall)}"


def judge(left: Decimal, claim: Decimal) -> Verdict:
    return Verdict(claim, left, claim > left)


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    reserved: Decimal
    consumed: Decimal

    @property
    def left(self) -> Decimal:
        return remaining(self.amount, self.reserved, self.consumed)


def reserve(totals: Totals, claim: Decimal) -> Totals:
    """A claim under way holds its amount."""
    return Totals(totals.amount, totals.reserved + claim, totals.consumed)


def consume(totals: Totals, held: Decimal) -> Totals:
    """A paid claim: what it held becomes spent."""
    return Totals(totals.amount, totals.reserved - held, totals.consumed + held)


def release(totals: Totals, held: Decimal) -> Totals:
    """不通过, 撤销, 终止: what it held is free again."""
    return Totals(totals.amount, totals.reserved - held, totals.consumed)


def change_amount(totals: Totals, new_amount: Decimal) -> Totals:
    """An administrator sets the budget; it may not go below what is held and spent."""
    if new_amount < totals.reserved + totals.consumed:
        raise ValueError(
            f"预算不能少于已占用与已使用之和 {yuan(totals.reserved + totals.consumed)}"
            f"（已占用 {yuan(totals.reserved)}，已使用 {yuan(totals.consumed)}）"
        )
    return Totals(new_amount, totals.reserved, totals.consumed)


def to_fen(amount: Decimal) -> int:
    """Yuan → whole fen, as the ledger stores money."""
    return int(amount.quantize(FEN, ROUND_HALF_UP) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


# 费用类型: the categories a budget is kept in (费用报销's form offers the same list)
CATEGORIES = ("差旅费", "办公用品", "业务招待", "培训", "其他")
