"""Departments from a spreadsheet (导入部门) and to one (导出部门), read like the accounts' import
(engine.org.org_import.read_table: .xlsx, CSV in UTF-8 or GB18030), one department per row under a header row.

    部门名称 | 上级部门 | 负责人 | 分管领导

部门名称 is required and is the key: a name that exists updates that department (a rename is done on the page,
never by import), a new name creates one. 上级部门 may be an existing department or one defined anywhere in
the file (rows come in any order); 负责人 and 分管领导 are login names of active accounts. For an existing
department an empty cell leaves that property as it is.

Each row is checked before anything is stored, against the tree the import would leave: an unknown parent,
a parent defined only by a bad row, and a cycle (a department under itself) are errors of the row's 上级部门.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy.engine import Connection

from engine.org import org_admin, org_import, users

# column header → the field of org_admin.create_department / update_department
COLUMNS = {"部门名称": "name", "上级部门": "parent", "负责人": "leader", "分管领导": "supervisor"}
HEADER_OF = {name: header for header, name in COLUMNS.items()}
REQUIRED = ("部门名称",)
PEOPLE = ("leader", "supervisor")


def read_rows(filename: str, content: bytes) -> list[org_import.Row]:
    """The department rows of an .xlsx or .csv file; InvalidData (field `file`) when it cannot be read."""
    return org_import.read_table(filename, content, COLUMNS, REQUIRED, "个部门")


def _refuse(row: org_import.Row, name: str, message: str) -> None:
    row.errors.append({"column": HEADER_OF[name], "message": message})


def check_rows(conn: Connection, rows: list[org_import.Row]) -> None:
    """Fill each row's errors (column and message), then what storing it would do (create, update with its
    changes in words, unchanged)."""
    existing = {d["name"]: d for d in org_admin.department_tree(conn)}
    named = {r.values.get("name", "") for r in rows}
    defined: dict[str, int] = {}
    for row in rows:
        values = row.values
        name = values.get("name", "")
        if not name:
            _refuse(row, "name", "请填写部门名称")
        elif len(name) > org_admin.NAME_MAX:
            _refuse(row, "name", f"部门名称最多 {org_admin.NAME_MAX} 个字")
        elif name in defined:
            _refuse(row, "name", f"部门“{name}”与第 {defined[name]} 行重复")
        else:
            defined[name] = row.number
        parent = values.get("parent", "")
        if parent and parent == name:
            _refuse(row, "parent", "上级部门不能是本部门")
        elif parent and parent not in existing and parent not in named:
            _refuse(row, "parent", f"上级部门“{parent}”不存在，文件中也没有")
        for key in PEOPLE:
            username = values.get(key, "")
            if not username:
                continue
            person = users.find_user(conn, username) if len(username) <= 64 else None
            if person is None or not person.active:
                _refuse(row, key, f"{HEADER_OF[key]}“{username}”不存在或已停用")
    _check_tree(rows, existing)
    for row in rows:
        _describe(row, existing.get(row.values.get("name", "")))


def _check_tree(rows: list[org_import.Row], existing: dict) -> None:
    """Refuse, until none is left, the rows whose parent only a bad row defines and the rows in a cycle of
    the tree the good rows would leave (a bad row leaves its department as it is)."""
    while True:
        good = {r.values["name"]: r for r in rows if not r.errors}
        number_of = {r.values.get("name"): r.number for r in reversed(rows)}
        parents = final_parents(good, existing)
        rooted: set = set()  # departments whose chain of parents reaches the top
        refused = False
        for name, row in good.items():
            parent = row.values.get("parent", "")
            if parent and parent not in good and parent not in existing:
                _refuse(row, "parent", f"上级部门“{parent}”所在的第 {number_of[parent]} 行有误")
                refused = True
                continue
            path, on_path = [name], {name}
            current = parents.get(name)
            while current is not None and current not in rooted and current not in on_path:
                path.append(current)
                on_path.add(current)
                current = parents.get(current)
            if current == name:
                _refuse(row, "parent", "上级部门形成循环：" + " → ".join([*path, name]))
                refused = True
            elif current is None or current in rooted:
                rooted.update(path)
        if not refused:
            return


def final_parents(good: dict, existing: dict) -> dict:
    """Each department's parent after the import of the `good` rows."""
    parents = {name: d["parent"] for name, d in existing.items()}
    for name, row in good.items():
        parent = row.values.get("parent", "")
        if parent or name not in existing:
            parents[name] = parent or None
    return parents


def _describe(row: org_import.Row, current: dict | None) -> None:
    if current is None:
        row.action = "create"
        return
    for key in ("parent", *PEOPLE):
        new, old = row.values.get(key, ""), current[key] or ""
        if new and new != old:
            row.changes.append(f"{HEADER_OF[key]}：{old or '无'} → {new}")
    row.action = "update" if row.changes else "unchanged"


def store_rows(conn: Connection, rows: list[org_import.Row]) -> tuple[list[str], list[str]]:
    """Create and update the departments of the good rows, each parent before its children; the names
    created and updated."""
    existing = {d["name"]: d for d in org_admin.department_tree(conn)}
    good = {r.values["name"]: r for r in rows if not r.errors}
    parents = final_parents(good, existing)
    created: list[str] = []
    updated: list[str] = []
    depths: dict = {}
    for name in sorted(good, key=lambda n: (_depth(parents, n, depths), good[n].number)):
        row = good[name]
        values = {k: v for k, v in row.values.items() if k in COLUMNS.values() and v}
        if row.action == "create":
            created.append(org_admin.create_department(conn, values))
        elif row.action == "update":
            del values["name"]
            updated.append(org_admin.update_department(conn, name, values))
    return created, updated


def _depth(parents: dict, name: str, depths: dict) -> int:
    """How far below the top `name` is (the tree has no cycle); `depths` remembers the answers."""
    path, current = [], name
    while current is not None and current not in depths:
        path.append(current)
        current = parents.get(current)
    depth = -1 if current is None else depths[current]
    for node in reversed(path):
        depth += 1
        depths[node] = depth
    return depths[name]


def export_xlsx(departments: list[dict]) -> bytes:
    """The department tree as an .xlsx in the import's columns (parents first): edit and import again."""
    book = Workbook()
    sheet = book.active
    sheet.title = "部门"
    sheet.append(list(COLUMNS))
    for d in departments:
        sheet.append([d["name"], d["parent"] or "", d["leader"] or "", d["supervisor"] or ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
