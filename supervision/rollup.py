"""The statistics rollup: monthly sums of the figures of DOMAIN.md "Statistics", kept current from the journal.

``statistics_month`` holds, per month (the award date, a day in Asia/Shanghai) and key, the additive pieces of
every figure: counts of awarded, rated (base > 0) and failed sections, Σ base and Σ deal over rated sections,
Σ deal without a base, Σ of per-section decline rates and Σ bidder counts with how many are known. Any figure
of a slice made of whole months is then a sum of rows (mean = Σ / count), exactly the figure the sections give.

Three grains of rows, because the procuring unit multiplies the keys (a unit runs few sections a month):

- ``CELL``: month × category × region × method (unit ''): every table except the units', without a unit filter;
- ``UNIT``: month × unit (the others ''): the units' table when no category, region or method filters;
- ``FULL``: month × category × region × method × unit: the rest (a unit filter, or the units' table filtered);
- ``YEAR_UNIT``: year × unit, the ``UNIT`` rows of a year summed, under the month number YYYY00: the units'
  table when no category, region or method filters and the dates are whole years (a twelfth of the rows).

Tender cannot call supervision, so the rollup follows the journal: ``refresh`` (the beat, every minute) reads
the entries past its watermark of the actions that change a section's outcome, and recomputes the months they
touch from the sections themselves (a month's rows are deleted and inserted again: idempotent). ``rebuild``
(``flask supervision rebuild-statistics``) recomputes every row. Until the first rebuild (the state row is
missing), the dashboard computes from the sections.
"""
import json
from datetime import date, datetime, timedelta

from sqlalchemy import Float, Index, Integer, Numeric, String, case, delete, func, insert, literal, or_, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime
from core.extensions import db
from core.models import JournalEntry
from tender.models import Project, Section

CELL, UNIT, FULL, YEAR_UNIT = 1, 2, 0, 3
# Every action that changes whether, or how, a section counts: the award (deal amount, date, bidders), the
# contract (awarded → contracted), failure (流标, also after the award and at the opening) and the import of
# history (tender/award.py, tender/publication.py, tender/opening.py through publication.fail, tender/history.py).
SECTION_ACTIONS = ("tender.section.award", "tender.section.contract", "tender.section.fail")
IMPORT_ACTION = "tender.history.imported"
SUM = Numeric(20, 2, asdecimal=True)
COLUMNS = ["grain", "month", "category", "region_code", "method", "unit_code", "sections", "rated", "base_total",
           "deal_total", "no_base_deal", "decline_sum", "bidder_sum", "bidder_known", "failed"]


class StatisticsMonth(db.Model):
    __tablename__ = "statistics_month"
    __table_args__ = (Index("ix_statistics_month_unit", "unit_code", "month"),)
    grain: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202504: April 2025 in Beijing
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    method: Mapped[str] = mapped_column(String(30), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(18), primary_key=True)  # the procuring unit's credit code
    sections: Mapped[int] = mapped_column(Integer)  # awarded
    rated: Mapped[int] = mapped_column(Integer)  # awarded with a base above zero
    base_total: Mapped[object] = mapped_column(SUM)  # over rated sections
    deal_total: Mapped[object] = mapped_column(SUM)  # over rated sections
    no_base_deal: Mapped[object] = mapped_column(SUM)  # over awarded sections without a base
    decline_sum: Mapped[float] = mapped_column(Float)  # Σ (base − deal) / base over rated sections
    bidder_sum: Mapped[int] = mapped_column(Integer)
    bidder_known: Mapped[int] = mapped_column(Integer)  # awarded sections whose bidder count is known
    failed: Mapped[int] = mapped_column(Integer)


class StatisticsState(db.Model):
    """One row (id 1): the last journal entry the rollup has taken in, and when."""

    __tablename__ = "statistics_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def state() -> StatisticsState | None:
    """The rollup's state, or None before the first rebuild (the dashboard then reads the sections)."""
    return db.session.get(StatisticsState, 1)


def _locked_state() -> StatisticsState | None:
    """The state row, locked (PostgreSQL) so that the beat and a rebuild never recompute at once."""
    return db.session.scalar(select(StatisticsState).where(StatisticsState.id == 1).with_for_update())


def _insert_months(where) -> None:
    """INSERT … SELECT … GROUP BY: the rows of every grain for the sections matching ``where``."""
    from supervision import statistics as s
    month = s.period_key("month", Section.award_date)
    sums = [
        func.count(case((s.AWARDED, 1))), func.count(case((s.RATED, 1))),
        func.coalesce(func.sum(case((s.RATED, Section.base_amount))), 0),
        func.coalesce(func.sum(case((s.RATED, Section.deal_amount))), 0),
        func.coalesce(func.sum(case((s.NO_BASE, Section.deal_amount))), 0),
        func.coalesce(func.sum(case((s.RATED, s.DECLINE))), 0.0),
        func.coalesce(func.sum(case((s.AWARDED, Section.bidder_count))), 0),
        func.count(case((s.AWARDED, Section.bidder_count))),
        func.count(case((s.FAILED, 1))),
    ]
    empty = literal("")
    for grain, keys in ((CELL, [Section.category, Section.region_code, Section.method, empty]),
                        (UNIT, [empty, empty, empty, Project.procuring_credit_code]),
                        (FULL, [Section.category, Section.region_code, Section.method, Project.procuring_credit_code])):
        grouped = [month, *[k for k in keys if k is not empty]]
        query = (select(literal(grain), month, *keys, *sums).select_from(Section)
                 .join(Project, Project.id == Section.project_id)
                 .where(or_(s.AWARDED, s.FAILED), where).group_by(*grouped))
        db.session.execute(insert(StatisticsMonth).from_select(COLUMNS, query))


def _insert_years(where) -> None:
    """The ``YEAR_UNIT`` rows: the ``UNIT`` rows matching ``where`` summed per year and unit."""
    R = StatisticsMonth  # noqa: N806 - a table alias
    year = R.month // 100 * 100
    sums = [func.sum(c) for c in (R.sections, R.rated, R.base_total, R.deal_total, R.no_base_deal, R.decline_sum,
                                  R.bidder_sum, R.bidder_known, R.failed)]
    query = (select(literal(YEAR_UNIT), year, R.category, R.region_code, R.method, R.unit_code, *sums)
             .where(R.grain == UNIT, where).group_by(year, R.category, R.region_code, R.method, R.unit_code))
    db.session.execute(insert(StatisticsMonth).from_select(COLUMNS, query))


def _month_range(month: int) -> tuple[date, date]:
    first = date(month // 100, month % 100, 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def recompute(months: set[int]) -> None:
    """Replace the rows of these months (202504 …) by sums over their sections."""
    for month in sorted(months):
        first, following = _month_range(month)
        db.session.execute(delete(StatisticsMonth).where(StatisticsMonth.month == month))
        _insert_months((Section.award_date >= first) & (Section.award_date < following))
    for year in sorted({month // 100 for month in months}):
        db.session.execute(delete(StatisticsMonth).where(StatisticsMonth.month == year * 100))
        _insert_years(StatisticsMonth.month.between(year * 100 + 1, year * 100 + 12))


def _head_seq() -> int:
    return db.session.scalar(select(func.coalesce(func.max(JournalEntry.seq), 0))) or 0


def rebuild(now: datetime) -> int:
    """Every row again from the sections, and the watermark at the journal's last entry; returns the rows.
    Flushes, never commits."""
    current = _locked_state()
    seq = _head_seq()  # read first: entries after it are taken in by the next refresh (recomputing is idempotent)
    db.session.execute(delete(StatisticsMonth))
    _insert_months(Section.award_date.is_not(None))
    _insert_years(StatisticsMonth.grain == UNIT)
    if current is None:
        current = StatisticsState(id=1)
        db.session.add(current)
    current.seq, current.refreshed_at = seq, now
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(StatisticsMonth))


def _months_of(days) -> set[int]:
    return {day.year * 100 + day.month for day in days if day is not None}


def affected_months(entries: list[JournalEntry]) -> set[int]:
    """The months whose figures the entries may have changed: the award month of each section named (a
    section that fails after its award keeps its award date), and those an import names (older import entries
    name none: then those of the historical projects created at the moment of the entry)."""
    sections = {int(e.subject_id) for e in entries if e.action in SECTION_ACTIONS}
    months, imported = set(), set()
    for entry in (e for e in entries if e.action == IMPORT_ACTION):
        named = json.loads(entry.body)["payload"].get("award_months")
        if named is None:  # imports journaled before their entries named their months
            imported.add(entry.recorded_at)
        else:
            months |= {int(month.replace("-", "")) for month in named}
    if sections:
        months |= _months_of(db.session.scalars(select(Section.award_date).where(Section.id.in_(sections))))
    if imported:
        months |= _months_of(db.session.scalars(
            select(Section.award_date).distinct().join(Project, Project.id == Section.project_id)
            .where(Project.historical.is_(True), Project.created_at.in_(imported))))
    return months


def refresh(now: datetime) -> int:
    """The beat: take in the journal entries past the watermark, recompute the months they touch, move the
    watermark; before any rebuild, rebuild. Returns the months recomputed. Flushes, never commits."""
    current = _locked_state()
    if current is None:
        rebuild(now)
        return -1
    seq = _head_seq()
    entries = list(db.session.scalars(
        select(JournalEntry).where(JournalEntry.seq > current.seq, JournalEntry.seq <= seq,
                                   JournalEntry.action.in_((*SECTION_ACTIONS, IMPORT_ACTION)))))
    months = affected_months(entries)
    recompute(months)
    current.seq, current.refreshed_at = max(seq, current.seq), now
    db.session.flush()
    return len(months)


# The list of awarded sections without a base (statistics.no_base_sections), newest first, reads this index
# instead of the slice's sections (migration 0015).
_NO_BASE_WHERE = text("status IN ('awarded', 'contracted') AND deal_amount IS NOT NULL AND award_date IS NOT NULL "
                      "AND (base_amount IS NULL OR base_amount <= 0)")
Index("ix_section_no_base", Section.award_date, Section.id, postgresql_where=_NO_BASE_WHERE,
      sqlite_where=_NO_BASE_WHERE)
