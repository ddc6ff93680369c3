"""Office hours and working time: the arithmetic every deadline, pause and statistic is counted in.

`WorkCalendar` holds the working-day calendar (calendar_day: 法定节假日 off, 调休 make-up days on) and the
office hours (default 08:30–12:00 and 13:30–17:30, Asia/Shanghai). It is loaded once per process and
reloaded when an administrator changes either (the `calendar_version` setting), so a command pays one
small query for it, shared with the organisation's (engine.stamps). Days outside the known range fall
back to Monday–Friday and are *unconfirmed* (未确认): a deadline that lands there is shown so until next
year's schedule is imported.

Every datetime in and out is naive UTC, as stored in the tables (DESIGN §6).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.store import stamps
from engine.store.tables import calendar_day, setting

DEFAULT_TZ = "Asia/Shanghai"
UTC = ZoneInfo("UTC")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~～至]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class OfficeHours:
    tz_name: str = DEFAULT_TZ
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(end) - _minutes(start) for start, end in self.periods)

    def as_dict(self) -> dict:
        return {
            "timezone": self.tz_name,
            "periods": [f"{s:%H:%M}-{e:%H:%M}" for s, e in self.periods],
            "minutes_per_day": self.minutes_per_day,
        }


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def parse_office_hours(timezone_name, periods) -> OfficeHours:
    """Validate what an administrator typed; errors name the field (timezone / periods)."""
    errors = []
    tz_name = str(timezone_name or DEFAULT_TZ).strip()
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("timezone", f"未知的时区“{tz_name}”，例如 Asia/Shanghai"))
    if isinstance(periods, str):
        periods = [p for p in re.split(r"[,，;；\n]", periods) if p.strip()]
    parsed: list[tuple[time, time]] = []
    if not isinstance(periods, list) or not periods:
        errors.append(FieldError("periods", "请至少填写一个办公时段，例如 08:30-12:00"))
    else:
        for text in periods:
            match = _PERIOD.match(str(text))
            if not match:
                errors.append(FieldError("periods", f"时段“{text}”格式应为 HH:MM-HH:MM"))
                continue
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                errors.append(FieldError("periods", f"时段“{text}”的时间无效"))
                continue
            start, end = time(h1, m1), (time(23, 59) if h2 == 24 else time(h2, m2))
            if end <= start:
                errors.append(FieldError("periods", f"时段“{text}”的结束时间必须晚于开始时间"))
                continue
            parsed.append((start, end))
        parsed.sort()
        for (_s1, e1), (s2, _e2) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                errors.append(FieldError("periods", "办公时段不能重叠"))
                break
    if errors:
        raise InvalidData(errors)
    return OfficeHours(tz_name, tuple(parsed))


def load_office_hours(conn: Connection) -> OfficeHours:
    raw = conn.execute(select(setting.c.value).where(setting.c.key == "office_hours")).scalar()
    if not raw:
        return OfficeHours()
    data = orjson.loads(raw)
    return parse_office_hours(data.get("timezone"), data.get("periods"))


def calendar_version(conn: Connection) -> str:
    return stamps.read(conn, "calendar_version") or "0"


def bump_calendar_version(conn: Connection) -> None:
    """Tell every process (web and schedulers) to reload the calendar on its next command."""
    current = conn.execute(select(setting.c.value).where(setting.c.key == "calendar_version")).scalar()
    if current is None:
        conn.execute(insert(setting).values(key="calendar_version", value="1"))
    else:
        conn.execute(
            update(setting).where(setting.c.key == "calendar_version").values(value=str(int(current or 0) + 1))
        )
    stamps.forget(conn)


def save_office_hours(conn: Connection, hours: OfficeHours) -> None:
    value = orjson.dumps({"timezone": hours.tz_name, "periods": hours.as_dict()["periods"]}).decode()
    if conn.execute(select(setting.c.key).where(setting.c.key == "office_hours")).first():
        conn.execute(update(setting).where(setting.c.key == "office_hours").values(value=value))
    else:
        conn.execute(insert(setting).values(key="office_hours", value=value))
    bump_calendar_version(conn)


class WorkCalendar:
    """Working days and office hours; pure arithmetic once loaded."""

    def __init__(self, days: dict[date, bool], hours: OfficeHours):
        self.days = days
        self.hours = hours
        self.first = min(days) if days else None
        self.last = max(days) if days else None

    # --- days ---

    def is_known(self, day: date) -> bool:
        return day in self.days

    def is_workday(self, day: date) -> bool:
        known = self.days.get(day)
        return day.weekday() < 5 if known is None else known

    def nth_working_day_after(self, day: date, count: int) -> tuple[date, bool]:
        """The `count`-th working day strictly after `day`, and whether every day on the way was known."""
        confirmed = True
        remaining = max(0, count)
        while remaining > 0:
            day += timedelta(days=1)
            confirmed = confirmed and self.is_known(day)
            if self.is_workday(day):
                remaining -= 1
        return day, confirmed

    # --- local/UTC ---

    def local(self, utc_value: datetime) -> datetime:
        return utc_value.replace(tzinfo=UTC).astimezone(self.hours.tz)

    def to_utc(self, local_value: datetime) -> datetime:
        if local_value.tzinfo is None:
            local_value = local_value.replace(tzinfo=self.hours.tz)
        return local_value.astimezone(timezone.utc).replace(tzinfo=None)

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's office periods as naive UTC (none on a day off)."""
        if not self.is_workday(day):
            return []
        tz = self.hours.tz
        return [
            (self.to_utc(datetime.combine(day, s, tz)), self.to_utc(datetime.combine(day, e, tz)))
            for s, e in self.hours.periods
        ]

    def end_of_day(self, day: date) -> datetime:
        """Close of office on `day` (naive UTC), whether or not it is a working day."""
        return self.to_utc(datetime.combine(day, self.hours.periods[-1][1], self.hours.tz))

    # --- working time ---

    def add_working_minutes(self, start: datetime, minutes: float) -> tuple[datetime, bool]:
        """The moment `minutes` of office time after `start` (naive UTC), and whether it was confirmed."""
        if minutes <= 0:
            return start, self.is_known(self.local(start).date())
        remaining = timedelta(minutes=minutes)
        day = self.local(start).date()
        confirmed = True
        for _ in range(3660):
            confirmed = confirmed and self.is_known(day)
            for begin, end in self.periods(day):
                if end <= start:
                    continue
                begin = max(begin, start)
                if begin + remaining <= end:
                    return begin + remaining, confirmed
                remaining -= end - begin
            day += timedelta(days=1)
        raise ValueError("no office time within ten years")

    def sub_working_minutes(self, end_at: datetime, minutes: float) -> datetime:
        """The moment `minutes` of office time before `end_at` (naive UTC)."""
        if minutes <= 0:
            return end_at
        remaining = timedelta(minutes=minutes)
        day = self.local(end_at).date()
        for _ in range(3660):
            for begin, end in reversed(self.periods(day)):
                if begin >= end_at:
                    continue
                end = min(end, end_at)
                if end - remaining >= begin:
                    return end - remaining
                remaining -= end - begin
            day -= timedelta(days=1)
        raise ValueError("no office time within ten years")

    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        """Office minutes in [start, end) (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = timedelta()
        day = self.local(start).date()
        last = self.local(end).date()
        while day <= last:
            for begin, finish in self.periods(day):
                lo, hi = max(begin, start), min(finish, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 60


_CACHE: dict[tuple[str, str], WorkCalendar] = {}
_CACHE_LOCK = threading.Lock()


def work_calendar(conn: Connection) -> WorkCalendar:
    """The calendar for this database, reloaded only when its version changed."""
    key = (conn.engine.url.render_as_string(hide_password=True), calendar_version(conn))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    days = {
        row.day: bool(row.is_workday) for row in conn.execute(select(calendar_day.c.day, calendar_day.c.is_workday))
    }
    loaded = WorkCalendar(days, load_office_hours(conn))
    with _CACHE_LOCK:
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        while len(_CACHE) >= 8:  # a process normally talks to one database; tests to many
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = loaded
    return loaded
