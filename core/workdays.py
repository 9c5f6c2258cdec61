"""Chinese working days, with the adjusted workdays (调休) of the State Council's yearly notice.

Who decides whether a day is a working day, in this order:

1. a row of the admin-maintained ``calendar_day`` table (admins may correct even years the library covers);
2. ``chinese_calendar`` for the years it covers (up to its release: 2026 for 1.11.0);
3. otherwise Monday to Friday. Such a year is *uncovered*: ``uncovered_years`` lists it, the admin
   calendar page says so, and a warning is logged once per process and year. A user never gets an error.

"Within n working days of an event" ends at the end (23:59:59.999999 Beijing time) of the n-th working day
after the local date of the event: ``deadline(moment, n)``.

Each call reads the admin rows of the whole years it needs in one query, never one query per day.
Admin maintenance (``set_day``, ``clear_day``, ``import_days``) flushes and never commits; it never changes
how a day that has begun or passed is counted, since deadlines have already been counted over it.
"""
import csv
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from core import clock, directory, journal, notifications
from core.clock import SHANGHAI
from core.errors import DomainError
from core.extensions import db
from core.models import CalendarDay, Notification

# Where an answer comes from (also the coverage of a year).
LIBRARY = "library"  # chinese-calendar
ADMIN = "admin"  # the admin table
WEEKDAYS = "weekdays"  # Monday to Friday only: nobody has entered the year's holidays

NAME_MAX = 60  # the column's length
KINDS = {"holiday": False, "workday": True}
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")  # 2027-01-01, and Excel's 2027/1/1

_warned_years: set[int] = set()
_warned_lock = threading.Lock()


@lru_cache(maxsize=None)
def library_covers(year: int) -> bool:
    """Whether chinese-calendar knows the holidays of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def _library_is_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


def _library_names(day: date) -> tuple[str, str] | None:
    """(English, Chinese) name of the holiday a library day belongs to (off, or worked in lieu)."""
    _off, english = chinese_calendar.get_holiday_detail(day)
    if not english:
        return None
    try:
        return english, chinese_calendar.Holiday(english).chinese
    except ValueError:
        return english, english


def _default(day: date) -> tuple[bool, str]:
    """The answer without the admin table: (is_workday, source)."""
    if library_covers(day.year):
        return _library_is_workday(day), LIBRARY
    return day.weekday() < 5, WEEKDAYS


def _warn_uncovered(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    current_app.logger.warning(
        "working days: neither chinese-calendar nor the admin calendar covers %s; counting Monday to "
        "Friday until an admin enters the year's holidays at /admin/calendar", year)


class _Days:
    """The admin rows of whole years, read in one query per range of years and kept for one call.
    ``warn``: report an uncovered year (not when an admin is about to cover it)."""

    def __init__(self, warn: bool = True):
        self.warn = warn
        self.first_year: int | None = None
        self.last_year: int | None = None
        self.rows: dict[date, CalendarDay] = {}
        self.years_with_rows: set[int] = set()

    def load(self, first_year: int, last_year: int) -> None:
        if self.first_year is not None and self.first_year <= first_year and last_year <= self.last_year:
            return
        if self.first_year is not None:
            first_year, last_year = min(first_year, self.first_year), max(last_year, self.last_year)
        rows = db.session.scalars(select(CalendarDay).where(
            CalendarDay.day >= date(first_year, 1, 1), CalendarDay.day <= date(last_year, 12, 31)))
        self.rows = {row.day: row for row in rows}
        self.years_with_rows = {day.year for day in self.rows}
        self.first_year, self.last_year = first_year, last_year

    def coverage(self, year: int) -> str:
        self.load(year, year)
        if library_covers(year):
            return LIBRARY
        return ADMIN if year in self.years_with_rows else WEEKDAYS

    def is_workday(self, day: date) -> bool:
        self.load(day.year, day.year)
        row = self.rows.get(day)
        if row is not None:
            return row.is_workday
        answer, source = _default(day)
        if source == WEEKDAYS and self.warn and day.year not in self.years_with_rows:
            _warn_uncovered(day.year)
        return answer


def _as_date(day) -> date:
    if isinstance(day, datetime):
        if day.tzinfo is None:
            raise TypeError("a naive datetime has no local date; pass a date or an aware datetime")
        return clock.local(day).date()
    return day


def is_workday(day: date) -> bool:
    return _Days().is_workday(_as_date(day))


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself not counted); ``start`` when n is 0."""
    if n < 0:
        raise ValueError("n must be 0 or more")
    start = _as_date(start)
    days = _Days()
    # Long holidays last at most nine days: twice n plus three weeks nearly always fits one read.
    days.load(start.year, (start + timedelta(days=2 * n + 21)).year)
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if days.is_workday(day):
            left -= 1
    return day


def workdays_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; 0 when ``b`` is not after ``a``."""
    a, b = _as_date(a), _as_date(b)
    if b <= a:
        return 0
    days = _Days()
    days.load(a.year, b.year)
    return sum(days.is_workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def deadline(moment: datetime, n: int) -> datetime:
    """The end (23:59:59.999999 Beijing time, returned in UTC) of the n-th working day after the local date
    of ``moment``: "within n working days of the event"."""
    if moment.tzinfo is None:
        raise TypeError("deadline() needs an aware datetime (core.clock.now())")
    last = add_workdays(clock.local(moment).date(), n)
    return datetime.combine(last, time.max, tzinfo=SHANGHAI).astimezone(timezone.utc)


# What the admin page draws.

@dataclass(frozen=True)
class DayInfo:
    day: date
    is_workday: bool
    source: str  # LIBRARY, ADMIN or WEEKDAYS: who decided
    name: str  # the admin's name, or the library's holiday in English
    name_zh: str  # the admin's name, or the library's holiday in Chinese
    default_is_workday: bool  # what the day would be without an admin row

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def is_special(self) -> bool:
        """A holiday on a weekday or a working weekend day: what a calendar marks."""
        return self.is_workday == self.is_weekend


def coverage(year: int) -> str:
    """LIBRARY, ADMIN or WEEKDAYS (nobody has entered the year's holidays)."""
    return _Days().coverage(year)


def days_of_year(year: int) -> list[DayInfo]:
    days = _Days()
    days.load(year, year)
    answers = []
    day = date(year, 1, 1)
    while day.year == year:
        default, source = _default(day)
        row = days.rows.get(day)
        if row is not None:
            answers.append(DayInfo(day, row.is_workday, ADMIN, row.name, row.name, default))
        else:
            names = _library_names(day) if source == LIBRARY else None
            english, chinese = names or ("", "")
            answers.append(DayInfo(day, default, source, english, chinese, default))
        day += timedelta(days=1)
    return answers


def admin_rows(year: int) -> list[CalendarDay]:
    return list(db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day)))


def uncovered_years(from_year: int, to_year: int) -> list[int]:
    """Years from ``from_year`` to ``to_year`` (both included) that neither chinese-calendar nor any admin
    row covers: there working days are counted Monday to Friday."""
    if to_year < from_year:
        return []
    days = _Days()
    days.load(from_year, to_year)
    return [year for year in range(from_year, to_year + 1)
            if not library_covers(year) and year not in days.years_with_rows]


def warn_admins_of_uncovered_years(now: datetime) -> list[int]:
    """Tell the administrators, once per year, of each uncovered year among this one and next (Beijing
    time), so that they enter its holidays. Returns the years told now. Flushes, never commits."""
    year = clock.local(now).year
    told = []
    for uncovered in uncovered_years(year, year + 1):
        kind = f"calendar_uncovered:{uncovered}"
        if db.session.scalars(select(Notification.id).where(Notification.kind == kind)).first():
            continue
        notifications.notify(
            directory.active_ids_with_role("admin"), kind, _l("Enter the holidays of %(year)s", year=uncovered),
            _l("No holiday table covers %(year)s yet, so working days in %(year)s are counted Monday to Friday. "
              "Enter the State Council's holidays and adjusted workdays.", year=uncovered),
            f"/admin/calendar?year={uncovered}", now)
        told.append(uncovered)
    return told


# Admin maintenance: services that flush and never commit.

def _kind(is_workday: bool) -> str:
    return "workday" if is_workday else "holiday"


def _clean_name(name: str | None, is_workday: bool) -> str:
    name = (name or "").strip()
    if not is_workday and not name:
        raise DomainError("calendar_name_required",
                          _("Name the holiday (for example 国庆节), so that people see why the day is off."))
    if len(name) > NAME_MAX:
        raise DomainError("calendar_name_too_long",
                          _("The name is too long: at most %(count)d characters.", count=NAME_MAX))
    return name


def _check_not_begun(day: date, before: bool, after: bool, now: datetime) -> None:
    """A day that has begun or passed keeps how it is counted: deadlines were counted over it."""
    if before != after and day <= clock.local(now).date():
        raise DomainError("calendar_day_past",
                          _("%(day)s has begun or passed: deadlines have already been counted over it, so it "
                            "can no longer change between working day and holiday.", day=day.isoformat()))


def set_day(actor, day: date, is_workday: bool, name: str | None, now: datetime) -> CalendarDay:
    """Add or replace the admin row of ``day``: a holiday (needs a name) or a working day."""
    is_workday = bool(is_workday)
    name = _clean_name(name, is_workday)
    days = _Days(warn=False)
    _check_not_begun(day, days.is_workday(day), is_workday, now)
    actor_id = actor.id
    row = days.rows.get(day)
    if row is None:
        row = CalendarDay(day=day)
    row.is_workday, row.name, row.changed_by_id, row.changed_at = is_workday, name, actor_id, now
    db.session.add(row)
    db.session.flush()
    journal.record("calendar.day_set", "calendar_day", day.isoformat(),
                   {"kind": _kind(is_workday), "name": name}, actor=actor, now=now)
    return row


def clear_day(actor, day: date, now: datetime) -> None:
    """Remove the admin row of ``day``: the library or Monday to Friday decide it again."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise DomainError("calendar_no_row",
                          _("The calendar table has no entry for %(day)s.", day=day.isoformat()))
    _check_not_begun(day, row.is_workday, _default(day)[0], now)
    journal.record("calendar.day_cleared", "calendar_day", day.isoformat(),
                   {"kind": _kind(row.is_workday), "name": row.name}, actor=actor, now=now)
    db.session.delete(row)
    db.session.flush()


@dataclass(frozen=True)
class ImportResult:
    year: int
    written: int  # rows of the file
    removed: int  # rows of the year that the file no longer has


class ImportRefused(DomainError):
    """The file as a whole is refused; ``problems`` names each line that is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("calendar_import_invalid",
                         _("Nothing was imported: correct the file and import it again.") + " "
                         + " ".join(problems))
        self.problems = problems


def parse_day(text: str) -> date | None:
    """2027-01-01 (and 2027/1/1, as Excel writes it), or None."""
    match = _DATE.match((text or "").strip())
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


MAX_PROBLEMS = 20


def import_days(actor, csv_text: str, now: datetime) -> ImportResult:
    """Replace the admin rows of one year by a file of ``date,kind,name`` lines (kind ``holiday`` or
    ``workday``; a header line, empty lines and lines starting with # are skipped).

    All or nothing: any wrong line refuses the whole file, naming every wrong line."""
    problems: list[str] = []
    entries: dict[date, tuple[int, bool, str]] = {}
    year = None

    def problem(line: int, message: str) -> None:
        problems.append(_("Line %(line)d: %(problem)s", line=line, problem=message))

    reader = csv.reader(io.StringIO((csv_text or "").lstrip("\ufeff")))
    while len(problems) < MAX_PROBLEMS:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            problem(reader.line_num, _("the line cannot be read as CSV."))
            break
        line = reader.line_num
        cells = [cell.strip() for cell in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not entries and not problems and year is None and cells[0].lower() == "date":
            continue  # the header
        if len(cells) not in (2, 3):
            problem(line, _("expected date,kind,name but found %(count)d fields.", count=len(cells)))
            continue
        day = parse_day(cells[0])
        if day is None:
            problem(line, _("'%(text)s' is not a date like 2027-01-01.", text=cells[0]))
            continue
        year = year or day.year
        if day.year != year:
            problem(line, _("%(day)s is not in %(year)d: import one year at a time.",
                            day=day.isoformat(), year=year))
            continue
        kind = cells[1].lower()
        if kind not in KINDS:
            problem(line, _("the kind must be holiday or workday, not '%(kind)s'.", kind=cells[1]))
            continue
        if day in entries:
            problem(line, _("%(day)s is already on line %(other)d.", day=day.isoformat(), other=entries[day][0]))
            continue
        try:
            name = _clean_name(cells[2] if len(cells) == 3 else "", KINDS[kind])
        except DomainError as error:
            problem(line, error.message)
            continue
        entries[day] = (line, KINDS[kind], name)
    if not entries and not problems:
        raise DomainError("calendar_import_empty",
                          _("The file has no lines of the form date,kind,name (for example 2027-10-01,holiday,国庆节)."))

    if not problems:
        days = _Days(warn=False)
        days.load(year, year)
        old = {day: row for day, row in days.rows.items() if day.year == year}
        for day in sorted(set(old) | set(entries)):
            before = days.is_workday(day)
            after = entries[day][1] if day in entries else _default(day)[0]
            try:
                _check_not_begun(day, before, after, now)
            except DomainError as error:
                if day in entries:
                    problem(entries[day][0], error.message)
                else:
                    problems.append(_("%(day)s is in the table but not in the file: %(problem)s",
                                      day=day.isoformat(), problem=error.message))
    if problems:
        raise ImportRefused(problems[:MAX_PROBLEMS])

    actor_id = actor.id  # before any change is pending: reading it may refresh the actor
    removed = sorted(day for day in old if day not in entries)
    for day in removed:
        db.session.delete(old[day])
    for day, (_line, workday, name) in entries.items():
        row = old.get(day) or CalendarDay(day=day)
        row.is_workday, row.name, row.changed_by_id, row.changed_at = workday, name, actor_id, now
        db.session.add(row)
    db.session.flush()
    journal.record("calendar.year_imported", "calendar_year", year, {
        "days": [{"day": day.isoformat(), "kind": _kind(workday), "name": name}
                 for day, (_line, workday, name) in sorted(entries.items())],
        "removed": [day.isoformat() for day in removed]}, actor=actor, now=now)
    return ImportResult(year, len(entries), len(removed))
