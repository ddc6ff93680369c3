"""The printable pages of an application, each one read: the 审批单 (every process), the 处理单 of a 公文
(laid out by its sheet spec, engine.process.sheets) and the 红头 first page of a 发文. Who may see the
application may print it: the same check as the instance page (a stranger gets 404).

Field values come as words ready for paper: 是/否, dates as 2026年11月23日, money as ¥120,000.00 with its
大写金额, a person as their name, a file as its name (with its id, for a link)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.org import directory, office, users
from engine.process import form_tables, money, sheets
from engine.store.tables import work_item
from engine.work.views import application
from engine.work.views import detail as details

PENDING = ("open", "waiting")


def approval_form(core, user: users.User, instance_id: int) -> dict:
    """审批单: the title block, the form's fields in order with their titles, and every step (handler,
    decision, opinion, signature, time; steps still open as 待办理)."""
    with core.db.read() as conn:
        return _printed(core, conn, user, instance_id)[0]


def processing_sheet(core, user: users.User, instance_id: int) -> dict:
    """处理单 of a 公文: the rows of its sheet spec filled in; `sheet` is None for a process without one (the
    page then prints the 审批单)."""
    with core.db.read() as conn:
        printed, sheet = _printed(core, conn, user, instance_id)
    printed["sheet"] = _sheet(sheet, printed) if sheet else None
    return printed


def redhead(core, user: users.User, instance_id: int) -> dict:
    """The 红头 first page of a 发文 (GB/T 9704's order of elements); `is_outgoing` is False for a process
    whose sheet is not a 发文稿纸 (the page says so instead)."""
    with core.db.read() as conn:
        printed, sheet = _printed(core, conn, user, instance_id)
        printed["office_name"] = office.office_name(conn)
    body = _body_field(printed["view_schema"]["properties"])
    file = printed["detail"]["data"].get(body) if body else None
    printed["redhead"] = {
        "is_outgoing": bool(sheet and sheet.redhead),
        "title": _cell_text(sheets.TITLE, printed) or printed["detail"]["title"],
        "main_to": _cell_text(sheets.MAIN_TO, printed),
        "secrecy": _cell_text(sheets.SECRET, printed),
        "urgency": _cell_text(sheets.URGENT, printed),
        "copy_no": "",  # 份号: numbered by hand on the printed copies
        "body_file": file if isinstance(file, dict) else None,
        "written_on": _sign_off_day(printed),
    }
    return printed


# --- what every printed page reads ---------------------------------------------------------------------------


def _printed(core, conn: Connection, user: users.User, instance_id: int) -> tuple[dict, sheets.Sheet | None]:
    """What every printed page shows, and the process's 处理单 layout (None: it has none)."""
    detail = details.instance_detail(core, conn, user, instance_id)  # NotFound for who may not see it
    compiled = core.specs.get(conn, detail["definition_id"])
    schema = application.view_schema(compiled, detail["form"], detail["data"])
    names = application.user_names(conn, schema, detail["data"])
    initiator = users.find_user(conn, detail["initiator"])
    signed = {e["work_item_id"] for e in detail["history"] if e["signed"] and e["work_item_id"]}
    sheet = sheets.sheet_for(detail["process"], compiled.model.properties)
    return {
        "detail": detail,
        "view_schema": schema,
        "user_names": names,
        "department": directory.department_name(conn, initiator.department_id) if initiator else None,
        "fields": _fields(schema, detail["data"], names),
        "steps": _steps(detail, _signatures(conn, instance_id, signed)),
        "doc_no": detail.get("doc_no") or detail["data"].get("doc_no"),
        "circulation": detail.get("circulation") or [],
    }, sheet


def _signatures(conn: Connection, instance_id: int, item_ids: set[int]) -> dict[int, str]:
    """The handwritten signatures of these decisions, as data: URLs, so the printed page (and the HTML the
    API returns) carries them itself."""
    if not item_ids:
        return {}
    rows = conn.execute(
        select(work_item.c.id, work_item.c.signature).where(
            work_item.c.instance_id == instance_id, work_item.c.id.in_(item_ids), work_item.c.signature.isnot(None)
        )
    )
    return {row.id: "data:image/png;base64," + row.signature for row in rows}


def _fields(schema: dict, data: dict, names: dict[str, str]) -> list[dict]:
    """The filled-in fields in form order: title, the value in words, the 大写金额 of a money field."""
    out = []
    for name, prop in schema.get("properties", {}).items():
        value = data.get(name)
        if value is None or value == "" or value == []:
            continue
        out.append(
            {
                "name": name,
                "title": prop.get("title") or name,
                "text": _text(prop, value, names),
                "capital": _capital(prop, value),
                "file": value if _is_file(prop) and isinstance(value, dict) else None,
                "table": _table(prop, value, names) if form_tables.is_table(prop) else None,
                "wide": prop.get("x-widget") == "textarea" or _is_file(prop),
            }
        )
    return out


def _table(prop: dict, rows, names: dict[str, str]) -> dict:
    """A table field as the printed page shows it: the column titles and each row's cells in words."""
    columns = form_tables.columns(prop)
    return {
        "columns": [spec.get("title") or col for col, spec in columns.items()],
        "rows": [
            [_text(spec, row.get(col), names) for col, spec in columns.items()]
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict)
        ],
    }


def _steps(detail: dict, signatures: dict[int, str]) -> list[dict]:
    """Every approval step in the order it was opened: done ones with their decision, open ones 待办理; steps
    cancelled unseen (已由他人处理, withdrawn) are left out."""
    return [
        {
            "id": w["id"],
            "node": w["node"],
            "node_name": w["node_name"],
            "handler": w["assignee_label"],
            "pending": w["status"] in PENDING,
            "decision": w["decision"],
            "opinion": w["opinion"],
            "note": w["note"],
            "signature": signatures.get(w["id"]),
            "at": w["completed_at"] if w["status"] == "done" else None,
        }
        for w in detail["work_items"]
        if w["kind"] == "approve" and (w["status"] == "done" or w["status"] in PENDING)
    ]


# --- the 处理单 -------------------------------------------------------------------------------------------------


def _sheet(sheet: sheets.Sheet, printed: dict) -> dict:
    """The sheet's rows with their content; opinions of nodes no row names go to a last row 其他办理意见, so
    the sheet holds every node's opinion."""
    props = printed["view_schema"]["properties"]
    variant = _cell_text(sheet.variant, printed) if sheet.variant else ""
    rows = sheets.rows_for(sheet, variant)
    node_cells = [c for row in rows for c in row if c.source in (sheets.NODES, sheets.CIRCULATION)]
    claimed: dict[int, sheets.Cell] = {}
    for step in printed["steps"]:
        cell = next((c for c in node_cells if sheets.node_matches(c, step["node_name"])), None)
        if cell is not None:
            claimed[step["id"]] = cell
    filled = [[_filled(cell, printed, props, claimed) for cell in row] for row in rows]
    others = [s for s in printed["steps"] if s["id"] not in claimed]
    if others:
        filled.append([{"label": "其他办理意见", "text": "", "steps": others, "readers": None}])
    return {"title": sheet.title, "rows": filled}


def _filled(cell: sheets.Cell, printed: dict, props: dict, claimed: dict) -> dict:
    steps = None
    if cell.source in (sheets.NODES, sheets.CIRCULATION):
        steps = [s for s in printed["steps"] if claimed.get(s["id"]) is cell]
    readers = printed["circulation"] if cell.source == sheets.CIRCULATION else None
    return {"label": cell.label, "text": _cell_text(cell, printed), "steps": steps, "readers": readers}


def _cell_text(cell: sheets.Cell, printed: dict) -> str:
    detail = printed["detail"]
    if cell.source == sheets.DOC_NO:
        return printed["doc_no"] or ""
    if cell.source == sheets.INITIATOR:
        return detail["initiator_name"]
    if cell.source == sheets.DEPARTMENT:
        return printed["department"] or ""
    if cell.source == sheets.CREATED:
        return _day(detail["created_at"])
    if cell.source == sheets.NODES_DATE:
        done = [s["at"] for s in printed["steps"] if s["at"] and sheets.node_matches(cell, s["node_name"])]
        return _day(max(done)) if done else ""
    if cell.source in (sheets.FIELD, sheets.SECRECY, sheets.URGENCY):
        marker = {sheets.SECRECY: "x-secrecy", sheets.URGENCY: "x-urgency"}.get(cell.source)
        props = printed["view_schema"]["properties"]
        name = sheets.find_field(cell, props, marker)
        value = detail["data"].get(name) if name else None
        if value is None or value == "":
            return cell.default
        return _text(props[name], value, printed["user_names"])
    return ""


def _sign_off_day(printed: dict) -> str:
    """成文日期: the day the document was signed off (签发), else the day the application ended."""
    signed = [s["at"] for s in printed["steps"] if s["at"] and "签发" in (s["node_name"] or "")]
    if signed:
        return _day(max(signed))
    return _day(printed["detail"]["ended_at"]) if printed["detail"]["ended_at"] else ""


# --- values in words ---------------------------------------------------------------------------------------------


def _text(prop: dict, value, names: dict[str, str]) -> str:
    """A field's value as the printed page shows it."""
    if value is None:
        return ""
    if value is True or value is False:
        return "是" if value else "否"
    if money.is_money(prop) and isinstance(value, (int, float)):
        return money.format_money(value)
    if isinstance(value, dict):  # a file: {"id", "name", …}
        return str(value.get("name") or "")
    if isinstance(value, list):
        return "、".join(_text(prop.get("items", {}), v, names) for v in value)
    if prop.get("x-widget") == "user" and value in names:
        return f"{names[value]}（{value}）"
    if prop.get("format") == "date" and isinstance(value, str):
        return _day(value) or value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _capital(prop: dict, value) -> str | None:
    if not money.is_money(prop) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return money.capital_amount(value)
    except ValueError:  # a negative amount has no capital form: the figure alone is printed
        return None


def _day(value: str | None) -> str:
    """'2026-11-23…' → 2026年11月23日 (an ISO date or time in office time)."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"


def _body_field(props: dict[str, dict]) -> str | None:
    """The 正文 of a 发文: the file field titled 正文, else the file field named `body`."""
    files = [name for name, prop in props.items() if _is_file(prop)]
    titled = [name for name in files if sheets.bare_title(props[name].get("title") or "") == "正文"]
    return (titled or [name for name in files if name == "body"] or [None])[0]


def _is_file(prop: dict) -> bool:
    return prop.get("type") == "file" or prop.get("items", {}).get("type") == "file"
