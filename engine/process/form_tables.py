"""Tables in a form: a field whose value is a list of rows, each row an object of the same columns
(费用报销's 明细: 日期, 摘要, 金额, 票据张数).

A form declares one as JSON Schema has it, an array of objects:

    "lines": {"title": "费用明细", "type": "array", "minItems": 1, "maxItems": 50,
              "items": {"type": "object", "required": ["amount"],
                        "properties": {"amount": {"title": "金额", "type": "number", "x-money": true}, …}}}

A column is a string, number, integer or boolean field (no files, no tables inside tables). The server
trims each cell, drops the empty optional ones and an entirely empty row, and names a bad cell by its
row and column title: “费用明细第 2 行：金额必须大于 0”. A computed field may add up a column
(`{"function": "sum", "args": ["lines.amount"]}`, engine.process.computed). Pure functions, no database.
"""

from __future__ import annotations

COLUMN_TYPES = {"string", "number", "integer", "boolean"}
MAX_ROWS = 200  # a form's table is typed by hand: more rows is a mistake or an attack


def is_table(prop) -> bool:
    """Whether a form property is a table (an array of objects)."""
    if not isinstance(prop, dict) or prop.get("type") != "array":
        return False
    items = prop.get("items")
    return isinstance(items, dict) and items.get("type") == "object"


def columns(prop: dict) -> dict[str, dict]:
    """A table's columns in order: {name: column schema}."""
    return prop.get("items", {}).get("properties", {}) if is_table(prop) else {}


def problems(schema: dict) -> list[tuple[str, str]]:
    """What is wrong with the form's tables, as deploy reports it: (field, message) per problem."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        if not is_table(prop):
            continue
        cols = columns(prop)
        if not isinstance(cols, dict) or not cols:
            found.append((name, f"表格字段 '{name}' 的 items.properties 必须列出各列"))
            continue
        for col, spec in cols.items():
            kind = spec.get("type", "string") if isinstance(spec, dict) else None
            if kind not in COLUMN_TYPES:
                found.append((name, f"表格字段 '{name}' 的列 '{col}' 类型应为 {'、'.join(sorted(COLUMN_TYPES))} 之一"))
        if prop.get("maxItems", 0) > MAX_ROWS:
            found.append((name, f"表格字段 '{name}' 的 maxItems 不能超过 {MAX_ROWS}"))
    return found


def _cell(spec: dict, value):
    if not isinstance(value, str):
        return value
    value = value.strip()
    kind = spec.get("type", "string")
    if value == "":
        return None
    if kind in {"number", "integer"}:
        try:
            number = int(value) if kind == "integer" else float(value)
        except ValueError:
            return value  # the validator names the cell
        return int(number) if isinstance(number, float) and number.is_integer() else number
    if kind == "boolean":
        return value.lower() in {"1", "true", "on", "yes", "是"}
    return value


def clean_rows(prop: dict, rows):
    """The table's rows cleaned: cells trimmed and typed, empty optional cells and empty rows dropped.
    Anything that is not a list of objects is returned as it came, for the validator to name."""
    if not isinstance(rows, list):
        return rows
    cols = columns(prop)
    out = []
    for row in rows:
        if not isinstance(row, dict):
            out.append(row)
            continue
        cleaned = {}
        for key, value in row.items():
            value = _cell(cols.get(key, {}), value)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if value is not None:
                cleaned[key] = value
        if cleaned:
            out.append(cleaned)
    return out


def row_label(schema: dict, field: str, row: int) -> str:
    prop = schema.get("properties", {}).get(field, {})
    return f"{prop.get('title') or field}第 {row + 1} 行"


def column_title(schema: dict, field: str, col: str) -> str:
    return columns(schema.get("properties", {}).get(field, {})).get(col, {}).get("title") or col


def column_values(rows, col: str) -> list:
    """A column's values, row by row, the empty cells left out."""
    if not isinstance(rows, list):
        return []
    return [row[col] for row in rows if isinstance(row, dict) and row.get(col) is not None]
