"""The working-day calendar for admins: which years are covered, the holidays and adjusted workdays (调休)
drawn month by month, and the admin table that completes or corrects chinese-calendar."""
import calendar as stdlib_calendar
from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale, gettext as _, lazy_gettext as _l, pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Optional

from core import clock, directory, workdays
from core.extensions import db
from core.permissions import Role, roles_required

calendar_bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")

MIN_YEAR, MAX_YEAR = 2000, 2100
KIND_LABELS = {
    "holiday": _l("Holiday (no work)"),
    "workday": _l("Working day (e.g. a weekend day worked in lieu, 调休上班)"),
}
COVERAGE_LABELS = {
    workdays.LIBRARY: _l("chinese-calendar"),
    workdays.ADMIN: _l("admin table"),
    workdays.WEEKDAYS: _l("Monday–Friday only (please add the holidays)"),
}


class DayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired()])
    kind = StringField(_l("Kind"), validators=[AnyOf(list(KIND_LABELS))])  # radio buttons in the page
    name = StringField(_l("Name"), validators=[Optional()],
                       description=_l("The holiday, e.g. 国庆节; for a working day, the holiday it makes up for."))


class RemoveForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("…or paste the lines"), validators=[Optional()])


def _back_to(year: int | None):
    return redirect(url_for("calendar.year_page", year=year) if year else url_for("calendar.year_page"))


def _months(year: int, infos: list[workdays.DayInfo]) -> list[dict]:
    """Twelve months of weeks (Monday first, as Chinese calendars print them); None pads the weeks."""
    by_day = {info.day: info for info in infos}
    months = []
    for month in range(1, 13):
        weeks = [[by_day[day] if day.month == month else None for day in week]
                 for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]
        months.append({"number": month, "label": format_date(date(year, month, 1), "LLLL"), "weeks": weeks})
    return months


@calendar_bp.get("")
@roles_required(Role.ADMIN)
def year_page():
    today = clock.today_local()
    year = request.args.get("year", type=int) or today.year
    if not MIN_YEAR <= year <= MAX_YEAR:
        flash(_("Choose a year from %(first)d to %(last)d.", first=MIN_YEAR, last=MAX_YEAR), "warning")
        year = today.year
    infos = workdays.days_of_year(year)
    rows = workdays.admin_rows(year)
    by_day = {info.day: info for info in infos}

    form = DayForm()
    picked = workdays.parse_day(request.args.get("day", ""))
    if picked is not None and picked.year == year:  # a day clicked in the drawing: suggest the other kind
        row = next((r for r in rows if r.day == picked), None)
        form.day.data = picked
        form.kind.data = "workday" if not by_day[picked].is_workday else "holiday"
        form.name.data = row.name if row else by_day[picked].name_zh  # the official (Chinese) name: it is data
    chinese = str(get_locale() or "zh").startswith("zh")
    weekdays = [format_date(date(2024, 1, 1) + timedelta(days=i), "EEE") for i in range(7)]
    return render_template(
        "calendar/year.html", year=year, today=today, years=range(today.year - 1, today.year + 3),
        coverage=workdays.coverage(year), coverage_labels=COVERAGE_LABELS, months=_months(year, infos),
        weekdays=weekdays, rows=rows, by_day=by_day, changers=directory.names(r.changed_by_id for r in rows),
        uncovered=workdays.uncovered_years(today.year, today.year + 1), chinese=chinese,
        special=[info for info in infos if info.is_special or info.source == workdays.ADMIN],
        form=form, remove_form=RemoveForm(), import_form=ImportForm(), kind_labels=KIND_LABELS,
        # The marks of a printed Chinese calendar (休 and 班): "Off" alone means a switch elsewhere.
        marks={"off": pgettext("calendar mark", "Off"), "work": pgettext("calendar mark", "Work")},
        holidays=sum(1 for info in infos if not info.is_workday and not info.is_weekend),
        workday_count=sum(1 for info in infos if info.is_workday))


@calendar_bp.post("/days")
@roles_required(Role.ADMIN)
def set_day():
    form = DayForm()
    if not form.validate_on_submit():
        flash(_("Give the day as a date and choose holiday or working day."), "danger")
        return _back_to(request.form.get("year", type=int))
    row = workdays.set_day(current_user, form.day.data, form.kind.data == "workday", form.name.data,
                           clock.now())
    db.session.commit()
    if row.is_workday:
        flash(_("%(day)s is now a working day.", day=row.day.isoformat()), "success")
    else:
        flash(_("%(day)s is now a holiday (%(name)s).", day=row.day.isoformat(), name=row.name), "success")
    return _back_to(row.day.year)


@calendar_bp.post("/days/remove")
@roles_required(Role.ADMIN)
def remove_day():
    form = RemoveForm()
    if not form.validate_on_submit():
        flash(_("Say which day to remove."), "danger")
        return _back_to(None)
    day = form.day.data
    workdays.clear_day(current_user, day, clock.now())
    db.session.commit()
    if workdays.is_workday(day):
        flash(_("%(day)s was removed from the table: it is a working day again.", day=day.isoformat()), "success")
    else:
        flash(_("%(day)s was removed from the table: it is a day off again.", day=day.isoformat()), "success")
    return _back_to(day.year)


MAX_UPLOAD = 256 * 1024  # a year's calendar is a few kilobytes


def _read_upload(storage) -> str | None:
    """UTF-8 (with or without BOM), else GB18030: what Excel writes on a Chinese Windows. None if too large."""
    raw = storage.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


@calendar_bp.post("/import")
@roles_required(Role.ADMIN)
def import_days():
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Reload the page and submit it again."), "danger")
        return _back_to(request.form.get("year", type=int))
    upload = form.file.data
    text = _read_upload(upload) if upload and upload.filename else (form.text.data or "")
    if text is None:
        flash(_("The file is too large for a year's calendar."), "danger")
        return _back_to(request.form.get("year", type=int))
    try:
        result = workdays.import_days(current_user, text, clock.now())
    except workdays.ImportRefused as refused:
        db.session.rollback()
        flash(_("Nothing was imported: correct the file and import it again."), "danger")
        for problem in refused.problems:
            flash(problem, "danger")
        return _back_to(request.form.get("year", type=int))
    db.session.commit()
    flash(_("Imported %(count)d days of %(year)d; rows of that year not in the file removed: %(removed)d.",
            year=result.year, count=result.written, removed=result.removed), "success")
    return _back_to(result.year)
