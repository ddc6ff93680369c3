"""Computed fields: form fields whose value the server works out from other fields of the same form.

A form declares one with the custom keyword `x-computed` on the property:

    "days": {"title": "天数", "type": "number", "readOnly": true,
             "x-computed": {"function": "working_days", "args": ["start_date", "end_date", "start_half", "end_half"]}}

The function comes from a small fixed catalogue (`CATALOGUE`); nothing else runs. The deploy check
(`check`) refuses an unknown function, a missing or wrong-typed argument field, a chain of computed fields
and a result type the function cannot give, naming the field. At run time (`fill`) the server computes the
value from the cleaned data every time a form is saved — whatever the client sent for the field is
dropped before that — so routing and titles see the server's value only. The working-day calendar is not
this package's to read: the caller passes it in as an `Env`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from engine.errors import FieldError
from engine.process import form_tables

KEYWORD = "x-computed"
HALVES = ("上午", "下午")  # a half-day marker: 上午 = the morning, 下午 = the afternoon
MAX_SPAN_DAYS = 366  # a range longer than a year is a typing error, not an application


class Env(Protocol):
    """What the catalogue needs from outside the form: the working-day calendar."""

    def working_days(self, start: date, end: date, *, start_afternoon: bool, end_morning: bool) -> float: ...


class Problem(Exception):
    """A computation that cannot give a value: the field to mark and the message to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    kind: str  # "date" (string, format date), "half" (string, enum of 上午/下午), "number"
    required: bool = True


@dataclass(frozen=True)
class Function:
    params: tuple[Param, ...]
    result: frozenset[str]  # the JSON Schema types the computed field may have
    run: Callable[[Env, Call], float]
    summary: str
    variadic: bool = False  # the last parameter repeats (sum)


@dataclass
class Call:
    """One computation: the computed field, its argument fields and their cleaned values."""

    schema: dict
    field: str
    args: list[str]
    values: list

    def title(self, name: str) -> str:
        return self.schema.get("properties", {}).get(name, {}).get("title") or name

    def arg(self, index: int):
        return self.values[index] if index < len(self.values) else None


KIND_NAMES = {
    "date": "日期字段（type string, format date）",
    "half": "上午/下午字段（enum 为 上午、下午）",
    "number": "数字字段",
}


def _dates(call: Call) -> tuple[date, date]:
    start_name, end_name = call.args[0], call.args[1]
    parsed = []
    for name, value in ((start_name, call.arg(0)), (end_name, call.arg(1))):
        try:
            parsed.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise Problem(name, f"{call.title(name)}不是有效的日期（YYYY-MM-DD）") from None
    start, end = parsed
    if end < start:
        raise Problem(end_name, f"{call.title(end_name)}不能早于{call.title(start_name)}")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise Problem(
            end_name,
            f"{call.title(start_name)}到{call.title(end_name)}跨度 {(end - start).days + 1} 天，"
            f"超过了 {MAX_SPAN_DAYS} 天：请检查日期，或分段申请",
        )
    return start, end


def _working_days(env: Env, call: Call) -> float:
    start, end = _dates(call)
    start_afternoon = call.arg(2) == "下午"
    end_morning = call.arg(3) == "上午"
    if start == end and start_afternoon and end_morning:
        name = call.args[3]
        raise Problem(name, f"同一天从下午开始就不能在上午结束：请把{call.title(name)}改为下午")
    days = env.working_days(start, end, start_afternoon=start_afternoon, end_morning=end_morning)
    if days <= 0:
        raise Problem(
            call.field,
            f"{call.title(call.field)}为 0：{start.isoformat()} 至 {end.isoformat()} 没有工作日"
            f"（周末、法定节假日不计）。请检查{call.title(call.args[0])}和{call.title(call.args[1])}",
        )
    return days


def _days_between(env: Env, call: Call) -> float:
    start, end = _dates(call)
    return (end - start).days + 1


def _sum(env: Env, call: Call) -> float:
    """Added up in decimal (a column of amounts: 0.1 + 0.2 is 0.3, not 0.30000000000000004)."""
    flat = [v for value in call.values for v in (value if isinstance(value, list) else [value])]
    total = sum((Decimal(str(v)) for v in flat if isinstance(v, (int, float)) and not isinstance(v, bool)), Decimal(0))
    return float(total)


CATALOGUE: dict[str, Function] = {
    "working_days": Function(
        (Param("date"), Param("date"), Param("half", required=False), Param("half", required=False)),
        frozenset({"number"}),
        _working_days,
        "working_days(开始日期, 结束日期[, 开始上午/下午[, 结束上午/下午]])：工作日历上的工作日数（调休计入，"
        "法定节假日不计），可到半天",
    ),
    "days_between": Function(
        (Param("date"), Param("date")),
        frozenset({"number", "integer"}),
        _days_between,
        "days_between(开始日期, 结束日期)：两个日期之间的自然日数（含首尾两天）",
    ),
    "sum": Function(
        (Param("number", required=False),),
        frozenset({"number", "integer"}),
        _sum,
        "sum(数字字段或 表格.列, …)：各数字字段之和（未填的不计；表格.列 为表格一列之和）",
        variadic=True,
    ),
}


def computed_fields(schema: dict) -> dict[str, dict]:
    """{field: its x-computed declaration} in field order."""
    return {
        name: prop[KEYWORD]
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict) and KEYWORD in prop
    }


# --- the deploy check ---------------------------------------------------------------------------------------


def _kind_fits(kind: str, prop: dict) -> bool:
    if kind == "date":
        return prop.get("type", "string") == "string" and prop.get("format") == "date"
    if kind == "half":
        choices = prop.get("enum")
        return prop.get("type", "string") == "string" and bool(choices) and set(choices) <= set(HALVES)
    return prop.get("type") in {"number", "integer"}


def _arg_prop(props: dict, arg: str) -> dict | None:
    """The schema of an argument: a field, or a table's column written 表格.列 (lines.amount)."""
    table, dot, col = arg.partition(".")
    if not dot:
        return props.get(arg)
    return form_tables.columns(props.get(table, {})).get(col)


def _arg_value(cleaned: dict, arg: str):
    table, dot, col = arg.partition(".")
    if not dot:
        return cleaned.get(arg)
    return form_tables.column_values(cleaned.get(table), col)


def _param(function: Function, index: int) -> Param | None:
    if index < len(function.params):
        return function.params[index]
    return function.params[-1] if function.variadic else None


def problems(schema: dict) -> list[tuple[str, str]]:
    """What is wrong with the form's computed fields: (field, message) per problem, the message naming the field."""
    found = []
    props = schema.get("properties", {})
    declared = computed_fields(schema)
    for name, spec in declared.items():
        where = f"字段 '{name}' 的 {KEYWORD}"
        if not isinstance(spec, dict) or set(spec) - {"function", "args"}:
            found.append((name, f'{where} 必须是 {{"function": 函数名, "args": [字段名, …]}}'))
            continue
        function = CATALOGUE.get(spec.get("function"))
        if function is None:
            found.append((name, f"{where} 使用了未知的函数 '{spec.get('function')}'（可用：{'、'.join(CATALOGUE)}）"))
            continue
        args = spec.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            found.append((name, f"{where} 的 args 必须是字段名的列表"))
            continue
        least = sum(1 for p in function.params if p.required)
        if len(args) < least or (not function.variadic and len(args) > len(function.params)):
            found.append((name, f"{where}：参数个数不对，应为 {function.summary}"))
            continue
        if props[name].get("type", "string") not in function.result:
            wanted = "/".join(sorted(function.result))
            found.append((name, f"{where}：函数 '{spec['function']}' 的结果是数字，字段的 type 应为 {wanted}"))
        for index, arg in enumerate(args):
            param = _param(function, index)
            if _arg_prop(props, arg) is None:
                found.append((name, f"{where} 引用了不存在的字段 '{arg}'"))
            elif arg in declared:
                found.append((name, f"{where} 引用了另一个计算字段 '{arg}'：计算字段只能由填写的字段计算"))
            elif "." in arg and not function.variadic:
                found.append((name, f"{where}：表格的列 '{arg}' 只能用于 sum"))
            elif not _kind_fits(param.kind, _arg_prop(props, arg)):
                found.append((name, f"{where} 的第 {index + 1} 个参数 '{arg}' 应为{KIND_NAMES[param.kind]}"))
    return found


# --- computing ----------------------------------------------------------------------------------------------


def fill(schema: dict, cleaned: dict, env: Env | None, bad: set[str]) -> list[FieldError]:
    """Compute each computed field into `cleaned` (in place) from the other cleaned fields. A field whose
    required arguments are missing or already wrong (`bad`) is left out: those fields carry the error.
    Returns the computations' own errors (an empty or too long range, no working days)."""
    errors = []
    for name, spec in computed_fields(schema).items():
        cleaned.pop(name, None)
        function = CATALOGUE[spec["function"]]
        args = spec.get("args", [])
        values = [_arg_value(cleaned, arg) for arg in args]
        needed = [arg for index, arg in enumerate(args) if _param(function, index).required]
        fields = {arg.partition(".")[0] for arg in args}
        if any(cleaned.get(arg) is None for arg in needed) or fields & bad:
            continue
        try:
            value = function.run(env, Call(schema, name, args, values))
        except Problem as exc:
            errors.append(FieldError(exc.field, exc.message))
            continue
        cleaned[name] = int(value) if float(value).is_integer() else value
    return errors
