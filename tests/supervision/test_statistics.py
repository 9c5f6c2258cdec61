"""Savings statistics: figures computed by hand for a handful of sections, periods across quarter, half-year
and year boundaries, a zero base, a missing base, a failed section, an empty slice, the mall beside them,
and the dashboard with its CSV and XLSX exports giving the page's figures."""
import csv
import itertools
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.extensions import db
from supervision import statistics
from supervision.statistics import Slice
from tender.models import Project, Section

UNIT = "12320100466000000A"  # a procuring unit known by its credit code only (imported history)
OTHER_UNIT = "12320100466000001Y"

# (code, category, region, method, base, deal, award date, bidders, status)
SECTIONS = [
    ("S1", "works", "320100", "open", "1000000.00", "900000.00", date(2025, 3, 31), 5, "awarded"),  # Q1 H1
    ("S2", "works", "320115", "open", "3000000.00", "2850000.00", date(2025, 4, 1), 3, "contracted"),  # Q2 H1
    ("S3", "procurement", "320100", "inquiry", "0.00", "50000.00", date(2025, 6, 30), 2, "awarded"),  # zero base
    ("S4", "procurement", "320100", "competitive_consultation", "200000.00", "150000.00", date(2025, 7, 1), 4,
     "awarded"),  # Q3 H2
    ("S5", "works", "320100", "open", "800000.00", None, date(2025, 12, 31), 0, "failed"),  # 流标, Q4
    ("S7", "works", "320100", "open", None, "10000.00", date(2025, 12, 31), None, "awarded"),  # no base, Q4
    ("S6", "works", "320100", "open", "500000.00", "480000.00", date(2026, 1, 1), None, "awarded"),  # 2026 Q1
    ("S8", "works", "320100", "open", "900000.00", None, None, None, "published"),  # not decided: left out
]
YEAR_2025 = Slice(start=date(2025, 1, 1), end=date(2025, 12, 31))


def _amount(value):
    return None if value is None else Decimal(value)


def add_history(rows) -> None:
    """Imported-history sections of (code, unit credit code, category, region, method, base, deal, award date,
    bidders, status), one project per unit."""
    now = clock.now()
    projects = {}
    for code, unit, category, region, method, base, deal, awarded, bidders, status in rows:
        project = projects.get(unit)
        if project is None:
            project = projects[unit] = Project(code=f"P-{unit[-4:]}", name="历史项目", procuring_credit_code=unit,
                                               region_code="320100", category="works", status="accepted",
                                               historical=True, created_at=now)
            db.session.add(project)
        db.session.add(Section(project=project, code=code, name=f"标段 {code}", category=category, region_code=region,
                               method=method, base_amount=_amount(base), deal_amount=_amount(deal),
                               award_date=awarded, bidder_count=bidders, status=status))
    db.session.commit()


@pytest.fixture
def history(app):
    add_history([(row[0], OTHER_UNIT if row[0] == "S6" else UNIT, *row[1:]) for row in SECTIONS])


def test_the_whole_year_by_hand(history):
    total = statistics.totals(YEAR_2025)
    assert (total.sections, total.rated, total.no_base, total.failed) == (5, 3, 2, 1)  # S1 S2 S3 S4 S7; S5
    assert total.base_total == Decimal("4200000.00")  # S1 + S2 + S4: the zero and missing bases stay out
    assert total.deal_total == Decimal("3900000.00")
    assert total.savings == Decimal("300000.00")
    assert total.savings_rate == Decimal("0.071429")  # 300,000 / 4,200,000, weighted
    assert total.mean_decline_rate == Decimal("0.133333")  # (10% + 5% + 25%) / 3, each section the same
    assert total.no_base_deal_total == Decimal("60000.00")  # S3 and S7, counted apart
    assert total.mean_bidders == Decimal("3.50")  # (5 + 3 + 2 + 4) / 4: S7's count is unknown
    listed = statistics.no_base_sections(YEAR_2025)
    assert [s.code for s in listed] == ["S7", "S3"]


def test_quarters_split_at_the_boundaries(history):
    rows = statistics.by("period", YEAR_2025)
    assert [(r.key, r.label) for r in rows] == [(20251, "2025年第1季度"), (20252, "2025年第2季度"),
                                                (20253, "2025年第3季度"), (20254, "2025年第4季度")]
    q1, q2, q3, q4 = rows
    assert (q1.sections, q1.savings_rate, q1.mean_decline_rate) == (1, Decimal("0.100000"), Decimal("0.100000"))
    assert (q2.sections, q2.rated, q2.base_total, q2.savings_rate) == (2, 1, Decimal("3000000.00"), Decimal("0.050000"))
    assert q3.savings_rate == Decimal("0.250000")
    # Q4: the section without a base and the failed one: counted, and no rate at all rather than 0%.
    assert (q4.sections, q4.rated, q4.failed, q4.savings_rate, q4.mean_decline_rate) == (1, 0, 1, None, None)
    assert q4.savings is None


def test_half_years_and_years(history):
    h1, h2 = statistics.by("period", Slice(period="half", start=date(2025, 1, 1), end=date(2025, 12, 31)))
    assert (h1.key, h1.sections, h1.base_total, h1.deal_total) == (20251, 3, Decimal("4000000.00"),
                                                                  Decimal("3750000.00"))
    assert (h1.savings_rate, h1.mean_decline_rate) == (Decimal("0.062500"), Decimal("0.075000"))
    assert (h2.key, h2.sections, h2.failed, h2.savings_rate) == (20252, 2, 1, Decimal("0.250000"))
    years = statistics.by("period", Slice(period="year"))
    assert [(y.key, y.sections, y.savings_rate) for y in years] == [(2025, 5, Decimal("0.071429")),
                                                                  (2026, 1, Decimal("0.040000"))]
    months = statistics.by("period", Slice(period="month", start=date(2025, 3, 1), end=date(2025, 4, 30)))
    assert [(m.key, m.label) for m in months] == [(202503, "2025-03"), (202504, "2025-04")]


def test_slices_by_category_method_region_and_unit(history):
    by_category = {r.key: r for r in statistics.by("category", YEAR_2025)}
    assert by_category["works"].savings_rate == Decimal("0.062500")  # S1 + S2: 250,000 / 4,000,000
    assert by_category["works"].failed == 1
    assert (by_category["procurement"].sections, by_category["procurement"].rated) == (2, 1)
    # Nanjing (320100) takes in its districts (Jiangning 320115); the district alone only its own.
    assert statistics.totals(Slice(region="320100", end=date(2025, 12, 31))).sections == 5
    assert statistics.totals(Slice(region="320115")).sections == 1
    units = {r.key: r for r in statistics.by("unit", Slice())}
    assert (units[UNIT].sections, units[OTHER_UNIT].sections) == (5, 1)
    assert units[OTHER_UNIT].label == OTHER_UNIT  # not a platform organisation: named by its code
    assert statistics.totals(Slice(unit=OTHER_UNIT)).savings_rate == Decimal("0.040000")


def test_an_empty_slice_and_a_slice_of_zero_bases_give_no_rate_and_no_error(history):
    empty = statistics.totals(Slice(category="other"))
    assert empty.empty and (empty.savings_rate, empty.mean_decline_rate, empty.mean_bidders) == (None, None, None)
    assert statistics.by("period", Slice(category="other")) == []
    zero = statistics.totals(Slice(method="inquiry"))
    assert (zero.sections, zero.rated, zero.savings_rate, zero.mean_decline_rate) == (1, 0, None, None)


def test_mall_savings_in_the_period_of_settlement_in_beijing_time(app, demo):
    from mall import demo as mall_demo, orders
    from mall.models import BudgetLine, Listing
    mall_demo.load(clock.now())
    unit = demo["procuring"]
    line = db.session.scalar(select(BudgetLine).where(BudgetLine.unit_id == unit.organisation_id))
    listing = db.session.scalar(select(Listing).where(Listing.brand == "得力").order_by(Listing.id))
    [order] = orders.place(unit, [(listing.id, 2)], budget_line_id=line.id, delivery_region="320102",
                           delivery_address="南京市玄武区北京东路41号", now=clock.now())
    now = clock.now()
    orders.confirm(demo["supplier"], order, now)
    orders.ship(demo["supplier"], order, "", now)
    orders.receive(unit, order, now)
    orders.accept(unit, order, {}, now)
    orders.invoice(demo["supplier"], order, "3200123456", now)
    orders.settle(unit, order, "国库支付 2025-001", now)
    order.settled_at = datetime(2025, 3, 31, 16, 30, tzinfo=timezone.utc)  # 2025-04-01 00:30 in Beijing: Q2
    db.session.commit()
    total, periods = statistics.mall(Slice(start=date(2025, 4, 1), end=date(2025, 6, 30)))
    assert (total.orders, total.savings, total.reference_total) == (1, order.savings, order.reference_total)
    assert [(p.key, p.orders) for p in periods] == [(20252, 1)]
    assert statistics.mall(Slice(start=date(2025, 1, 1), end=date(2025, 3, 31)))[0].orders == 0
    assert statistics.mall(Slice(unit=demo["procuring2"].organisation.credit_code))[0].orders == 0
    assert total.savings_rate == (order.savings / order.reference_total).quantize(Decimal("0.000001"))


# The dashboard.

def test_the_dashboard_shows_the_figures_with_their_definitions(login, history):
    page = login("supervisor").get("/supervision/statistics?period=quarter&start=2025-01-01&end=2025-12-31")
    assert page.status_code == 200
    assert 'id="savings-rate">7.14%' in page.text and 'id="mean-decline-rate">13.33%' in page.text
    assert "S / B: weighted by the bases" in page.text and "every section weighs the same" in page.text
    assert "2025 Q4" in page.text and "<svg" in page.text
    assert "S7" in page.text and "S3" in page.text  # the sections without a base are listed
    assert "300,000.00 元" in page.text  # the savings, exact amount in the title; 30.00万元 shown
    assert "30.00 万元" in page.text


def test_an_empty_slice_shows_no_data_never_zero_percent(login, history):
    page = login("centre").get("/supervision/statistics?category=other")
    assert page.status_code == 200
    assert 'id="savings-rate"><span class="text-muted no-data">no data' in page.text
    assert "0.00%" not in page.text


def test_the_dashboard_in_chinese(login, history):
    client = login("supervisor")
    client.set_cookie("lang", "zh")
    page = client.get("/supervision/statistics?period=half&start=2025-01-01&end=2025-12-31")
    assert "节约率" in page.text and "2025年上半年" in page.text and "420.00 万元" in page.text


def test_bad_filters_are_refused_with_a_reason(login, history):
    client = login("supervisor")
    for query, reason in (("period=week", "period_unknown"), ("start=2025-13-01", "date_invalid"),
                          ("start=2025-02-01&end=2025-01-01", "dates_reversed"), ("category=x", "category_unknown"),
                          ("region=32", "region_invalid"), ("unit=abc", "unit_invalid")):
        answer = client.get(f"/supervision/statistics?{query}")
        assert answer.status_code == 400 and reason in answer.text, query
    assert client.get("/supervision/statistics/export.csv?table=nothing").status_code == 400


def _page_cells(html: str, table: str) -> list[list[str]]:
    import re
    section = html.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_csv_and_xlsx_give_the_figures_of_the_page(login, history):
    from openpyxl import load_workbook
    client = login("supervisor")
    query = "period=quarter&start=2025-01-01&end=2025-12-31"
    page = _page_cells(client.get(f"/supervision/statistics?{query}").text, "period")
    answer = client.get(f"/supervision/statistics/export.csv?table=period&{query}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Period" and len(rows) == 1 + 4
    assert rows[1] == ["2025 Q1", "1", "0", "0", "1000000.00", "900000.00", "100000.00", "10.00", "10.00", "5.00"]
    assert rows[4][7:9] == ["no data", "no data"]
    book = load_workbook(io.BytesIO(client.get(f"/supervision/statistics/export.xlsx?{query}").data))
    assert set(book.sheetnames) == {"total", "period", "category", "region", "method", "unit", "mall", "no_base"}
    sheet = [list(r) for r in book["period"].iter_rows(min_row=3, values_only=True)]
    for page_row, csv_row, xlsx_row in zip(page, rows[1:], sheet, strict=True):
        assert page_row[0] == csv_row[0] == xlsx_row[0]
        # Rates: the page's percentage is the export's number; money: the page shows 万元 of the exact yuan.
        assert [page_row[7], page_row[8]] == [f"{c}%" if c != "no data" else c for c in csv_row[7:9]]
        assert [str(v) if v is not None else "" for v in xlsx_row[1:4]] == csv_row[1:4]
        assert xlsx_row[7] == (Decimal(csv_row[7]) if csv_row[7] != "no data" else "no data")
    total = [list(r) for r in book["total"].iter_rows(min_row=3, values_only=True)][0]
    assert Decimal(str(total[6])) == Decimal("300000.00") and Decimal(str(total[7])) == Decimal("7.14")


def test_the_charts_period_labels_never_overlap_and_every_period_keeps_its_bars():
    from supervision.statistics import Figures
    from supervision.statistics_views import rate_chart
    for count, label in ((4, "2026年第{}季度"), (12, "2025年第{}季度"), (36, "2024年{}月")):
        rows = [Figures(key=i, sections=1, rated=1, base_total=Decimal("100"), deal_total=Decimal("90"),
                        mean_decline_rate=Decimal("0.1"), label=label.format(i + 1)) for i in range(count)]
        chart = rate_chart(rows)
        assert len(chart["bars"]) == 2 * count
        xs = [x for x, _label in chart["ticks"]]
        # An 11-unit font: CJK characters 11 units wide, digits and Latin letters at most 7.
        widest = max(sum(11 if ord(c) > 0x2E80 else 7 for c in text) for _x, text in chart["ticks"])
        assert all(b - a >= widest for a, b in itertools.pairwise(xs)), (count, xs)
        assert chart["ticks"][0][1] == rows[0].label
