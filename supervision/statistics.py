"""Savings statistics (节约率 and 下浮率) over awarded sections, aggregated in SQL (DOMAIN.md "Statistics").

The filters of a ``Slice`` in the WHERE, the dimension (period, category, region, method or procuring unit)
in the GROUP BY, and every figure a conditional aggregate, so the database reads each row once and Python
only divides two totals. The totals and the tables of ``MERGED`` come from one statement (``merged``: GROUPING
SETS, or UNION ALL on SQLite), the units' table and the mall from one each. Definitions (docs/supervision.md):

- awarded: status ``awarded`` or ``contracted`` with a deal amount and an award date. Imported history
  (tender/history.py) carries status ``awarded`` or ``failed`` itself, so the one condition covers both and
  the statement needs no join with ``project`` unless it slices by procuring unit.
- rated: awarded with a base (control price or budget) above zero. B, D and S are sums over rated sections
  only, so that S = B − D and both rates speak of the same sections; awarded sections without a base are
  counted (``no_base``), their deal amounts summed apart and listed.
- failed (流标): status ``failed`` with a decision date (``award_date``); counted, outside B and D.
- the period of a section is its award date, already a date in Asia/Shanghai.
"""
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import (DateTime, Float, Integer, and_, case, cast, extract, func, literal, literal_column, null,
                        or_, select, tuple_, union_all)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from accounts import regions
from accounts.models import Organisation
from core import clock
from core.errors import DomainError
from core.extensions import db
from mall.models import Order
from tender.models import CATEGORIES, METHODS, Project, Section

PERIOD_KINDS = ("month", "quarter", "half", "year")
DIMENSIONS = ("period", "category", "region", "method", "unit")
AWARDED_STATUSES = ("awarded", "contracted")
# Mall orders whose savings are final: settled, and rated after settlement (mall/states.py).
MALL_SETTLED = ("settled", "half_rated", "rated")
RATE_PLACES = Decimal("0.000001")
NO_BASE_LISTED = 20  # on the page; the exports list them all
# The statements of the slices asked lately are kept built: building one, and computing its key in SQLAlchemy's
# cache of compiled statements, costs about a millisecond, as much as the SQL of a year's table. Only the
# statement is kept (its filter values bound in it), never its rows: every page runs its statements.
STATEMENTS_KEPT = 512


@dataclass(frozen=True)
class Slice:
    """What a table covers: award dates from ``start`` to ``end`` (both included, Asia/Shanghai) and the
    other filters; empty strings filter nothing. ``period`` says how the period table buckets."""

    period: str = "quarter"
    start: date | None = None
    end: date | None = None
    category: str = ""
    region: str = ""
    method: str = ""
    unit: str = ""  # the procuring unit's unified social credit code


@dataclass
class Figures:
    """The figures of one group (``key``: a period number, a category, a region code … or None for all)."""

    key: object = None
    sections: int = 0  # awarded
    rated: int = 0  # awarded with a base above zero
    base_total: Decimal = Decimal("0")  # B, over rated sections
    deal_total: Decimal = Decimal("0")  # D, over rated sections
    no_base_deal_total: Decimal = Decimal("0")  # deal amounts of awarded sections without a base
    mean_decline_rate: Decimal | None = None
    mean_bidders: Decimal | None = None
    failed: int = 0
    label: str = ""

    @property
    def no_base(self) -> int:
        return self.sections - self.rated

    @property
    def savings(self) -> Decimal | None:
        return self.base_total - self.deal_total if self.rated else None

    @property
    def savings_rate(self) -> Decimal | None:
        """S / B, weighted by the bases; None ("no data") when no section has a base."""
        if not self.rated or self.base_total <= 0:
            return None
        return (self.savings / self.base_total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)

    @property
    def empty(self) -> bool:
        return self.sections == 0 and self.failed == 0


@dataclass
class MallFigures:
    key: object = None
    orders: int = 0
    reference_total: Decimal = Decimal("0")  # lowest market references × quantities
    savings: Decimal = Decimal("0")
    label: str = ""

    @property
    def paid_total(self) -> Decimal:
        return self.reference_total - self.savings

    @property
    def savings_rate(self) -> Decimal | None:
        if not self.orders or self.reference_total <= 0:
            return None
        return (self.savings / self.reference_total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class Report:
    slice: Slice
    total: Figures
    tables: dict[str, list[Figures]] = field(default_factory=dict)
    no_base_sections: list = field(default_factory=list)
    mall_total: MallFigures = field(default_factory=MallFigures)
    mall_periods: list[MallFigures] = field(default_factory=list)
    as_of: datetime | None = None  # read from the rollup, taken in up to this moment; None: from the sections


# Periods, written once for SQLite and PostgreSQL: EXTRACT is compiled for each dialect by SQLAlchemy
# (strftime on SQLite), and integer floor division stays integer on both.

def period_key(kind: str, day) -> ColumnElement:
    """A sortable number naming the period of a DATE (or local timestamp) expression: 2025 for a year,
    20251 / 20252 for half-years, 20251…20254 for quarters, 202501…202512 for months."""
    return _period_of(kind, cast(extract("year", day), Integer), cast(extract("month", day), Integer))


def period_of_month(kind: str, month) -> ColumnElement:
    """The same number from a month number such as 202504 (the rollup's month)."""
    return month if kind == "month" else _period_of(kind, month // 100, month % 100)


def _period_of(kind: str, year, month) -> ColumnElement:
    if kind == "year":
        return year
    if kind == "half":
        return year * 10 + (month + 5) // 6
    if kind == "quarter":
        return year * 10 + (month + 2) // 3
    return year * 100 + month


def period_label(kind: str, key: int) -> str:
    if kind == "year":
        return _("Year %(year)s", year=key)
    if kind == "half":
        year, half = divmod(key, 10)
        return _("%(year)s H1", year=year) if half == 1 else _("%(year)s H2", year=year)
    if kind == "quarter":
        year, quarter = divmod(key, 10)
        return _("%(year)s Q%(quarter)s", year=year, quarter=quarter)
    year, month = divmod(key, 100)
    return _("%(year)s-%(month)s", year=year, month=f"{month:02d}")


def period_bounds(kind: str, key: int) -> tuple[date, date]:
    """First and last day of a period key (for links from a period row to its slice)."""
    if kind == "year":
        first, months = date(key, 1, 1), 12
    elif kind == "half":
        first, months = date(key // 10, 6 * (key % 10) - 5, 1), 6
    elif kind == "quarter":
        first, months = date(key // 10, 3 * (key % 10) - 2, 1), 3
    else:
        first, months = date(key // 100, key % 100, 1), 1
    following = date(first.year + (first.month - 1 + months) // 12, (first.month - 1 + months) % 12 + 1, 1)
    return first, following - timedelta(days=1)


class shanghai_time(FunctionElement):  # noqa: N801 - reads as an SQL function
    """A UTC timestamp column as local wall-clock time in Asia/Shanghai (UTC+8 all year since 1991)."""

    type = DateTime()
    inherit_cache = True


@compiles(shanghai_time, "postgresql")
def _shanghai_pg(element, compiler, **kw):
    return "(%s AT TIME ZONE 'Asia/Shanghai')" % compiler.process(element.clauses, **kw)


@compiles(shanghai_time)
def _shanghai_sqlite(element, compiler, **kw):  # SQLite keeps UTCDateTime naive, in UTC
    return "datetime(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


def local_day_start(day: date) -> datetime:
    """The UTC moment a local (Asia/Shanghai) day begins."""
    return datetime.combine(day, time(0), clock.SHANGHAI)


# The conditions and the figures.

AWARDED = and_(Section.status.in_(AWARDED_STATUSES), Section.deal_amount.is_not(None),
               Section.award_date.is_not(None))
RATED = and_(AWARDED, Section.base_amount > 0)
NO_BASE = and_(AWARDED, or_(Section.base_amount.is_(None), Section.base_amount <= 0))  # NOT(NULL > 0) is NULL
FAILED = and_(Section.status == "failed", Section.award_date.is_not(None))
DECLINE = cast(Section.base_amount - Section.deal_amount, Float) / cast(Section.base_amount, Float)  # of one section


def _figure_columns() -> list:
    return [
        func.count(case((AWARDED, 1))).label("sections"),
        func.count(case((RATED, 1))).label("rated"),
        func.coalesce(func.sum(case((RATED, Section.base_amount))), 0).label("base_total"),
        func.coalesce(func.sum(case((RATED, Section.deal_amount))), 0).label("deal_total"),
        func.coalesce(func.sum(case((NO_BASE, Section.deal_amount))), 0).label("no_base_deal"),
        func.avg(case((RATED, DECLINE))).label("mean_decline"),
        func.avg(case((AWARDED, cast(Section.bidder_count, Float)))).label("mean_bidders"),
        func.count(case((FAILED, 1))).label("failed"),
    ]


def _region_filter(code: str, column=Section.region_code) -> ColumnElement:
    """A city (…00) or province (…0000) code takes in the divisions under it."""
    return regions.within(column, code)


def _where(stmt, slice_: Slice, joined: bool):
    stmt = stmt.where(or_(AWARDED, FAILED))
    if slice_.start:
        stmt = stmt.where(Section.award_date >= slice_.start)
    if slice_.end:
        stmt = stmt.where(Section.award_date <= slice_.end)
    if slice_.category:
        stmt = stmt.where(Section.category == slice_.category)
    if slice_.method:
        stmt = stmt.where(Section.method == slice_.method)
    if slice_.region:
        stmt = stmt.where(_region_filter(slice_.region))
    if slice_.unit:
        if not joined:
            stmt = stmt.join(Project, Project.id == Section.project_id)
        stmt = stmt.where(Project.procuring_credit_code == slice_.unit)
    return stmt


def _keys(slice_: Slice, from_rollup: bool) -> dict:
    """The key column of each dimension, over the rollup's rows or over the sections."""
    if from_rollup:
        from supervision.rollup import StatisticsMonth as R
        return {"period": period_of_month(slice_.period, R.month), "category": R.category,
                "region": R.region_code, "method": R.method, "unit": R.unit_code}
    return {"period": period_key(slice_.period, Section.award_date), "category": Section.category,
            "region": Section.region_code, "method": Section.method, "unit": Project.procuring_credit_code}


def _base(slice_: Slice, dimension: str | None, from_rollup: bool):
    """The figure columns, and a SELECT of them over the slice's rows (its FROM and WHERE) for a table of
    ``dimension`` (None: the totals and the tables of ``MERGED``, which read the same rows)."""
    if from_rollup:
        return _rollup_base(slice_, dimension)
    columns = _figure_columns()
    stmt = select(*columns).select_from(Section)
    if dimension == "unit":
        stmt = stmt.join(Project, Project.id == Section.project_id)
    return columns, _where(stmt, slice_, joined=dimension == "unit")


@lru_cache(maxsize=STATEMENTS_KEPT)
def statement(slice_: Slice, dimension: str | None = None, limit: int | None = None, from_rollup: bool = False):
    """The SELECT of one table: a row per group of ``dimension`` (or one row for the whole slice); with a
    ``limit``, the groups with the most sections first. ``from_rollup``: summing the monthly rollup's rows
    (the slice's dates must be whole months, see ``whole_months``) instead of reading the sections."""
    columns, stmt = _base(slice_, dimension, from_rollup)
    if dimension is None:
        return stmt
    key = _keys(slice_, from_rollup)[dimension]
    stmt = stmt.add_columns(key.label("key")).group_by(key)
    if limit is not None:
        stmt = stmt.order_by(columns[0].desc(), key).limit(limit)
    if dimension in ("region", "unit"):
        return _with_names(stmt, {dimension: "key"}, ["key"] if limit is None else ["-sections", "key"])
    return stmt if limit is not None else stmt.order_by(key)


def _with_names(stmt, named: dict, order: list[str]):
    """``stmt`` with the names of its regions and units joined (``named``: "region" or "unit" → the column
    of their keys; a key without a name gets none): ``region_zh`` and ``region_en`` (as Region.display_name),
    ``unit_name``; ordered by its columns ``order`` ("-x": descending)."""
    from accounts.models import Region
    sub = stmt.subquery()
    result = select(sub)
    if "region" in named:
        result = result.add_columns(Region.name_zh.label("region_zh"), Region.name_en.label("region_en")) \
            .outerjoin(Region, Region.code == sub.c[named["region"]])
    if "unit" in named:
        result = result.add_columns(Organisation.name.label("unit_name")) \
            .outerjoin(Organisation, Organisation.credit_code == sub.c[named["unit"]])
    return result.order_by(*[sub.c[o[1:]].desc() if o.startswith("-") else sub.c[o] for o in order])


# The totals and the tables of these dimensions read the same rows, so one statement gives them all: GROUPING
# SETS on PostgreSQL (one pass over the rows), a UNION ALL of a SELECT per set elsewhere (SQLite). A row's
# ``grouping_set`` says which group it belongs to: PostgreSQL's GROUPING() of the keys, a bit per key not
# grouped by (the leftmost the highest), which the UNION ALL writes as a number. The units' table (other rows
# of the rollup, or the sections joined with their projects) follows in the same statement, as set UNIT_SET.
MERGED = ("period", "category", "method", "region")
UNIT_SET = 1 << len(MERGED)


def grouping_sets(base, keys: dict, dialect: str, others: tuple = ()):
    """``base`` (a SELECT of aggregates with its FROM and WHERE) grouped by nothing and by each key of ``keys``
    (name: column) apart; each row names its set (``set_number``) and its key, then has a NULL column for
    each name of ``others``."""
    names, columns = list(keys), list(keys.values())
    nulls = [null().label(n) for n in others]
    if dialect == "postgresql":
        return base.add_columns(*[c.label(n) for n, c in keys.items()], *nulls,
                                func.grouping(*columns).label("grouping_set")) \
            .group_by(func.grouping_sets(tuple_(), *[tuple_(c) for c in columns]))
    return union_all(*[base.add_columns(*[(c if n == name else null()).label(n) for n, c in keys.items()], *nulls,
                                        literal(set_number(names, name)).label("grouping_set"))
                       .group_by(*[keys[name]] if name else []) for name in (None, *names)])


def set_number(names: list, name: str | None) -> int:
    """The ``grouping_set`` of the rows grouped by ``name`` (None: the one row of the whole)."""
    every = (1 << len(names)) - 1
    return every if name is None else every - (1 << (len(names) - 1 - names.index(name)))


@lru_cache(maxsize=STATEMENTS_KEPT)
def merged_statement(slice_: Slice, from_rollup: bool, dialect: str, units: int | None = None):
    """The totals and the tables of ``MERGED`` (see ``grouping_sets``), then the units' table (the ``units``
    busiest, or all), in one SELECT; from the rollup, the totals' row also says when the rollup last took in
    the journal (``as_of``: NULL until it is first built, when it has no rows either), read in the same
    snapshot as the sums."""
    from supervision.rollup import StatisticsState
    keys = _keys(slice_, from_rollup)
    as_of = [select(StatisticsState.refreshed_at).where(StatisticsState.id == 1).scalar_subquery().label("as_of")] \
        if from_rollup else []
    cells = grouping_sets(_base(slice_, None, from_rollup)[1].add_columns(*as_of), {d: keys[d] for d in MERGED},
                          dialect, others=("unit",))
    columns, unit_rows = _base(slice_, "unit", from_rollup)
    # NULLs typed as the other rows' columns, since PostgreSQL takes an untyped NULL in a subquery as text.
    unit_rows = unit_rows.add_columns(*as_of, cast(null(), Integer).label("period"),
                                      *[null().label(n) for n in MERGED[1:]],
                                      keys["unit"].label("unit"), literal(UNIT_SET).label("grouping_set")) \
        .group_by(keys["unit"]).order_by(columns[0].desc(), keys["unit"]).limit(units)
    stmt = union_all(*getattr(cells, "selects", [cells]), select(unit_rows.subquery()))  # SQLite: one flat UNION
    return _with_names(stmt, {"region": "region", "unit": "unit"}, ["grouping_set", *MERGED, "unit"])


def whole_months(slice_: Slice) -> bool:
    """Whether the slice's dates are whole months (or open), which the monthly rollup can answer."""
    return (slice_.start is None or slice_.start.day == 1) and \
        (slice_.end is None or (slice_.end + timedelta(days=1)).day == 1)


def whole_years(slice_: Slice) -> bool:
    """Whether the slice's dates are whole years (or open): the units' table then sums the rollup's years."""
    return (slice_.start is None or (slice_.start.month, slice_.start.day) == (1, 1)) and \
        (slice_.end is None or (slice_.end.month, slice_.end.day) == (12, 31))


def _rollup_base(slice_: Slice, dimension: str | None):
    """The same figures as sums over the rollup's rows (supervision/rollup.py): Σ counts and amounts, and the
    means as Σ / count. The grain: without the unit, the cells (month × category × region × method); the
    units' table alone, year × unit for whole years and month × unit otherwise; a unit with anything else,
    the full key."""
    from supervision.rollup import CELL, FULL, UNIT, YEAR_UNIT, StatisticsMonth as R
    cells_filtered = bool(slice_.category or slice_.region or slice_.method)
    if slice_.unit or (dimension == "unit" and cells_filtered):
        grain = FULL
    elif dimension == "unit":
        grain = YEAR_UNIT if whole_years(slice_) else UNIT
    else:
        grain = CELL
    columns = [
        func.coalesce(func.sum(R.sections), 0).label("sections"),
        func.coalesce(func.sum(R.rated), 0).label("rated"),
        func.coalesce(func.sum(R.base_total), 0).label("base_total"),
        func.coalesce(func.sum(R.deal_total), 0).label("deal_total"),
        func.coalesce(func.sum(R.no_base_deal), 0).label("no_base_deal"),
        # Float / Float: SQLAlchemy writes a Float divided by an Integer with the divisor cast to NUMERIC.
        (func.sum(R.decline_sum) / cast(func.nullif(func.sum(R.rated), 0), Float)).label("mean_decline"),
        (cast(func.sum(R.bidder_sum), Float) / cast(func.nullif(func.sum(R.bidder_known), 0), Float))
        .label("mean_bidders"),
        func.coalesce(func.sum(R.failed), 0).label("failed"),
    ]
    stmt = select(*columns).where(R.grain == grain)
    by_year = grain == YEAR_UNIT  # a year's row has the month number YYYY00
    if slice_.start:
        stmt = stmt.where(R.month >= slice_.start.year * 100 + (0 if by_year else slice_.start.month))
    if slice_.end:
        stmt = stmt.where(R.month <= slice_.end.year * 100 + (0 if by_year else slice_.end.month))
    for value, column in ((slice_.category, R.category), (slice_.method, R.method), (slice_.unit, R.unit_code)):
        if value:
            stmt = stmt.where(column == value)
    if slice_.region:
        stmt = stmt.where(_region_filter(slice_.region, R.region_code))
    return columns, stmt


def _run(stmt, params=None):
    """A SELECT of columns on the session's connection: the ORM's layer adds nothing to such a statement."""
    return db.session.connection().execute(stmt, params)


def _figures(row, key=None, label: str = "") -> Figures:
    def ratio(value):
        return None if value is None else Decimal(repr(float(value))).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)

    return Figures(key=key, sections=row.sections, rated=row.rated, base_total=Decimal(row.base_total),
                   deal_total=Decimal(row.deal_total), no_base_deal_total=Decimal(row.no_base_deal),
                   mean_decline_rate=ratio(row.mean_decline),
                   mean_bidders=None if row.mean_bidders is None else Decimal(repr(float(row.mean_bidders)))
                   .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                   failed=row.failed, label=label)


def totals(slice_: Slice, from_rollup: bool = False) -> Figures:
    """The figures of the whole slice (all zero, with rates None, when it holds no section)."""
    return _figures(_run(statement(slice_, from_rollup=from_rollup)).one())


def by(dimension: str, slice_: Slice, limit: int | None = None, from_rollup: bool = False) -> list[Figures]:
    """One Figures per group of ``dimension`` holding an awarded or failed section, with its label: all
    in the order of their keys, or the ``limit`` groups with the most awarded sections."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    label = _labeller(dimension, slice_.period)
    return [_figures(row, row.key, label(row, row.key)) for row in _run(statement(slice_, dimension, limit, from_rollup))]


def merged(slice_: Slice, limits: dict, from_rollup: bool = False) -> tuple[Figures, dict[str, list[Figures]], datetime | None]:
    """The totals and every table from one statement: what ``totals`` and ``by`` give; and, from
    the rollup, when it last took in the journal (None: it is not built yet, and the figures are empty)."""
    dialect = db.session.get_bind().dialect.name
    groups = {set_number(list(MERGED), d): d for d in (None, *MERGED)} | {UNIT_SET: "unit"}
    labellers = {d: _labeller(d, slice_.period) for d in (*MERGED, "unit")}
    total, tables = None, {d: [] for d in (*MERGED, "unit")}
    for row in _run(merged_statement(slice_, from_rollup, dialect, limits.get("unit"))):
        dimension = groups[row.grouping_set]
        if dimension is None:
            total, as_of = _figures(row), row.as_of if from_rollup else None
        else:
            key = getattr(row, dimension)
            tables[dimension].append(_figures(row, key, labellers[dimension](row, key)))
    for dimension, limit in limits.items():
        if limit is not None and dimension in tables:  # the busiest first, as ``statement`` orders them
            tables[dimension] = sorted(tables[dimension], key=lambda f: (-f.sections, f.key is None, f.key or ""))[:limit]
    return total, tables, as_of


def _labeller(dimension: str, period: str):
    """What a person reads for a row's key: a period, a category or method name, a region's code and name or
    a unit's name (joined by the statement, see ``_with_names``)."""
    from flask_babel import get_locale
    if dimension == "period":
        return lambda row, key: period_label(period, key)
    if dimension == "category":
        return lambda row, key: str(CATEGORIES.get(key, key))
    if dimension == "method":
        return lambda row, key: str(METHODS.get(key, key))
    chinese = str(get_locale() or "zh").startswith("zh")
    if dimension == "region":
        return lambda row, key: f"{key} {(row.region_zh if chinese else row.region_en) or ''}".strip()
    return lambda row, key: row.unit_name or key


def no_base_sections(slice_: Slice, limit: int | None = NO_BASE_LISTED) -> list:
    """The awarded sections of the slice without a base, newest award first (``limit`` None: all of them):
    counted, outside both rates. Rows of the columns the page and the exports show."""
    return list(_run(no_base_statement(slice_, limit)))


@lru_cache(maxsize=STATEMENTS_KEPT)
def no_base_statement(slice_: Slice, limit: int | None):
    stmt = _where(select(Section.code, Section.name, Section.category, Section.region_code, Section.method,
                         Section.deal_amount, Section.award_date), slice_, joined=False).where(NO_BASE)
    return stmt.order_by(Section.award_date.desc(), Section.id.desc()).limit(limit)


# The mall, beside the tender figures: settled orders, in the period of their settlement (Asia/Shanghai).
# Category, region and method are the tender's and do not slice the mall.

@lru_cache(maxsize=STATEMENTS_KEPT)
def mall_statement(slice_: Slice, dialect: str):
    """The mall's totals and its table by period in one SELECT (see ``grouping_sets``)."""
    key = period_key(slice_.period, shanghai_time(Order.settled_at))
    stmt = select(func.count(Order.id).label("orders"),
                  func.coalesce(func.sum(Order.reference_total), 0).label("reference_total"),
                  func.coalesce(func.sum(Order.savings), 0).label("savings")) \
        .where(Order.status.in_(MALL_SETTLED), Order.settled_at.is_not(None), Order.reference_total > 0)
    if slice_.start:
        stmt = stmt.where(Order.settled_at >= local_day_start(slice_.start))
    if slice_.end:
        stmt = stmt.where(Order.settled_at < local_day_start(slice_.end + timedelta(days=1)))
    if slice_.unit:
        stmt = stmt.where(Order.unit_id.in_(select(Organisation.id).where(Organisation.credit_code == slice_.unit)))
    return grouping_sets(stmt, {"key": key}, dialect).order_by(literal_column("grouping_set"), literal_column("key"))


def mall(slice_: Slice) -> tuple[MallFigures, list[MallFigures]]:
    total, periods = None, []
    for row in _run(mall_statement(slice_, db.session.get_bind().dialect.name)):
        figures = MallFigures(key=row.key, orders=row.orders, reference_total=Decimal(row.reference_total),
                              savings=Decimal(row.savings))
        if row.grouping_set == set_number(["key"], None):
            total = figures
        else:
            figures.label = period_label(slice_.period, row.key)
            periods.append(figures)
    return total, periods


def report(slice_: Slice, limits: dict | None = None, no_base_listed: int | None = NO_BASE_LISTED) -> Report:
    """Everything the dashboard shows for a slice: totals, a table per dimension (``limits``: at most so
    many groups of a dimension), the sections without a base (the newest ``no_base_listed``, None: all), and
    the mall's savings over the same dates and unit. The figures come from the monthly rollup when the dates
    are whole months and the rollup has been built, from the sections otherwise (the list of sections
    without a base always from the sections). Three statements: the totals, every table and the rollup's
    time; the mall; and the list when there is one (before the rollup is first built, the first statement
    runs again over the sections)."""
    limits = limits or {}
    as_of = None
    if whole_months(slice_):
        total, tables, as_of = merged(slice_, limits, from_rollup=True)
    if as_of is None:
        total, tables, _as_of = merged(slice_, limits)
    result = Report(slice=slice_, total=total, tables={d: tables[d] for d in DIMENSIONS},
                    as_of=as_of)
    result.no_base_sections = no_base_sections(slice_, no_base_listed) if result.total.no_base else []
    result.mall_total, result.mall_periods = mall(slice_)
    return result


def parse_slice(args) -> Slice:
    """A Slice from query arguments; a bad value is a 400 with a reason, never a 500."""
    period = args.get("period", "quarter") or "quarter"
    if period not in PERIOD_KINDS:
        raise DomainError("period_unknown", _("Choose the period: month, quarter, half-year or year."), 400)
    days = {}
    for name in ("start", "end"):
        raw = (args.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise DomainError("date_invalid", _("%(value)s is not a date like 2025-06-30.", value=raw[:40]), 400) from None
    if days["start"] and days["end"] and days["start"] > days["end"]:
        raise DomainError("dates_reversed", _("The start date is after the end date."), 400)
    category, method = (args.get("category") or "").strip(), (args.get("method") or "").strip()
    if category and category not in CATEGORIES:
        raise DomainError("category_unknown", _("Choose a category from the list."), 400)
    if method and method not in METHODS:
        raise DomainError("method_unknown", _("Choose a procurement method from the list."), 400)
    region, unit = (args.get("region") or "").strip(), (args.get("unit") or "").strip().upper()
    if region and not (region.isdigit() and len(region) == 6):
        raise DomainError("region_invalid", _("A region is a six-digit administrative division code."), 400)
    if unit and (len(unit) != 18 or not unit.isalnum()):
        raise DomainError("unit_invalid", _("A procuring unit is named by its 18-character unified social credit "
                                            "code."), 400)
    return Slice(period=period, start=days["start"], end=days["end"], category=category, region=region,
                 method=method, unit=unit)

