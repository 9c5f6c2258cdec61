"""The statistics rollup: the figures summed from its monthly rows are those the sections give, for every table
and slice the dashboard offers (an empty slice, zero bases, failed sections, a month boundary in Beijing time);
the beat takes in an award, a failure after it and an import of history from the journal; a rebuild gives
the same rows; dates that are not whole months are computed from the sections, and the page says which."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.extensions import db
from supervision import rollup, statistics
from supervision.rollup import StatisticsMonth
from supervision.statistics import Slice
from supervision.tasks import refresh_statistics
from tender.models import Section
from tests.supervision.test_statistics import add_history

UNIT = "12320100466000000A"
OTHER_UNIT = "12320100466000001Y"
# An award at 2026-03-31 17:00 UTC is on 1 April in Beijing: the award stores that day (tender/award.py).
BOUNDARY_DAY = clock.local(datetime(2026, 3, 31, 17, 0, tzinfo=timezone.utc)).date()

# (code, unit, category, region, method, base, deal, award date, bidders, status)
SECTIONS = [
    ("S1", UNIT, "works", "320100", "open", "1000000.00", "900000.00", date(2025, 3, 31), 5, "awarded"),
    ("S2", UNIT, "works", "320115", "open", "3000000.00", "2850000.00", date(2025, 4, 1), 3, "contracted"),
    ("S3", UNIT, "procurement", "320100", "inquiry", "0.00", "50000.00", date(2025, 6, 30), 2, "awarded"),
    ("S4", UNIT, "procurement", "320102", "competitive_consultation", "200000.00", "150000.00", date(2025, 7, 1), 4,
     "awarded"),
    ("S5", UNIT, "works", "320100", "open", "800000.00", None, date(2025, 12, 31), 0, "failed"),
    ("S7", UNIT, "works", "320100", "open", None, "10000.00", date(2025, 12, 31), None, "awarded"),
    ("S6", OTHER_UNIT, "works", "320100", "open", "500000.00", "480000.00", date(2026, 1, 1), None, "awarded"),
    ("S9", OTHER_UNIT, "works", "320115", "invited", "700000.00", "630000.00", BOUNDARY_DAY, 6, "awarded"),
    ("S10", OTHER_UNIT, "works", "320115", "invited", "100000.00", "99000.00", date(2026, 3, 31), 2, "awarded"),
    ("S8", UNIT, "works", "320100", "open", "900000.00", None, None, None, "published"),  # undecided: left out
]

SLICES = [
    Slice(), Slice(period="month"), Slice(period="half"), Slice(period="year"),
    Slice(start=date(2025, 1, 1), end=date(2025, 12, 31)),
    Slice(period="month", start=date(2026, 3, 1), end=date(2026, 4, 30)),
    Slice(period="month", start=date(2026, 4, 1)), Slice(end=date(2026, 3, 31)),
    Slice(category="other"),  # empty
    Slice(method="inquiry"),  # zero base only
    Slice(category="works", start=date(2025, 12, 1), end=date(2025, 12, 31)),  # failed and no base only
    Slice(region="320100"), Slice(region="320115"), Slice(region="320000"),
    Slice(unit=OTHER_UNIT), Slice(unit=UNIT, category="procurement"), Slice(unit=OTHER_UNIT, region="320115"),
    Slice(method="invited", period="month"),
]


def _rows() -> list[tuple]:
    return [(r.grain, r.month, r.category, r.region_code, r.method, r.unit_code, r.sections, r.rated, r.base_total,
             r.deal_total, r.no_base_deal, round(r.decline_sum, 12), r.bidder_sum, r.bidder_known, r.failed)
            for r in db.session.scalars(select(StatisticsMonth).order_by(
                StatisticsMonth.grain, StatisticsMonth.month, StatisticsMonth.category, StatisticsMonth.region_code,
                StatisticsMonth.method, StatisticsMonth.unit_code))]


def assert_same_figures(slice_: Slice) -> None:
    """Every table of the dashboard, from the rollup and from the sections, figure for figure; and the one
    statement of the totals and every table gives what their statements one by one give."""
    assert statistics.whole_months(slice_)
    assert statistics.totals(slice_, from_rollup=True) == statistics.totals(slice_), slice_
    for dimension in statistics.DIMENSIONS:
        for limit in (None, 1):
            assert statistics.by(dimension, slice_, limit, from_rollup=True) == \
                statistics.by(dimension, slice_, limit), (slice_, dimension, limit)
    for from_rollup in (True, False):
        for limit in (None, 1):
            limited = ("region", "category", "unit")
            total, tables, as_of = statistics.merged(slice_, dict.fromkeys(limited, limit), from_rollup)
            assert (as_of is not None) == from_rollup
            assert total == statistics.totals(slice_, from_rollup), (slice_, from_rollup)
            assert tables == {d: statistics.by(d, slice_, limit if d in limited else None, from_rollup)
                              for d in statistics.DIMENSIONS}, (slice_, from_rollup, limit)


@pytest.fixture
def built(app):
    add_history(SECTIONS)
    rollup.rebuild(clock.now())
    db.session.commit()


@pytest.mark.parametrize("slice_", SLICES, ids=repr)
def test_the_rollup_gives_the_figures_of_the_sections(built, slice_):
    assert_same_figures(slice_)


def test_the_figures_by_hand_from_the_rollup(built):
    total = statistics.totals(Slice(start=date(2025, 1, 1), end=date(2025, 12, 31)), from_rollup=True)
    assert (total.sections, total.rated, total.no_base, total.failed) == (5, 3, 2, 1)
    assert (total.base_total, total.deal_total) == (Decimal("4200000.00"), Decimal("3900000.00"))
    assert (total.savings_rate, total.mean_decline_rate) == (Decimal("0.071429"), Decimal("0.133333"))
    assert total.mean_bidders == Decimal("3.50")  # S7's count is unknown
    empty = statistics.totals(Slice(category="other"), from_rollup=True)
    assert empty.empty and (empty.savings_rate, empty.mean_decline_rate, empty.mean_bidders) == (None, None, None)
    zero = statistics.totals(Slice(method="inquiry"), from_rollup=True)
    assert (zero.sections, zero.rated, zero.savings_rate, zero.mean_decline_rate) == (1, 0, None, None)
    december = statistics.totals(Slice(start=date(2025, 12, 1), end=date(2025, 12, 31)), from_rollup=True)
    assert (december.sections, december.failed, december.savings_rate) == (1, 1, None)


def test_a_late_evening_award_on_31_march_utc_is_april_in_beijing(built):
    assert BOUNDARY_DAY == date(2026, 4, 1)
    months = statistics.by("period", Slice(period="month", start=date(2026, 3, 1), end=date(2026, 4, 30)),
                           from_rollup=True)
    assert [(m.key, m.sections) for m in months] == [(202603, 1), (202604, 1)]  # S10 in March, S9 in April
    assert months[1].savings_rate == Decimal("0.100000")
    assert db.session.scalar(select(StatisticsMonth.month).where(StatisticsMonth.grain == rollup.CELL,
                                                                 StatisticsMonth.method == "invited",
                                                                 StatisticsMonth.base_total == 700000)) == 202604


def test_the_dashboard_reads_the_rollup_for_whole_months_and_the_sections_otherwise(login, built):
    client = login("supervisor")
    # The rollup lags the sections until the beat runs: a section changed behind its back shows which is read.
    section = db.session.scalar(select(Section).where(Section.code == "S1"))
    section.deal_amount = Decimal("800000.00")
    db.session.commit()
    whole = client.get("/supervision/statistics?period=quarter&start=2025-01-01&end=2025-03-31")
    assert whole.status_code == 200 and 'id="savings-rate">10.00%' in whole.text
    assert "Figures as of" in whole.text
    part = client.get("/supervision/statistics?period=quarter&start=2025-01-02&end=2025-03-31")
    assert 'id="savings-rate">20.00%' in part.text  # exact, from the sections
    assert "computed from the sections now" in part.text
    assert client.get("/supervision/statistics/export.csv?table=total&start=2025-01-01&end=2025-03-31").text \
        .splitlines()[1].split(",")[7] == "10.00"


def test_before_the_first_build_the_page_reads_the_sections(login, app):
    add_history(SECTIONS)
    assert rollup.state() is None
    page = login("supervisor").get("/supervision/statistics?start=2025-01-01&end=2025-12-31")
    assert 'id="savings-rate">7.14%' in page.text and "computed from the sections now" in page.text


def test_the_first_beat_run_builds_and_a_rebuild_gives_the_same_rows(app):
    add_history(SECTIONS)
    assert _beat() == -1  # built from nothing
    assert rollup.state() is not None
    rows = _rows()
    assert len([r for r in rows if r[0] == rollup.CELL]) == 8  # S5 and S7 share December 2025
    rollup.rebuild(clock.now())
    db.session.commit()
    assert _rows() == rows


# Kept current from the journal.

def _beat() -> int:
    """The beat task's body, in its own application context and session as in the worker (the test's read
    ends first, so that it holds no SQLite lock)."""
    db.session.commit()
    return refresh_statistics()


def _publish(demo):
    from tender import projects
    from tests.tender.factories import accept, make_project, publish
    project = make_project(demo["procuring"])
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    publish(demo["centre"], project.sections[0])
    db.session.commit()
    return project.sections[0]


def test_after_an_award_and_a_failure_the_beat_updates_the_rollup(demo):
    from tender import award
    from tests.tender.evaluation_factories import Opened, awarded
    add_history(SECTIONS)
    _beat()
    section = _publish(demo)
    _row, at = awarded(demo, Opened(demo, section, prices=("980000.00", "950000.00", "990000.00")))
    day = clock.local(at).date()
    month = Slice(period="month", start=day.replace(day=1), end=statistics.period_bounds("month",
                                                                                          day.year * 100 + day.month)[1])
    before = statistics.totals(month, from_rollup=True)
    assert _beat() == 1
    after = statistics.totals(month, from_rollup=True)
    assert after.sections == before.sections + 1 and after.deal_total == before.deal_total + Decimal("950000.00")
    assert_same_figures(month)
    assert_same_figures(Slice(unit=section.project.procuring_credit_code))
    assert_same_figures(Slice(start=date(day.year, 1, 1), end=date(day.year, 12, 31)))  # the units' table by year
    assert _beat() == 0  # nothing new: nothing recomputed

    award.fail(demo["procuring"], section, "中标人放弃中标，且无其他候选人", at)
    db.session.commit()
    _beat()
    failed = statistics.totals(month, from_rollup=True)
    assert (failed.sections, failed.failed) == (before.sections, before.failed + 1)
    assert_same_figures(month)
    rows = _rows()
    rollup.rebuild(clock.now())
    assert _rows() == rows


def test_after_an_import_of_history_the_beat_updates_the_rollup(demo):
    from tender import history
    add_history(SECTIONS)
    _beat()
    unit = demo["procuring"].organisation.credit_code
    raw = ("project_code,project_name,section_code,section_name,category,region_code,method,"
           "procuring_unit_credit_code,base_amount,deal_amount,award_date,bidder_count\n"
           f"H1,旧项目,H1-1,一标段,works,320100,open,{unit},100000.00,90000.00,2025-03-15,3\n"
           f"H1,旧项目,H1-2,二标段,works,320100,open,{unit},50000.00,,2025-04-15,0\n").encode()
    history.import_csv(demo["centre"], raw, clock.now())
    db.session.commit()
    march = Slice(start=date(2025, 3, 1), end=date(2025, 3, 31))
    assert statistics.totals(march, from_rollup=True).sections == 1  # S1 only, until the beat runs
    assert _beat() == 2
    assert statistics.totals(march, from_rollup=True).sections == 2
    assert statistics.totals(Slice(start=date(2025, 4, 1), end=date(2025, 4, 30)), from_rollup=True).failed == 1
    for slice_ in SLICES:
        assert_same_figures(slice_)
    rows = _rows()
    rollup.rebuild(clock.now())
    assert _rows() == rows


def test_the_rebuild_command(app):
    add_history(SECTIONS)
    result = app.test_cli_runner().invoke(args=["supervision", "rebuild-statistics"])
    assert result.exit_code == 0 and "26 rollup rows rebuilt." in result.output, result.output  # 8 of each
    # monthly grain, and a year of each unit (2025, 2026)
    assert rollup.state() is not None
    assert_same_figures(Slice())


def test_a_section_failing_on_the_platform_is_dated_and_counted_in_its_month(demo):
    """publication.fail dates the failure (award_date: the day the outcome was decided), so the beat counts
    it in that month like an imported failure."""
    from tender import publication
    add_history(SECTIONS)
    _beat()
    section = _publish(demo)
    publication.move(None, section, "close", section.deadline)
    publication.fail(demo["centre"], section, "无人投标", section.deadline)
    db.session.commit()
    day = clock.local(section.deadline).date()
    assert section.award_date == day
    month = Slice(start=day.replace(day=1), end=statistics.period_bounds("month", day.year * 100 + day.month)[1])
    before = statistics.totals(month, from_rollup=True).failed
    assert _beat() == 1
    assert statistics.totals(month, from_rollup=True).failed == before + 1
    assert_same_figures(month)
