"""Working days with the adjusted workdays (调休): chinese-calendar for the years it covers (2004–2026 in
1.11.0), the admin table for later years and corrections, Monday to Friday where neither knows a year.

The 2026 dates are those of the State Council's notice as chinese-calendar 1.11.0 encodes them:
Spring Festival off 15–23 Feb (worked Sat 14 Feb and Sat 28 Feb); National Day with Mid-autumn off
1–7 Oct (worked Sun 20 Sep and Sat 10 Oct). 2027 is beyond the library.
"""
import logging
import re
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import event, select

from core import workdays
from core.clock import SHANGHAI
from core.errors import DomainError
from core.extensions import db
from core.models import CalendarDay, JournalEntry

# A moment in mid-2026 for the services: every day used below is still ahead of it.
JUNE_2026 = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
WEEKDAYS_ONLY = "Monday–Friday only (please add the holidays)"

NEW_YEAR_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
"""


@pytest.fixture
def fresh_warnings(monkeypatch):
    """The once-per-process warnings start afresh for the test."""
    monkeypatch.setattr(workdays, "_warned_years", set())


@pytest.fixture
def english():
    """Messages in English: outside a request the platform speaks its default, Chinese."""
    with force_locale("en"):
        yield


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_chinese_calendar_decides_2026_with_its_holidays_and_adjusted_workdays(demo):
    # National Day 2026: Thursday 1 Oct to Wednesday 7 Oct off, Thursday 8 Oct back at work.
    assert [workdays.is_workday(d(f"2026-10-0{i}")) for i in range(1, 9)] == [False] * 7 + [True]
    # The weekend days worked in lieu (调休上班) around it, and an ordinary weekend day.
    assert workdays.is_workday(d("2026-09-20"))  # Sunday
    assert workdays.is_workday(d("2026-10-10"))  # Saturday
    assert not workdays.is_workday(d("2026-10-11"))  # Sunday
    # Spring Festival 2026: Monday 16 to Monday 23 Feb off, Saturdays 14 and 28 Feb worked.
    assert not any(workdays.is_workday(d(day)) for day in ("2026-02-16", "2026-02-20", "2026-02-23"))
    assert workdays.is_workday(d("2026-02-14")) and workdays.is_workday(d("2026-02-28"))
    assert workdays.coverage(2026) == workdays.LIBRARY


def test_counting_across_national_day_2026(demo):
    # From Wednesday 30 Sep: the first working day is 8 Oct, the third the Saturday worked in lieu.
    assert workdays.add_workdays(d("2026-09-30"), 0) == d("2026-09-30")
    assert workdays.add_workdays(d("2026-09-30"), 1) == d("2026-10-08")
    assert workdays.add_workdays(d("2026-09-30"), 3) == d("2026-10-10")
    assert workdays.add_workdays(d("2026-09-30"), 7) == d("2026-10-15")
    # Working days after a, up to and including b.
    assert workdays.workdays_between(d("2026-09-30"), d("2026-10-11")) == 3
    assert workdays.workdays_between(d("2026-10-07"), d("2026-10-08")) == 1
    assert workdays.workdays_between(d("2026-10-08"), d("2026-10-08")) == 0
    assert workdays.workdays_between(d("2026-10-15"), d("2026-09-30")) == 0
    for n in (0, 1, 5, 7, 15, 30):
        assert workdays.workdays_between(d("2026-09-18"), workdays.add_workdays(d("2026-09-18"), n)) == n
    with pytest.raises(ValueError):
        workdays.add_workdays(d("2026-09-30"), -1)


def test_without_admin_rows_2027_counts_monday_to_friday_and_is_reported_once(demo, fresh_warnings, caplog):
    caplog.set_level(logging.WARNING)
    assert workdays.uncovered_years(2026, 2028) == [2027, 2028]
    # Thursday 31 Dec 2026 → Friday 1 Jan 2027 counts as a working day: nobody said otherwise.
    assert workdays.add_workdays(d("2026-12-31"), 1) == d("2027-01-01")
    assert workdays.add_workdays(d("2026-12-31"), 2) == d("2027-01-04")
    assert workdays.workdays_between(d("2026-12-31"), d("2027-01-10")) == 6
    assert workdays.is_workday(d("2027-01-01"))
    assert workdays.coverage(2027) == workdays.WEEKDAYS
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "2027" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    # Far beyond the library a user still gets an answer, never an error.
    assert workdays.add_workdays(d("2031-05-01"), 1) == d("2031-05-02")
    assert any("2031" in r.getMessage() for r in caplog.records)
    # Before the library's first year too.
    assert workdays.uncovered_years(2003, 2004) == [2003]


def test_with_admin_rows_2027_follows_the_table(demo, fresh_warnings, caplog):
    caplog.set_level(logging.WARNING)
    workdays.import_days(demo["admin"], NEW_YEAR_2027, JUNE_2026)
    workdays.set_day(demo["admin"], d("2027-02-06"), True, "春节", JUNE_2026)  # a Saturday worked in lieu
    db.session.commit()
    assert workdays.uncovered_years(2026, 2027) == []
    assert workdays.coverage(2027) == workdays.ADMIN
    # New Year's Day 2027 is off: after Thursday 31 Dec 2026 comes Monday 4 Jan.
    assert workdays.add_workdays(d("2026-12-31"), 1) == d("2027-01-04")
    assert workdays.workdays_between(d("2026-12-31"), d("2027-01-10")) == 5
    assert workdays.is_workday(d("2027-02-06")) and not workdays.is_workday(d("2027-02-07"))
    # Days the table does not name follow Monday to Friday, without a warning: the year is covered.
    assert workdays.is_workday(d("2027-03-01"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_admin_row_overrides_chinese_calendar(demo):
    assert workdays.is_workday(d("2026-12-31"))
    workdays.set_day(demo["admin"], d("2026-12-31"), False, "跨年调整", JUNE_2026)
    workdays.set_day(demo["admin"], d("2026-10-07"), True, "国庆节（更正）", JUNE_2026)
    db.session.commit()
    assert not workdays.is_workday(d("2026-12-31"))
    assert workdays.is_workday(d("2026-10-07"))
    assert workdays.add_workdays(d("2026-09-30"), 1) == d("2026-10-07")
    assert workdays.add_workdays(d("2026-12-30"), 1) == d("2027-01-01")
    assert workdays.coverage(2026) == workdays.LIBRARY  # the library still covers the year
    info = {i.day: i for i in workdays.days_of_year(2026)}[d("2026-12-31")]
    assert (info.source, info.is_workday, info.default_is_workday, info.name) == (workdays.ADMIN, False, True, "跨年调整")
    # Removing the row gives the day back to the library.
    workdays.clear_day(demo["admin"], d("2026-12-31"), JUNE_2026)
    db.session.commit()
    assert workdays.is_workday(d("2026-12-31"))
    assert db.session.get(CalendarDay, d("2026-12-31")) is None


def test_a_deadline_ends_at_midnight_beijing_time_of_the_nth_working_day_after_the_local_date(demo):
    # 23:30 on 31 Dec 2026 Beijing time: counting starts on 1 Jan 2027 (Mon–Fri: Jan 1, 4–8, 11).
    event_at = datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)
    due = workdays.deadline(event_at.astimezone(timezone.utc), 7)
    assert due == datetime(2027, 1, 11, 15, 59, 59, 999999, tzinfo=timezone.utc)
    assert due.tzinfo == timezone.utc and due.astimezone(SHANGHAI).isoformat() == "2027-01-11T23:59:59.999999+08:00"
    # Half past midnight on 1 Jan Beijing time is still 31 Dec in UTC: the local date counts, one day later.
    just_after = datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)
    assert just_after.astimezone(timezone.utc).date() == d("2026-12-31")
    assert workdays.deadline(just_after, 7).astimezone(SHANGHAI).date() == d("2027-01-12")
    # Once the admins enter New Year 2027 (1–3 Jan off), the first deadline moves a day.
    workdays.import_days(demo["admin"], NEW_YEAR_2027, JUNE_2026)
    db.session.commit()
    assert workdays.deadline(event_at, 7).astimezone(SHANGHAI).date() == d("2027-01-12")
    # Over National Day 2026: an event on 30 Sep has until 15 Oct; on the day itself (n = 0) until midnight.
    assert workdays.deadline(datetime(2026, 9, 30, 10, tzinfo=SHANGHAI), 7) == \
        datetime(2026, 10, 15, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert workdays.deadline(datetime(2026, 9, 30, 10, tzinfo=SHANGHAI), 0) == \
        datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    with pytest.raises(TypeError):
        workdays.deadline(datetime(2026, 9, 30, 10), 7)


def test_admin_rows_are_read_in_one_query_per_call_not_one_per_day(demo):
    workdays.import_days(demo["admin"], NEW_YEAR_2027, JUNE_2026)
    db.session.commit()
    statements = []

    def count(conn, cursor, statement, *args):
        if "calendar_day" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert workdays.workdays_between(d("2026-01-01"), d("2027-12-31")) > 480
        assert len(statements) == 1
        statements.clear()
        assert workdays.add_workdays(d("2026-12-20"), 30) == d("2027-02-01")
        assert len(statements) == 1
        statements.clear()
        workdays.add_workdays(d("2026-01-05"), 400)  # well past the first guess: one more read
        assert len(statements) <= 2
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_uncovered_years_for_the_admins_are_this_year_and_next(demo):
    def told(moment):
        years = workdays.warn_admins_of_uncovered_years(moment)
        db.session.commit()
        return years

    assert told(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)) == [2027]
    assert told(datetime(2026, 11, 24, 9, tzinfo=SHANGHAI)) == []  # once per year, not every day
    # 31 Dec 2026 16:30 UTC is already 2027 in Beijing: this year and next are 2027 and 2028.
    assert told(datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)) == [2028]
    workdays.import_days(demo["admin"], NEW_YEAR_2027, JUNE_2026)
    db.session.commit()
    assert workdays.uncovered_years(2026, 2027) == []


# The rules of the admin table.

def _refused(call) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call()
    db.session.rollback()
    return refused.value


def test_a_holiday_needs_a_short_name(demo):
    admin = demo["admin"]
    assert _refused(lambda: workdays.set_day(admin, d("2027-01-01"), False, "  ", JUNE_2026)).code == \
        "calendar_name_required"
    assert _refused(lambda: workdays.set_day(admin, d("2027-01-01"), False, "节" * 61, JUNE_2026)).code == \
        "calendar_name_too_long"
    # A working day may go without a name; a name of 60 characters fits.
    workdays.set_day(admin, d("2027-02-06"), True, "", JUNE_2026)
    workdays.set_day(admin, d("2027-01-01"), False, "节" * 60, JUNE_2026)
    db.session.commit()
    assert db.session.get(CalendarDay, d("2027-01-01")).changed_by_id == admin.id


def test_a_day_that_has_begun_or_passed_keeps_how_it_is_counted(demo):
    admin = demo["admin"]
    now = datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
    for day in ("2026-10-10", "2026-11-23"):  # a worked Saturday already past; today
        error = _refused(lambda day=day: workdays.set_day(admin, d(day), False, "补假", now))
        assert error.code == "calendar_day_past" and day in error.message
    # Naming a past holiday changes no count: allowed. Tomorrow may still change.
    workdays.set_day(admin, d("2026-10-01"), False, "国庆节", now)
    workdays.set_day(admin, d("2026-11-24"), False, "临时休假", now)
    db.session.commit()
    # A row whose day has passed cannot be removed if that would change the count.
    later = now + timedelta(days=2)
    assert _refused(lambda: workdays.clear_day(admin, d("2026-11-24"), later)).code == "calendar_day_past"
    workdays.clear_day(admin, d("2026-10-01"), later)  # the library says off as well
    db.session.commit()
    assert not workdays.is_workday(d("2026-10-01"))
    assert not workdays.is_workday(d("2026-11-24"))


def test_removing_a_day_without_a_row_is_refused(demo):
    assert _refused(lambda: workdays.clear_day(demo["admin"], d("2027-01-01"), JUNE_2026)).code == "calendar_no_row"


def test_an_import_replaces_the_rows_of_its_year_and_reads_what_excel_writes(demo):
    admin = demo["admin"]
    workdays.set_day(admin, d("2027-05-03"), False, "劳动节", JUNE_2026)
    workdays.set_day(admin, d("2028-01-03"), False, "元旦", JUNE_2026)  # another year: untouched
    result = workdays.import_days(admin, "\ufeffDate,Kind,Name\r\n# 2027 notice\r\n\r\n"
                                         "2027/1/1,Holiday,元旦\r\n2027-02-06,workday\r\n"
                                         '2027-10-01,holiday,"国庆节, 中秋节"\r\n', JUNE_2026)
    db.session.commit()
    assert (result.year, result.written, result.removed) == (2027, 3, 1)
    rows = {row.day: (row.is_workday, row.name) for row in db.session.scalars(select(CalendarDay))}
    assert rows == {d("2027-01-01"): (False, "元旦"), d("2027-02-06"): (True, ""),
                    d("2027-10-01"): (False, "国庆节, 中秋节"), d("2028-01-03"): (False, "元旦")}


def test_an_import_with_wrong_lines_writes_nothing_and_names_every_wrong_line(demo, english):
    admin = demo["admin"]
    workdays.set_day(admin, d("2027-05-03"), False, "劳动节", JUNE_2026)
    db.session.commit()
    text = ("date,kind,name\n"
            "2027-01-01,holiday,元旦\n"       # 2 fine
            "2027-13-01,holiday,元旦\n"       # 3 no such month
            "2027-01-02,off,元旦\n"           # 4 unknown kind
            "2027-01-03,holiday\n"            # 5 a holiday without a name
            "2028-01-01,holiday,元旦\n"       # 6 another year
            "2027-01-01,holiday,元旦\n"       # 7 twice
            "2027-01-04\n")                   # 8 too few fields
    error = _refused(lambda: workdays.import_days(admin, text, JUNE_2026))
    assert error.code == "calendar_import_invalid"
    assert [p.split(":")[0] for p in error.problems] == [f"Line {n}" for n in (3, 4, 5, 6, 7, 8)]
    assert "line 2" in error.problems[4]  # the duplicate names its first line
    assert {row.day for row in db.session.scalars(select(CalendarDay))} == {d("2027-05-03")}
    # A change to a day already passed refuses the file too, naming the line.
    late = datetime(2027, 1, 15, 9, tzinfo=SHANGHAI)
    error = _refused(lambda: workdays.import_days(admin, "2027-01-04,holiday,补假\n2027-05-03,holiday,劳动节\n", late))
    assert error.code == "calendar_import_invalid" and error.problems[0].startswith("Line 1: 2027-01-04 has begun")
    # So does removing a row of the year whose day has passed and whose removal changes the count.
    error = _refused(lambda: workdays.import_days(admin, "2027-10-01,holiday,国庆节\n",
                                                  datetime(2027, 6, 1, tzinfo=SHANGHAI)))
    assert error.code == "calendar_import_invalid" and "2027-05-03" in error.problems[0]


def test_an_import_without_lines_is_refused(demo):
    assert _refused(lambda: workdays.import_days(demo["admin"], "date,kind,name\n\n# nothing\n", JUNE_2026)).code == \
        "calendar_import_empty"


def test_changes_to_the_table_are_journaled(demo):
    admin = demo["admin"]
    workdays.set_day(admin, d("2027-01-01"), False, "元旦", JUNE_2026)
    workdays.clear_day(admin, d("2027-01-01"), JUNE_2026)
    workdays.import_days(admin, NEW_YEAR_2027, JUNE_2026)
    db.session.commit()
    entries = list(db.session.scalars(select(JournalEntry).where(JournalEntry.action.startswith("calendar."))
                                      .order_by(JournalEntry.seq)))
    assert [(e.action, e.subject_id, e.actor_id) for e in entries] == [
        ("calendar.day_set", "2027-01-01", admin.id), ("calendar.day_cleared", "2027-01-01", admin.id),
        ("calendar.year_imported", "2027", admin.id)]
    assert '"name":"元旦"' in entries[2].payload


# The admin pages.

@pytest.fixture
def late_2026():
    """23 Nov 2026, Beijing time: 2026 is covered by the library, 2027 not yet."""
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture
def admin(late_2026, login):
    """An admin signed in on 23 Nov 2026 (the demo data made that day too)."""
    return login("admin")


def test_the_admin_home_links_to_the_calendar(admin):
    assert 'href="/admin/calendar"' in admin.get("/admin").text


def test_the_page_of_a_covered_year_draws_the_holidays_and_adjusted_workdays(admin):
    page = admin.get("/admin/calendar?year=2026")
    assert page.status_code == 200
    html = page.text
    coverage = html.split('id="coverage-title"')[1].split('id="grid-title"')[0]
    assert "chinese-calendar" in coverage and WEEKDAYS_ONLY not in coverage
    assert 'data-day="2026-10-01" data-kind="off"' in html
    assert 'data-day="2026-10-08" data-kind="workday"' in html
    assert 'data-day="2026-10-10" data-kind="workday"' in html  # the Saturday worked in lieu
    assert "National Day" in html
    # 2027 is next year and nobody has entered it: the admins are told on every year's page.
    assert 'id="uncovered-warning"' in html and "/admin/calendar?year=2027" in html


def test_adding_importing_and_removing_days_through_the_pages(admin):
    page = admin.get("/admin/calendar?year=2027").text
    assert WEEKDAYS_ONLY in page
    assert 'data-day="2027-01-01" data-kind="workday"' in page

    answer = admin.post("/admin/calendar/days", data={"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert answer.status_code == 302 and answer.location.endswith("/admin/calendar?year=2027")
    page = admin.get("/admin/calendar?year=2027").text
    assert "2027-01-01 is now a holiday (元旦)." in page
    assert 'data-day="2027-01-01" data-kind="off"' in page and "元旦" in page
    assert WEEKDAYS_ONLY not in page and "admin table" in page and 'id="uncovered-warning"' not in page

    # A whole year from a file as Excel saves it on a Chinese Windows (GB18030).
    csv_bytes = "date,kind,name\n2027-02-06,workday,春节\n2027-02-08,holiday,春节\n".encode("gb18030")
    answer = admin.post("/admin/calendar/import", data={"file": (BytesIO(csv_bytes), "2027.csv"), "year": "2027"},
                        content_type="multipart/form-data")
    assert answer.status_code == 302
    page = admin.get("/admin/calendar?year=2027").text
    assert "Imported 2 days of 2027; rows of that year not in the file removed: 1." in page
    assert 'data-day="2027-02-06" data-kind="workday"' in page and 'data-day="2027-02-08" data-kind="off"' in page
    assert 'data-day="2027-01-01" data-kind="workday"' in page  # replaced by the file

    answer = admin.post("/admin/calendar/days/remove", data={"day": "2027-02-08", "year": "2027"})
    assert answer.status_code == 302
    page = admin.get("/admin/calendar?year=2027").text
    assert "2027-02-08 was removed from the table: it is a working day again." in page
    assert 'data-day="2027-02-08" data-kind="workday"' in page
    assert {row.day for row in db.session.scalars(select(CalendarDay))} == {d("2027-02-06")}


def test_a_pasted_import_with_a_bad_line_names_it_and_writes_nothing(admin):
    answer = admin.post("/admin/calendar/import", data={
        "text": "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,vacation,元旦\n", "year": "2027"})
    assert answer.status_code == 302 and answer.location.endswith("/admin/calendar?year=2027")
    page = admin.get("/admin/calendar?year=2027").text
    assert "Nothing was imported" in page
    assert "Line 3: the kind must be holiday or workday, not &#39;vacation&#39;." in page
    assert db.session.scalars(select(CalendarDay)).first() is None
    assert WEEKDAYS_ONLY in page


def test_an_uploaded_file_too_large_for_a_calendar_is_refused(admin):
    huge = BytesIO(b"# padding\n" * 30000 + b"2027-01-01,holiday,\xe5\x85\x83\xe6\x97\xa6\n")
    answer = admin.post("/admin/calendar/import", data={"file": (huge, "2027.csv"), "year": "2027"},
                        content_type="multipart/form-data")
    assert answer.status_code == 302
    assert "The file is too large" in admin.get("/admin/calendar?year=2027").text
    assert db.session.scalars(select(CalendarDay)).first() is None


def test_refusals_on_the_pages_are_explained(admin):
    answer = admin.post("/admin/calendar/days", data={"day": "2027-01-01", "kind": "holiday", "name": ""})
    assert answer.status_code == 422 and "Name the holiday" in answer.text and "calendar_name_required" in answer.text
    answer = admin.post("/admin/calendar/days", data={"day": "2026-11-20", "kind": "holiday", "name": "补假"},
                        headers={"Referer": "/admin/calendar?year=2026"})
    assert answer.status_code == 302
    assert "2026-11-20 has begun or passed" in admin.get("/admin/calendar?year=2026").text
    answer = admin.post("/admin/calendar/days/remove", data={"day": "2027-03-01"})
    assert answer.status_code == 422 and "calendar_no_row" in answer.text
    answer = admin.post("/admin/calendar/days", data={"day": "not a day", "kind": "holiday", "name": "x"})
    assert answer.status_code == 302
    assert "Give the day as a date" in admin.get("/admin/calendar").text
    assert db.session.scalars(select(CalendarDay)).first() is None


def test_a_day_clicked_in_the_drawing_fills_in_the_form(admin):
    page = admin.get("/admin/calendar?year=2027&day=2027-01-01").text
    form = page.split('id="day-form"')[1].split("</form>")[0]
    assert 'value="2027-01-01"' in form
    assert re.search(r'id="kind-holiday" value="holiday"\s*checked', form)  # a working Friday: suggest a holiday
    form = admin.get("/admin/calendar?year=2026&day=2026-10-10").text.split('id="day-form"')[1].split("</form>")[0]
    assert re.search(r'id="kind-workday" value="workday"\s*checked', form) is None  # already a working day
    assert 'value="2026-10-10"' in form and 'value="国庆节"' in form  # the official name, whatever the language


@pytest.mark.parametrize("method, path", [
    ("GET", "/admin/calendar"), ("POST", "/admin/calendar/days"),
    ("POST", "/admin/calendar/days/remove"), ("POST", "/admin/calendar/import")])
def test_only_admins_reach_the_calendar(login, client, method, path):
    data = {"day": "2027-01-01", "kind": "holiday", "name": "元旦", "text": NEW_YEAR_2027}
    for username in ("centre", "supervisor", "bidder1"):
        assert login(username).open(path, method=method, data=data).status_code == 403, username
    anonymous = client.open(path, method=method, data=data)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    assert db.session.scalars(select(CalendarDay)).first() is None


def test_admins_are_told_once_when_next_year_has_no_holiday_table(app, demo):
    import time_machine

    from core.models import Notification
    from core.tasks import warn_admins_of_uncovered_calendar
    from datetime import datetime, timezone
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)):
        assert warn_admins_of_uncovered_calendar.delay().get() == [2027]
        assert warn_admins_of_uncovered_calendar.delay().get() == []  # once per year, not every day
    notes = db.session.scalars(db.select(Notification)).all()
    assert [n.user_id for n in notes] == [demo["admin"].id]
    assert "2027" in notes[0].title and notes[0].link == "/admin/calendar?year=2027"
