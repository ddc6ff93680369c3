"""月度统计 as administrators ask for it: a month's report (counted now, or a stored snapshot), its page, its
Excel file, and a snapshot taken on demand (the scheduler takes them on the 28th and at month end)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.errors import Actor, InvalidData, NotFound, require_admin
from engine.reports import drilldown, export, monthly


def report(conn: Connection, month: str, source: str) -> dict:
    """`source`: live (counted now, the default) or a stored snapshot (day28 | month_end)."""
    if source in ("", "live"):
        result = monthly.compute(conn, month)
        result["source"] = "live"
    else:
        result = monthly.load_snapshot(conn, month, source)
        if result is None:
            raise NotFound(f"{month} 尚无{monthly.SNAPSHOTS[source]}")
        result["source"] = source
    result["snapshots"] = monthly.snapshots_of(conn, month)
    return result


def monthly_report(core, actor: Actor, month: str | None, source: str = "live") -> dict:
    """A month's statistics (this month when `month` is empty)."""
    require_admin(actor)
    with core.db.read() as conn:
        return report(conn, month or monthly.default_month(conn), source)


def report_page(core, actor: Actor, month: str | None, source: str = "live") -> dict:
    """The 月度统计 page: the month shown (this month by default) and its report, or why there is none."""
    require_admin(actor)
    with core.db.read() as conn:
        month = month or monthly.default_month(conn)
        try:
            return {"month": month, "report": report(conn, month, source), "error": None}
        except InvalidData as exc:
            return {"month": month, "report": None, "error": "；".join(e.message for e in exc.errors)}
        except NotFound as exc:
            return {"month": month, "report": None, "error": exc.message}


def monthly_workbook(core, actor: Actor, month: str | None, source: str = "live") -> tuple[str, bytes]:
    """(the month, its statistics as an Excel workbook)."""
    result = monthly_report(core, actor, month, source)
    return result["month"], export.to_xlsx(result)


def snapshot_now(core, actor: Actor, snapshot: str) -> int:
    """Take the current month's snapshot now; returns the rows added (none when it exists already)."""
    require_admin(actor)
    return monthly.take_snapshot(core, snapshot)


def items_page(core, actor: Actor, month: str | None, scope: str, key: str, measure: str) -> dict:
    """The items behind one figure of a month (drilldown.items_behind), counted now."""
    require_admin(actor)
    with core.db.read() as conn:
        return drilldown.items_behind(conn, month or monthly.default_month(conn), scope, key, measure)
