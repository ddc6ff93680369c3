"""Working days on the Chinese calendar: deadlines across 2025 国庆/中秋 and 2026 春节, the calendar checked
against the `holidays` package, node limits, office hours, the unknown next year (未确认 + a warning for
administrators), and administrators editing days and importing next year's schedule."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from sqlalchemy import select
from support import sign_in

from engine.errors import Forbidden, InvalidData
from engine.org import users
from engine.process.model import Node
from engine.process.policy import policy_of
from engine.store.tables import calendar_day, event_log, work_item
from engine.time import calendar_admin, working_days
from engine.time.office_hours import work_calendar
from engine.time.working_days import PRIORITIES
from engine.work import initiate, working_time

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def utc(*args) -> datetime:
    """A Beijing wall-clock time as the naive UTC the tables store."""
    return datetime(*args, tzinfo=SH).astimezone(UTC).replace(tzinfo=None)


def local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(SH).replace(tzinfo=None)


def by_priority(*month_days) -> dict:
    """{紧急: date, 重要: date, 正常: date} from (month, day) pairs in 2026."""
    return {p: date(2026, m, d) for p, (m, d) in zip(PRIORITIES, month_days, strict=True)}


def due(core, created, priority="正常", node=None):
    limit = policy_of(Node("n", "userTask", "n", None, properties=node)).time_limit if node else None
    with core.db.read() as conn:
        return working_days.deadline(work_calendar(conn), created, priority, limit)


# --- deadlines on the statutory calendar ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("紧急", datetime(2025, 10, 9, 17, 30)),
        ("重要", datetime(2025, 10, 10, 17, 30)),
        ("正常", datetime(2025, 10, 11, 17, 30)),
    ],
)
def test_deadline_across_2025_national_day_and_mid_autumn(core, priority, expected):
    # 10-01…10-08 off (国庆 + 中秋), 10-11 is a Saturday make-up working day.
    result = due(core, utc(2025, 9, 30, 10, 0), priority)
    assert local(result.due_at) == expected
    assert result.confirmed
    assert date(2025, 10, 11).weekday() == 5


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        # Friday 02-13: the 紧急 day is Saturday 02-14 (调休上班); 02-15…02-23 off.
        (datetime(2026, 2, 13, 9, 0), by_priority((2, 14), (2, 24), (2, 25))),
        (datetime(2026, 2, 12, 16, 0), by_priority((2, 13), (2, 14), (2, 24))),
        # Created on a holiday: counting starts with the next working day.
        (datetime(2026, 2, 18, 11, 0), by_priority((2, 24), (2, 25), (2, 26))),
    ],
)
def test_deadline_across_2026_spring_festival(core, created, expected):
    for priority, day in expected.items():
        result = due(core, utc(*created.timetuple()[:5]), priority)
        assert local(result.due_at) == datetime.combine(day, datetime.min.time()).replace(hour=17, minute=30), priority


def test_work_item_gets_its_due_time_when_created(core):
    with time_machine.travel(datetime(2025, 9, 30, 10, 0, tzinfo=SH), tick=False):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "紧急")
    with core.db.read() as conn:
        item = conn.execute(select(work_item).where(work_item.c.instance_id == started["id"])).one()
    assert local(item.due_at) == datetime(2025, 10, 9, 17, 30)


LEAVE = {"leave_type": "年假", "start_date": "2025-10-13", "end_date": "2025-10-14", "reason": "探亲"}


def test_calendar_agrees_with_the_holidays_package(core):
    """Every day of 2025 and 2026 as seeded from chinesecalendar, against `holidays` (an independent source)."""
    reference = holidays.China(years=[2025, 2026])
    with core.db.read() as conn:
        rows = {
            row.day: bool(row.is_workday)
            for row in conn.execute(
                select(calendar_day).where(calendar_day.c.day.between(date(2025, 1, 1), date(2026, 12, 31)))
            )
        }
    assert len(rows) == 365 * 2
    different = [day for day, workday in rows.items() if workday != reference.is_working_day(day)]
    assert different == []
    assert rows[date(2025, 10, 11)] is True and rows[date(2026, 2, 14)] is True  # make-up Saturdays
    assert rows[date(2025, 10, 8)] is False and rows[date(2026, 2, 23)] is False  # weekday holidays


# --- node limits and office hours ----------------------------------------------------------------------------


def test_node_limit_in_working_days_or_hours(core):
    created = utc(2025, 9, 30, 16, 0)  # 1.5 office hours left that day
    # 10-09, 10-10, 10-11 (Saturday make-up), 10-13, 10-14.
    assert local(due(core, created, "紧急", {"due_days": "5"}).due_at) == datetime(2025, 10, 14, 17, 30)
    # 4 working hours: 16:00–17:30 on 09-30, then 08:30–11:00 on 10-09 (the next working day).
    hours = due(core, created, "正常", {"due_hours": "4"})
    assert local(hours.due_at) == datetime(2025, 10, 9, 11, 0)
    assert "工作小时" in hours.rule
    # Unreadable limits fall back to the priority.
    assert local(due(core, created, "紧急", {"due_days": "abc"}).due_at) == datetime(2025, 10, 9, 17, 30)


def test_working_time_arithmetic(core):
    with core.db.read() as conn:
        cal = work_calendar(conn)
    start = utc(2025, 9, 30, 11, 0)
    # 1 h before lunch, 4 h after: a whole office day is 7.5 h.
    assert cal.working_minutes_between(start, utc(2025, 9, 30, 17, 30)) == 300
    assert cal.working_minutes_between(utc(2025, 9, 30, 8, 30), utc(2025, 10, 9, 8, 30)) == 450
    assert local(cal.add_working_minutes(start, 90)[0]) == datetime(2025, 9, 30, 14, 0)
    assert local(cal.sub_working_minutes(utc(2025, 10, 9, 9, 30), 120)) == datetime(2025, 9, 30, 16, 30)
    assert cal.hours.minutes_per_day == 450


def test_office_hours_are_configurable(core, api):
    admin = api("admin")
    response = admin.post("/api/v1/admin/office-hours", json={})  # wrong method is refused, not guessed
    assert response.status_code == 405
    response = admin.client.put(
        "/api/v1/admin/office-hours", headers=admin.headers, json={"periods": ["09:00-12:00", "14:00-18:00"]}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["minutes_per_day"] == 420
    assert local(due(core, utc(2025, 9, 30, 10, 0), "紧急").due_at) == datetime(2025, 10, 9, 18, 0)

    bad = admin.client.put("/api/v1/admin/office-hours", headers=admin.headers, json={"periods": ["18:00-09:00"]})
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "periods"
    bad = admin.client.put("/api/v1/admin/office-hours", headers=admin.headers, json={"timezone": "Mars/Base"})
    assert {e["field"] for e in bad.get_json()["errors"]} == {"timezone", "periods"}
    with core.db.read() as conn:
        assert work_calendar(conn).hours.minutes_per_day == 420  # unchanged by the refused requests
    zhang = api("zhangsan")
    assert zhang.client.put("/api/v1/admin/office-hours", headers=zhang.headers, json={}).status_code == 403


# --- past the known range ---------------------------------------------------------------------------------


def test_past_the_known_calendar_is_monday_to_friday_and_unconfirmed(core):
    result = due(core, utc(2026, 12, 30, 10, 0), "正常")
    assert local(result.due_at) == datetime(2027, 1, 4, 17, 30)  # 12-31, (01-01 Fri), 01-04
    assert result.confirmed is False
    with core.db.read() as conn:
        cal = work_calendar(conn)
    assert working_days.is_confirmed(cal, result.due_at) is False
    assert working_days.is_confirmed(cal, utc(2026, 12, 31, 17, 30)) is True


def test_administrators_are_warned_from_1_october_of_the_year_before(core):
    with core.db.read() as conn:
        assert calendar_admin.warning(conn, date(2026, 9, 30)) is None
        text = calendar_admin.warning(conn, date(2026, 10, 1))
        assert "2027" in text and "未确认" in text
        assert "2027-01-01" in calendar_admin.warning(conn, date(2027, 1, 2)) or "2026-12-31" in calendar_admin.warning(
            conn, date(2027, 1, 2)
        )


def test_warning_and_unconfirmed_badge_in_the_browser(core, client):
    with time_machine.travel(datetime(2026, 12, 29, 10, 0, tzinfo=SH), tick=False):
        data = {**LEAVE, "start_date": "2027-01-05", "end_date": "2027-01-06"}
        started = initiate.start(core, "zhangsan", "leave", data)
        sign_in(client, core, "admin")
        page = client.get("/admin/calendar").get_data(as_text=True)
        assert "尚未导入 2027 年的节假日安排" in page
        sign_in(client, core, "sunli")
        todo = client.get("/inbox/todo").get_data(as_text=True)
        assert "未确认" in todo  # due 2027-01-04, past the known calendar
        assert "尚未导入" not in todo  # the warning is for administrators only
    assert started["status"] == "running"


# --- administrators edit the calendar --------------------------------------------------------------------


def _events(core, type_: str) -> list:
    with core.db.read() as conn:
        return conn.execute(select(event_log).where(event_log.c.type == type_).order_by(event_log.c.id)).all()


def test_editing_a_day_is_audited_and_recomputes_open_deadlines(core, api):
    with time_machine.travel(datetime(2025, 9, 30, 10, 0, tzinfo=SH), tick=False):
        started = initiate.start(core, "zhangsan", "leave", LEAVE, "正常")
    admin = api("admin")
    response = admin.client.put(
        "/api/v1/admin/calendar/days/2025-10-11",
        headers=admin.headers,
        json={"is_workday": False, "note": "本单位不调休"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["recomputed"] == 1
    with core.db.read() as conn:
        item = conn.execute(select(work_item).where(work_item.c.instance_id == started["id"])).one()
        day = conn.execute(select(calendar_day).where(calendar_day.c.day == date(2025, 10, 11))).one()
    assert local(item.due_at) == datetime(2025, 10, 13, 17, 30)
    assert (day.is_workday, day.note, day.source) == (False, "本单位不调休", "manual")
    [event] = _events(core, "calendar_changed")
    assert "2025-10-11" in event.message and "由工作日改为休息日" in event.message
    with core.db.read() as conn:
        assert event.actor_id == users.find_user(conn, "admin").id


def test_editing_a_day_checks_permission_and_input(core, api):
    zhang = api("zhangsan")
    put = zhang.client.put
    url = "/api/v1/admin/calendar/days/2025-10-11"
    assert put(url, headers=zhang.headers, json={"is_workday": False}).status_code == 403
    admin = api("admin")
    bad = admin.client.put("/api/v1/admin/calendar/days/2025-13-40", headers=admin.headers, json={"is_workday": False})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "date"
    bad = admin.client.put("/api/v1/admin/calendar/days/2025-10-11", headers=admin.headers, json={"is_workday": "no"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "is_workday"
    with core.db.read() as conn:
        assert conn.execute(select(calendar_day.c.is_workday).where(calendar_day.c.day == date(2025, 10, 11))).scalar()
    assert _events(core, "calendar_changed") == []
    with pytest.raises(Forbidden):
        working_time.set_day(core, "lisi", "2025-10-11", False)


SCHEDULE_2027 = {
    "year": 2027,
    "holidays": [
        {"start": "2027-01-01", "end": "2027-01-03", "name": "元旦"},
        {"start": "2027-02-06", "end": "2027-02-13", "name": "春节"},
    ],
    "workdays": [{"date": "2027-02-14", "name": "春节"}],
}


def test_importing_next_year(core, api):
    admin = api("admin")
    response = admin.post("/api/v1/admin/calendar/import", json=SCHEDULE_2027)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["holidays"] == 11 and response.get_json()["workdays"] == 1
    view = admin.get("/api/v1/admin/calendar?year=2027").get_json()
    days = {d["date"]: d for d in view["days"]}
    assert days["2027-01-01"]["is_workday"] is False and days["2027-01-01"]["note"] == "元旦"
    assert days["2027-02-14"]["is_workday"] is True and days["2027-02-14"]["note"] == "春节调休上班"
    assert days["2027-03-01"]["is_workday"] is True and days["2027-03-06"]["is_workday"] is False
    assert view["range"]["last"] == "2027-12-31"
    # Now confirmed: created Thursday 2027-02-04, 正常 → 02-05, 02-14 (Sunday make-up), 02-15.
    result = due(core, utc(2027, 2, 4, 10, 0), "正常")
    assert (local(result.due_at).date(), result.confirmed) == (date(2027, 2, 15), True)
    assert "2027 年" in _events(core, "calendar_changed")[0].message


def test_import_refuses_bad_entries_and_stores_nothing(core, api):
    admin = api("admin")
    bad = {
        **SCHEDULE_2027,
        "holidays": [{"start": "2027-01-01", "end": "2026-12-30"}],
        "workdays": [{"date": "2028-01-01"}],
    }
    response = admin.post("/api/v1/admin/calendar/import", json=bad)
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"holidays[0]", "workdays[0]"}
    response = admin.post("/api/v1/admin/calendar/import", json={"year": "twenty"})
    assert response.get_json()["errors"][0]["field"] == "year"
    assert api("zhangsan").post("/api/v1/admin/calendar/import", json=SCHEDULE_2027).status_code == 403
    with core.db.read() as conn:
        assert conn.execute(select(calendar_day).where(calendar_day.c.day >= date(2027, 1, 1))).first() is None


def test_import_as_text_in_the_browser(core, client):
    token = sign_in(client, core, "admin")
    text = "2027-01-01 至 2027-01-03 休 元旦\n2027-02-06~2027-02-13 休 春节\n2027-02-14 班 春节调休\n"
    response = client.post("/admin/calendar/import", data={"csrf_token": token, "year": "2027", "text": text})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2027 年安排" in page
    with core.db.read() as conn:
        assert conn.execute(select(calendar_day.c.is_workday).where(calendar_day.c.day == date(2027, 2, 14))).scalar()
    # A line that is not a schedule names its line; nothing changes.
    form = {"csrf_token": token, "year": "2028", "text": "明年元旦放三天"}
    response = client.post("/admin/calendar/import", data=form)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 1 行" in page
    with core.db.read() as conn:
        assert conn.execute(select(calendar_day).where(calendar_day.c.day >= date(2028, 1, 1))).first() is None


def test_parse_schedule_errors_name_the_line():
    with pytest.raises(InvalidData) as caught:
        calendar_admin.parse_schedule("2027-01-01 休 元旦\n2027-02-14 上午 春节\n")
    assert [e.field for e in caught.value.errors] == ["text"]
    assert "第 2 行" in caught.value.errors[0].message


def test_calendar_page_for_administrators_only(core, client):
    sign_in(client, core, "zhangsan")
    assert client.get("/admin/calendar").status_code == 403
    sign_in(client, core, "admin")
    page = client.get("/admin/calendar?year=2025").get_data(as_text=True)
    assert "工作日历 2025" in page and "2025-10-01 国庆节" in page and "2025-10-11 调休上班" in page
