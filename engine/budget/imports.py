"""Budgets as other systems hand them over: rows of 部门, 费用类型, 年度, 预算金额 from an Excel workbook, a
CSV file or JSON (an ERP's export). Reading only; the rows are checked here, each problem named by its row
and column, and stored by engine.work.budgets all at once or not at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import orjson
from openpyxl import load_workbook

from engine.budget import amounts
from engine.errors import FieldError, InvalidData

MAX_ROWS = 5000
YEAR_MIN, YEAR_MAX = 2000, 2100
# column → the names a header may give it (Chinese as the template has it, English for ERPs)
HEADERS = {
    "department": ("部门", "department"),
    "category": ("费用类型", "category"),
    "year": ("年度", "year"),
    "amount": ("预算金额", "amount"),
}
TITLES = {key: names[0] for key, names in HEADERS.items()}
LINE = "__line__"  # a file row's line number, kept so that messages name the line as the file has it


@dataclass(frozen=True)
class Entry:
    department: str
    category: str
    year: int
    amount: Decimal


def _key(header) -> str | None:
    text = str(header or "").strip().lower().removesuffix("（元）").removesuffix("(元)")
    return next((key for key, names in HEADERS.items() if text in names), None)


def entry(row: dict, where: str, categories: tuple[str, ...]) -> tuple[Entry | None, list[str]]:
    """One row {department, category, year, amount} checked: the entry, or the problems naming the row."""
    problems = []
    values = {key: row.get(key) for key in HEADERS}
    department = str(values["department"] or "").strip()
    category = str(values["category"] or "").strip()
    if not department or len(department) > 100:
        problems.append(f"{where}：{TITLES['department']}必须填写（不超过 100 个字）")
    if category not in categories:
        problems.append(f"{where}：{TITLES['category']}必须是以下之一：{'、'.join(categories)}")
    try:
        year = int(str(values["year"]).strip().removesuffix(".0"))
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise ValueError
    except ValueError:
        year = 0
        problems.append(f"{where}：{TITLES['year']}必须是 {YEAR_MIN}–{YEAR_MAX} 之间的年份")
    try:
        amount = amounts.money(values["amount"])
        if amount < 0:
            raise ValueError
    except ValueError:
        amount = Decimal(0)
        problems.append(f"{where}：{TITLES['amount']}必须是不小于 0 的金额（元，最多两位小数）")
    return (None if problems else Entry(department, category, year, amount)), problems


def entries(rows: list[dict], categories: tuple[str, ...], *, from_file: bool) -> list[tuple[str, Entry]]:
    """Every row checked, as (where it is: 第 3 行, the entry); InvalidData listing each bad row (field
    `rows`) when any is bad, or when a budget appears twice. A file's rows are named by their line (the
    header is line 1), JSON's by their place."""
    if not rows:
        raise InvalidData([FieldError("rows", "没有预算数据")])
    if len(rows) > MAX_ROWS:
        raise InvalidData([FieldError("rows", f"一次最多导入 {MAX_ROWS} 行")])
    found, problems, seen = [], [], {}
    for index, row in enumerate(rows):
        where = f"第 {row.get(LINE, index + 2)} 行" if from_file and isinstance(row, dict) else f"第 {index + 1} 条"
        if not isinstance(row, dict):
            problems.append(f"{where}：必须是对象（部门、费用类型、年度、预算金额）")
            continue
        item, bad = entry(row, where, categories)
        problems += bad
        if item is not None:
            key = (item.department, item.category, item.year)
            if key in seen:
                problems.append(f"{where}：与{seen[key]}重复（同一部门、费用类型和年度）")
            seen[key] = where
            found.append((where, item))
    if problems:
        raise InvalidData([FieldError("rows", "；".join(problems[:50]))])
    return found


def _table(header: list, body) -> list[dict]:
    keys = [_key(h) for h in header]
    missing = [TITLES[k] for k in HEADERS if k not in keys]
    if missing:
        raise InvalidData(
            [FieldError("file", f"表头缺少：{'、'.join(missing)}（应为 部门、费用类型、年度、预算金额）")]
        )
    rows = []
    for number, values in enumerate(body, start=2):  # the header is line 1
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        rows.append({LINE: number, **{k: v for k, v in zip(keys, values, strict=False) if k}})
    return rows


def from_csv(raw: bytes) -> list[dict]:
    """A CSV file (UTF-8, with or without BOM, or GB18030 as Excel in China saves it): header row first."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidData([FieldError("file", "CSV 文件必须是 UTF-8 或 GB18030 编码")])
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        raise InvalidData([FieldError("file", "CSV 文件是空的")])
    return _table(lines[0], lines[1:])


def from_xlsx(raw: bytes) -> list[dict]:
    """The first sheet of an Excel workbook (.xlsx): header row first."""
    try:
        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
        lines = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    except Exception:  # openpyxl raises many kinds for a file that is no workbook
        raise InvalidData([FieldError("file", "不是有效的 Excel 文件（.xlsx）")]) from None
    if not lines:
        raise InvalidData([FieldError("file", "Excel 文件是空的")])
    return _table(lines[0], lines[1:])


def from_json(raw: bytes) -> list[dict]:
    """{"budgets": [{department, category, year, amount}, …]} or the list itself."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidData([FieldError("body", "请求体不是有效的 JSON")]) from None
    rows = body.get("budgets") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise InvalidData([FieldError("budgets", "budgets 必须是数组")])
    return rows
