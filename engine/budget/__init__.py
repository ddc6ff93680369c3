"""Budgets: each department's budget per 费用类型 and year, reserved by claims, consumed when paid."""
