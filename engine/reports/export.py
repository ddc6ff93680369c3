"""月度统计 as an Excel workbook."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from engine.reports.monthly import SCOPE_LABELS, SCOPES

HEADERS = {
    "person": ("姓名", "用户名", "部门"),
    "department": ("部门",),
    "process": ("流程", "流程标识"),
}


FIGURES = ("办理件数", "平均办理时长（工作小时）", "月末未办结", "超时件数", "超时率", "收到催办")


def to_xlsx(report: dict) -> bytes:
    """One sheet per scope, Chinese headers, rates as percentages."""
    book = Workbook()
    book.remove(book.active)
    for scope in SCOPES:
        sheet = book.create_sheet(SCOPE_LABELS[scope])
        as_of = report["as_of"][:16].replace("T", " ")
        sheet.append([f"{report['month']} 审批统计（{SCOPE_LABELS[scope]}，截至 {as_of}）"])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([*HEADERS[scope], *FIGURES])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for entry in report[scope]:
            labels = {
                "person": (entry["name"], entry["key"], entry.get("department") or ""),
                "department": (entry["key"],),
                "process": (entry["name"], entry["key"]),
            }[scope]
            sheet.append(
                [
                    *labels,
                    entry["handled"],
                    entry["avg_hours"],
                    entry["open_at_end"],
                    entry["overdue"],
                    entry["overdue_rate"],
                    entry["urged"],
                ]
            )
            sheet.cell(row=sheet.max_row, column=len(labels) + 5).number_format = "0.0%"
        for index, width in enumerate([14] * len(HEADERS[scope]) + [10, 22, 12, 10, 10, 10], start=1):
            sheet.column_dimensions[chr(64 + index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
