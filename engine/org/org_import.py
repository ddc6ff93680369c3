"""Accounts from a spreadsheet (导入用户) and to one (导出用户): Excel (.xlsx) or CSV (UTF-8, with or
without BOM; GB18030 as Excel on a Chinese Windows saves it), one account per row under a header row.

    登录名 | 姓名 | 部门 | 岗位 | 邮箱 | 角色 | 业务角色 | 初始密码

登录名 and 姓名 are required; 部门 must exist; 角色 is 系统管理员/流程管理员/文件管理员/普通用户 (several
separated by 、 or ;); 业务角色 likewise (文书, 分管领导 …, created when new); an empty 初始密码 gets a generated
one. Every account imported must change its password at the first sign-in.

Each row is checked before anything is stored; a problem names its row (as the spreadsheet numbers it, the
header being row 1) and its column. The caller stores nothing while any row is bad, unless the administrator
chose to import only the good rows (engine.work.organisation.import_users).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import org_admin, users
from engine.store.tables import department

# column header → the field of org_admin.create_user
COLUMNS = {
    "登录名": "username",
    "姓名": "display_name",
    "部门": "department",
    "岗位": "title",
    "邮箱": "email",
    "角色": "roles",
    "业务角色": "business_roles",
    "初始密码": "password",
}
HEADER_OF = {name: header for header, name in COLUMNS.items()}
REQUIRED = ("登录名", "姓名")
MAX_ROWS = 5000


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    values: dict
    errors: list[dict] = field(default_factory=list)
    action: str = ""  # what storing the row would do, where an import can update: create, update, unchanged
    changes: list[str] = field(default_factory=list)  # for an update, each change in words

    def as_dict(self) -> dict:
        shown = {k: v for k, v in self.values.items() if k != "password"}
        result = {"row": self.number, "values": shown, "ok": not self.errors, "errors": self.errors}
        if self.action:
            result.update(action=self.action, changes=self.changes)
        return result


def read_rows(filename: str, content: bytes) -> list[Row]:
    """The account rows of an .xlsx or .csv file; InvalidData (field `file`) when it cannot be read."""
    return read_table(filename, content, COLUMNS, REQUIRED, "个用户")


def read_table(filename: str, content: bytes, columns: dict, required: tuple, noun: str) -> list[Row]:
    """The rows of an .xlsx or .csv file under a header of `columns` (header → field), the `required` headers
    present; InvalidData (field `file`) when it cannot be read. `noun` counts the rows in the limit's message
    (个用户, 个部门). Both imports (accounts, departments) read through here."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        table = _xlsx(content)
    elif name.endswith(".csv"):
        table = _csv(content)
    else:
        raise InvalidData([FieldError("file", "请上传 Excel（.xlsx）或 CSV（.csv）文件")])
    table = [[("" if c is None else str(c)).strip() for c in line] for line in table]
    table = [line for line in table if any(line)] if table else []
    if not table:
        raise InvalidData([FieldError("file", f"文件是空的：第 1 行应为表头（{'、'.join(list(columns)[:3])}……）")])
    header = table[0]
    unknown = [h for h in header if h and h not in columns]
    missing = [h for h in required if h not in header]
    if unknown or missing:
        problems = []
        if missing:
            problems.append(f"缺少列：{'、'.join(missing)}")
        if unknown:
            problems.append(f"无法识别的列：{'、'.join(unknown)}")
        raise InvalidData(
            [FieldError("file", "表头有误，" + "；".join(problems) + f"（可用的列：{'、'.join(columns)}）")]
        )
    if len(table) - 1 > MAX_ROWS:
        raise InvalidData([FieldError("file", f"一次最多导入 {MAX_ROWS} {noun}")])
    rows = []
    for number, line in enumerate(table[1:], start=2):
        values = {columns[h]: (line[i] if i < len(line) else "") for i, h in enumerate(header) if h}
        rows.append(Row(number, values))
    return rows


def _xlsx(content: bytes) -> list[list]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise InvalidData([FieldError("file", "无法读取该 Excel 文件，请另存为 .xlsx 后重试")]) from None
    sheet = book.worksheets[0]
    return [list(line) for line in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]


def _csv(content: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidData([FieldError("file", "无法识别 CSV 文件的编码，请保存为 UTF-8")])
    if "\x00" in text:
        raise InvalidData([FieldError("file", "CSV 文件含有 NUL 字符")])
    return list(csv.reader(io.StringIO(text)))


def check_rows(conn: Connection, rows: list[Row]) -> None:
    """Fill each row's errors (column and message) as creating its account would find them."""
    departments = set(conn.execute(select(department.c.name)).scalars())
    seen: dict[str, int] = {}
    for row in rows:
        values = row.values

        def refuse(column: str, message: str, row=row) -> None:
            row.errors.append({"column": column, "message": message})

        username = values.get("username", "")
        if not username:
            refuse("登录名", "请填写登录名")
        elif not username.replace("_", "").replace(".", "").isalnum() or len(username) > 64:
            refuse("登录名", "登录名只能包含字母、数字、下划线和点，最多 64 个字符")
        elif username in seen:
            refuse("登录名", f"登录名“{username}”与第 {seen[username]} 行重复")
        elif users.find_user(conn, username) is not None:
            refuse("登录名", f"登录名“{username}”已存在")
        seen.setdefault(username, row.number)
        if not values.get("display_name"):
            refuse("姓名", "请填写姓名")
        dept = values.get("department", "")
        if dept and dept not in departments:
            refuse("部门", f"部门“{dept}”不存在")
        password = values.get("password", "")
        if password and users.password_too_short(password):
            refuse("初始密码", f"密码至少 {users.MIN_PASSWORD_LENGTH} 个字符")
        for name, check in (("roles", org_admin.role_codes), ("business_roles", org_admin.business_role_names)):
            try:
                check(values.get(name, ""), name)
            except InvalidData as exc:
                refuse(HEADER_OF[name], exc.errors[0].message)
        for name, limit in (("display_name", 100), ("title", 100), ("email", 255)):
            if len(values.get(name, "")) > limit:
                refuse(HEADER_OF[name], f"{HEADER_OF[name]}最多 {limit} 个字")


def export_xlsx(accounts: list[dict]) -> bytes:
    """The accounts as an .xlsx with the import's columns (without passwords): edit and import elsewhere."""
    book = Workbook()
    sheet = book.active
    sheet.title = "用户"
    headers = [h for h in COLUMNS if h != "初始密码"] + ["状态"]
    sheet.append(headers)
    for account in accounts:
        sheet.append(
            [
                account["username"],
                account["display_name"],
                account["department"] or "",
                account["title"] or "",
                account["email"] or "",
                account["role_names"],
                "、".join(account["business_roles"]),
                "启用" if account["active"] else "停用",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
