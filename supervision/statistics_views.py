"""The statistics dashboard (supervisors, centre staff, administrators): filters, tables with their
definitions, SVG charts drawn here, and every table as CSV and XLSX with the page's figures."""
import csv
import io
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import Response, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l

from core.errors import DomainError
from core.permissions import area_required
from supervision import statistics
from supervision.views import supervision_bp
from tender.models import CATEGORIES, METHODS

PAGE_LIMITS = {"region": 30, "unit": 30}  # the page shows the busiest; the exports give every group
PERIOD_NAMES = {"month": _l("Month"), "quarter": _l("Quarter"), "half": _l("Half-year"), "year": _l("Year")}
TABLE_TITLES = {"total": _l("The whole slice"), "period": _l("By period"), "category": _l("By category"),
                "region": _l("By region"), "method": _l("By procurement method"), "unit": _l("By procuring unit"),
                "mall": _l("Online mall by period"), "no_base": _l("Awarded sections without a base")}
GROUP_HEADINGS = {"total": _l("Slice"), "period": _l("Period"), "category": _l("Category"), "region": _l("Region"),
                  "method": _l("Method"), "unit": _l("Procuring unit")}


@dataclass
class Cell:
    kind: str  # text | count | money | rate | number
    value: object

    def export(self):
        """The value as the exports carry it: exact yuan, rates as the page's percentage (two places)."""
        if self.value is None:
            return _("no data")
        if self.kind == "rate":
            return (self.value * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return self.value


@dataclass
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list[Cell]]
    link: list | None = None  # per row: query arguments of the slice it stands for


def _figure_header(group: str) -> list[str]:
    return [str(GROUP_HEADINGS[group]), _("Awarded sections"), _("of which without a base"), _("Failed sections"),
            _("Base total B (yuan)"), _("Deal total D (yuan)"), _("Savings S = B − D (yuan)"),
            _("Savings rate S / B (percent)"), _("Mean decline rate (percent)"), _("Mean bidders per section")]


def _figure_row(figures: statistics.Figures, label: str) -> list[Cell]:
    rated = figures.rated > 0
    return [Cell("text", label), Cell("count", figures.sections), Cell("count", figures.no_base),
            Cell("count", figures.failed), Cell("money", figures.base_total if rated else None),
            Cell("money", figures.deal_total if rated else None), Cell("money", figures.savings),
            Cell("rate", figures.savings_rate), Cell("rate", figures.mean_decline_rate),
            Cell("number", figures.mean_bidders)]


def tables(report: statistics.Report) -> list[Table]:
    """Every table of the report, in the order of the page; the page, the CSV and the XLSX all read these."""
    slice_ = report.slice
    result = [Table("total", str(TABLE_TITLES["total"]), _figure_header("total"),
                    [_figure_row(report.total, _("All"))])]
    for dimension in statistics.DIMENSIONS:
        rows = report.tables[dimension]
        links = []
        for figures in rows:
            if dimension == "period":
                first, last = statistics.period_bounds(slice_.period, figures.key)
                links.append({"start": max(first, slice_.start or first).isoformat(),
                              "end": min(last, slice_.end or last).isoformat()})
            else:
                links.append({dimension: figures.key})
        result.append(Table(dimension, str(TABLE_TITLES[dimension]), _figure_header(dimension),
                            [_figure_row(f, f.label) for f in rows], links))
    result.append(Table("mall", str(TABLE_TITLES["mall"]),
                        [str(GROUP_HEADINGS["period"]), _("Settled orders"), _("Lowest market references (yuan)"),
                         _("Paid (yuan)"), _("Mall savings (yuan)"), _("Mall savings rate (percent)")],
                        [[Cell("text", m.label), Cell("count", m.orders), Cell("money", m.reference_total),
                          Cell("money", m.paid_total), Cell("money", m.savings), Cell("rate", m.savings_rate)]
                         for m in [*report.mall_periods, statistics.MallFigures(
                             orders=report.mall_total.orders, reference_total=report.mall_total.reference_total,
                             savings=report.mall_total.savings, label=_("All"))]]))
    result.append(Table("no_base", str(TABLE_TITLES["no_base"]),
                        [_("Section"), _("Name"), _("Category"), _("Region"), _("Method"), _("Deal amount (yuan)"),
                         _("Award date")],
                        [[Cell("text", s.code), Cell("text", s.name), Cell("text", str(CATEGORIES.get(s.category, ""))),
                          Cell("text", s.region_code), Cell("text", str(METHODS.get(s.method, ""))),
                          Cell("money", s.deal_amount), Cell("text", s.award_date.isoformat())]
                         for s in report.no_base_sections]))
    return result


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal | None
    series: int


def rate_chart(rows: list[statistics.Figures], width: int = 720, height: int = 240) -> dict:
    """Bars of the savings rate and the mean decline rate per period, from a zero line that sits where
    negative rates (deals above their base) also fit."""
    values = [v for f in rows for v in (f.savings_rate, f.mean_decline_rate) if v is not None]
    top, bottom = max([Decimal("0.01"), *values]), min([Decimal("0"), *values])
    plot_top, plot_height = 20, height - 60
    scale = Decimal(plot_height) / (top - bottom)
    zero = plot_top + float(top * scale)
    slot = (width - 60) / max(len(rows), 1)
    # Label every step-th period so that labels never overlap (11-unit font: CJK characters are square).
    widest = max((sum(11 if ord(c) > 0x2E80 else 6.5 for c in f.label) for f in rows), default=0)
    step = max(1, math.ceil((widest + 6) / slot))
    bars, ticks = [], []
    for i, figures in enumerate(rows):
        x = 50 + i * slot
        for series, value in enumerate((figures.savings_rate, figures.mean_decline_rate)):
            size = float(abs(value) * scale) if value is not None else 0.0
            y = zero - size if value is not None and value >= 0 else zero
            bars.append(Bar(x + slot * (0.1 + 0.4 * series), y, slot * 0.38, size, value, series))
        if i % step == 0:
            ticks.append((x + slot / 2, figures.label))
    return {"width": width, "height": height, "zero": zero, "bars": bars, "ticks": ticks,
            "top": top, "top_y": plot_top, "bottom": bottom, "bottom_y": plot_top + plot_height}


@supervision_bp.get("/statistics")
@area_required("statistics")
def statistics_page():
    report = statistics.report(statistics.parse_slice(request.args), PAGE_LIMITS)
    return render_template("supervision/statistics.html", report=report, tables={t.name: t for t in tables(report)},
                           chart=rate_chart(report.tables["period"]), period_names=PERIOD_NAMES,
                           categories=CATEGORIES, methods=METHODS, page_limits=PAGE_LIMITS,
                           no_base_listed=statistics.NO_BASE_LISTED,
                           args={k: v for k, v in request.args.items() if v})


def _export_tables(one: str | None) -> list[Table]:
    report = statistics.report(statistics.parse_slice(request.args), no_base_listed=None)
    every = tables(report)
    if one is None:
        return every
    chosen = [t for t in every if t.name == one]
    if not chosen:
        raise DomainError("table_unknown", _("There is no table called %(name)s.", name=one[:40]), 400)
    return chosen


@supervision_bp.get("/statistics/export.csv")
@area_required("statistics")
def statistics_csv():
    """One table as CSV (UTF-8 with a BOM, as spreadsheet programs expect)."""
    [table] = _export_tables(request.args.get("table", "total"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows([cell.export() for cell in row] for row in table.rows)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=statistics-{table.name}.csv"})


@supervision_bp.get("/statistics/export.xlsx")
@area_required("statistics")
def statistics_xlsx():
    """Every table, one sheet each: money in yuan, rates as percentages with two places, as on the page."""
    from openpyxl import Workbook
    book = Workbook()
    book.remove(book.active)
    for table in _export_tables(None):
        sheet = book.create_sheet(table.name)
        sheet.append([table.title])
        sheet.append(table.header)
        for row in table.rows:
            sheet.append([cell.export() for cell in row])
            for cell, source in zip(sheet[sheet.max_row], row, strict=True):
                if source.kind == "money" and source.value is not None:
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=statistics.xlsx"})
