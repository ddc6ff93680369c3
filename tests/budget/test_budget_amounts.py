"""Budget arithmetic (engine/budget/amounts.py): exact money, what is left, reserve → consume / release, and
the figures a refusal gives. No database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.budget import amounts
from engine.budget.amounts import Totals


def test_money_is_exact_decimal_with_fen_never_float_arithmetic():
    assert amounts.money(0.1) + amounts.money(0.2) == Decimal("0.30")
    assert amounts.money("1,234.565") == Decimal("1234.57")  # half up
    assert amounts.money("¥12") == Decimal("12.00")
    assert amounts.to_fen(Decimal("1234.57")) == 123457 and amounts.from_fen(123457) == Decimal("1234.57")
    for bad in (float("nan"), float("inf"), "abc", None, True, "1e20"):
        with pytest.raises(ValueError):
            amounts.money(bad)


def test_reserve_then_consume_moves_the_amount_from_reserved_to_consumed():
    budget = Totals(Decimal("10000"), Decimal(0), Decimal(0))
    held = amounts.reserve(budget, Decimal("1600.25"))
    assert held.left == Decimal("8399.75") and held.reserved == Decimal("1600.25")
    paid = amounts.consume(held, Decimal("1600.25"))
    assert (paid.reserved, paid.consumed, paid.left) == (Decimal(0), Decimal("1600.25"), Decimal("8399.75"))


def test_release_gives_the_amount_back():
    held = amounts.reserve(Totals(Decimal("5000"), Decimal(0), Decimal("1000")), Decimal("3000"))
    assert held.left == Decimal("1000")
    freed = amounts.release(held, Decimal("3000"))
    assert freed.left == Decimal("4000") and freed.consumed == Decimal("1000")


def test_a_claim_over_what_is_left_is_over_budget_with_the_shortfall():
    verdict = amounts.judge(Decimal("400"), Decimal("500"))
    assert verdict.over and verdict.shortfall == Decimal("100")
    assert verdict.message("业务部 2026 年差旅费") == (
        "业务部 2026 年差旅费预算余额 ¥400.00，本次报销 ¥500.00，超出预算 ¥100.00"
    )
    assert not amounts.judge(Decimal("500"), Decimal("500")).over  # exactly what is left fits


def test_the_budget_may_not_be_set_below_what_is_held_and_spent():
    budget = Totals(Decimal("10000"), Decimal("3000"), Decimal("2000"))
    assert amounts.change_amount(budget, Decimal("5000")).left == Decimal(0)
    with pytest.raises(ValueError, match="已占用 ¥3,000.00，已使用 ¥2,000.00"):
        amounts.change_amount(budget, Decimal("4999.99"))
