"""Statistics benchmark on PostgreSQL.

N historical sections (imported history: awarded, about 5% failed, 2% with a zero base, award dates over
ten years, 500 procuring units, the districts of Nanjing) are inserted with one INSERT … SELECT from
generate_series each for projects and sections, then VACUUM ANALYZE; then the monthly rollup is built
(supervision.rollup.rebuild, as `flask supervision rebuild-statistics` does) and its time reported.

1. Queries: the dashboard's statements (supervision.statistics.report: the totals, a table per period,
   category, region, method and procuring unit, the sections without a base, the mall beside them) through
   SQLAlchemy, against the floor: the same aggregations over the same data source written by hand as bare
   SQL through psycopg on one connection. The dashboard reads the rollup for whole months, so the floor
   sums the rollup's rows too, in the page's statements: one statement for the totals and the tables by
   period, category, method and region (GROUPING SETS) followed by the units' table (UNION ALL, from the
   year × unit rows), the names of regions and units joined, and the rollup's time (the page's "Figures as
   of", which also tells it that the rollup is built); the newest 20 sections without a base (from the
   sections, as the page does); the mall's totals and periods in one GROUPING SETS statement. The floor runs the page's SQL
   statement for statement (where the page merges statements, so does the floor), so the ratio says what
   SQLAlchemy and the app's Python add, not what merging saved (that shows in both times). Each side best
   of three, for the whole history and for one year. Target ratio ≤ 1.5. For information, the same
   aggregations over the raw sections, a statement per table (what the page read before the rollup, and
   still reads for dates that are not whole months).
2. The page: GET /supervision/statistics as a signed-in supervisor through the app, R requests each: the
   whole history by quarter and one year by month (both from the rollup; target p95 ≤ 300 ms), and, for
   information, fewer requests of a slice filtered by category (the units' table then reads the full-key
   rows) and of dates that are not whole months (computed from the sections).

Ends with one JSON line; ratio is the worse of the two query ratios.
"""
import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # sections, page requests
    "small": (20_000, 30),
    "medium": (200_000, 30),
    "full": (1_000_000, 30),
}
INFO_REQUESTS = 5  # the pages measured for information only
METHODS = ["open", "invited", "competitive_negotiation", "competitive_consultation", "inquiry", "single_source"]


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _app(url):
    os.environ.setdefault("INSTANCE_PATH", str(ROOT / "instance" / "bench"))
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})


def _fill(app, url: str, count: int) -> None:
    import psycopg

    from accounts import demo, regions
    from core import clock
    from core.extensions import db
    with app.app_context():
        regions.load()
        demo.load(clock.now())
        db.session.commit()
    with psycopg.connect(_pg(url)) as conn:
        districts = [r[0] for r in conn.execute("SELECT code FROM region WHERE code LIKE '3201%' AND code <> '320100' "
                                                "ORDER BY code")]
        projects = (count + 3) // 4
        conn.execute(
            "INSERT INTO project (id, code, name, procuring_credit_code, region_code, category, green_channel, "
            "green_channel_reason, sealing_suite, status, historical, created_at) "
            "SELECT g, 'HP' || g, '历史项目 ' || g, '1232010046' || lpad((g %% 500)::text, 8, '0'), "
            "(%(districts)s::text[])[g %% %(n)s + 1], 'works', false, '', 'x25519', 'accepted', true, now() "
            "FROM generate_series(1, %(projects)s) g",
            {"districts": districts, "n": len(districts), "projects": projects})
        conn.execute("SELECT setval(pg_get_serial_sequence('project', 'id'), %s)", (projects,))
        conn.execute(
            "INSERT INTO section (project_id, code, name, category, region_code, method, base_amount, "
            "guarantee_amount, bid_validity_days, evaluation_method, status, round, failure_reason, deal_amount, "
            "award_date, bidder_count, bid_sequence) "
            "SELECT (g - 1) / 4 + 1, 'HS' || g, '历史标段 ' || g, (ARRAY['works','procurement','other'])[g %% 3 + 1], "
            "(%(districts)s::text[])[g %% %(n)s + 1], (%(methods)s::text[])[g %% 6 + 1], "
            "CASE WHEN g %% 50 = 0 THEN 0 ELSE b.base END, 0, 90, 'lowest_price', "
            "CASE WHEN g %% 20 = 0 THEN 'failed' ELSE 'awarded' END, 1, '', "
            "CASE WHEN g %% 20 = 0 THEN NULL ELSE round(b.base * (0.80 + (g %% 197) / 1000.0), 2) END, "
            "date '2016-01-01' + CAST(g::bigint * 7919 %% 3653 AS integer), CASE WHEN g %% 11 = 0 THEN NULL ELSE g %% 9 + 1 END, 0 "
            "FROM generate_series(1, %(count)s) g, "
            "LATERAL (SELECT round((10000 + (g::bigint * 104729 %% 50000000))::numeric, 2) AS base) b",
            {"districts": districts, "n": len(districts), "methods": METHODS, "count": count})
        conn.commit()
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE project")
        conn.execute("VACUUM ANALYZE section")


# The floor: the dashboard's aggregations written by hand.
AWARDED = "(s.status IN ('awarded', 'contracted') AND s.deal_amount IS NOT NULL AND s.award_date IS NOT NULL)"
RATED = f"({AWARDED} AND s.base_amount > 0)"
NO_BASE = f"({AWARDED} AND (s.base_amount IS NULL OR s.base_amount <= 0))"
FAILED = "(s.status = 'failed' AND s.award_date IS NOT NULL)"
FIGURES = (f"count(CASE WHEN {AWARDED} THEN 1 END), count(CASE WHEN {RATED} THEN 1 END), "
           f"coalesce(sum(CASE WHEN {RATED} THEN s.base_amount END), 0), "
           f"coalesce(sum(CASE WHEN {RATED} THEN s.deal_amount END), 0), "
           f"coalesce(sum(CASE WHEN {NO_BASE} THEN s.deal_amount END), 0), "
           f"avg(CASE WHEN {RATED} THEN CAST(s.base_amount - s.deal_amount AS float8) / CAST(s.base_amount AS float8) END), "
           f"avg(CASE WHEN {AWARDED} THEN CAST(s.bidder_count AS float8) END), count(CASE WHEN {FAILED} THEN 1 END)")
QUARTER = ("CAST(EXTRACT(year FROM s.award_date) AS integer) * 10 "
           "+ (CAST(EXTRACT(month FROM s.award_date) AS integer) + 2) / 3")
# The rollup's rows (supervision/rollup.py): grain 1 month × category × region × method, grain 2 month × unit.
ROLLUP_FIGURES = ("coalesce(sum(r.sections), 0), coalesce(sum(r.rated), 0), coalesce(sum(r.base_total), 0), "
                  "coalesce(sum(r.deal_total), 0), coalesce(sum(r.no_base_deal), 0), "
                  "sum(r.decline_sum) / nullif(sum(r.rated), 0), "
                  "CAST(sum(r.bidder_sum) AS float8) / nullif(sum(r.bidder_known), 0), coalesce(sum(r.failed), 0)")
ROLLUP_QUARTER = "r.month / 100 * 10 + (mod(r.month, 100) + 2) / 3"


def _floor_statements(start: date | None, end: date | None, source: str) -> list[tuple[str, dict]]:
    """The page's statements by hand, over the rollup (``source`` "rollup") or the raw sections. Over the
    rollup, as the page does: one statement for the totals and the tables by period, category, method and
    region (GROUPING SETS; the 30 busiest regions are picked from its rows), and the units' table from the
    year × unit rows (both slices measured are whole years). Over the sections (information): a statement
    per table, as before the rollup."""
    where = f"({AWARDED} OR {FAILED})"
    params = {}
    if start:
        where += " AND s.award_date >= %(start)s AND s.award_date <= %(end)s"
        params = {"start": start, "end": end}
    if source == "rollup":
        months = " AND r.month BETWEEN %(first)s AND %(last)s" if start else ""
        years = " AND r.month BETWEEN %(first_year)s AND %(last_year)s" if start else ""
        params = {**params, "first": start.year * 100 + start.month, "last": end.year * 100 + end.month,
                  "first_year": start.year * 100, "last_year": end.year * 100} if start else {}
        keys = f"{ROLLUP_QUARTER}, r.category, r.method, r.region_code"
        as_of = "(SELECT refreshed_at FROM statistics_state WHERE id = 1) AS as_of"  # the page's "Figures as of"
        grouped = [f"SELECT m.*, g.name_zh, g.name_en, o.name FROM (SELECT {ROLLUP_FIGURES}, {as_of}, "
                   f"{ROLLUP_QUARTER} AS period, r.category AS category, r.method AS method, r.region_code AS region, "
                   f"NULL AS unit, GROUPING({keys}) AS grouping_set FROM statistics_month r WHERE r.grain = 1{months} "
                   f"GROUP BY GROUPING SETS ((), ({ROLLUP_QUARTER}), (r.category), (r.method), (r.region_code)) "
                   f"UNION ALL SELECT * FROM (SELECT {ROLLUP_FIGURES}, {as_of}, CAST(NULL AS integer), NULL, NULL, "
                   f"NULL, r.unit_code, 16 FROM statistics_month r WHERE r.grain = 3{years} GROUP BY r.unit_code "
                   "ORDER BY 1 DESC, r.unit_code LIMIT 30) u) m "
                   "LEFT JOIN region g ON g.code = m.region LEFT JOIN organisation o ON o.credit_code = m.unit "
                   "ORDER BY m.grouping_set, m.period, m.category, m.method, m.region, m.unit"]
    else:
        grouped = [f"SELECT {FIGURES} FROM section s WHERE {where}",
                   f"SELECT {QUARTER} AS key, {FIGURES} FROM section s WHERE {where} GROUP BY key ORDER BY key"]
        for column in ("s.category", "s.method"):
            grouped.append(f"SELECT {column} AS key, {FIGURES} FROM section s WHERE {where} GROUP BY key ORDER BY key")
        grouped.append(f"SELECT s.region_code AS key, {FIGURES} FROM section s WHERE {where} GROUP BY key "
                       f"ORDER BY 2 DESC, key LIMIT 30")
        grouped.append(f"SELECT p.procuring_credit_code AS key, {FIGURES} FROM section s "
                       f"JOIN project p ON p.id = s.project_id WHERE {where} GROUP BY key ORDER BY 2 DESC, key LIMIT 30")
    grouped.append(f"SELECT s.id, s.code, s.name, s.category, s.region_code, s.method, s.deal_amount, s.award_date "
                   f"FROM section s WHERE {where} AND {NO_BASE} ORDER BY s.award_date DESC, s.id DESC LIMIT 20")
    quarter = ("CAST(EXTRACT(year FROM (o.settled_at AT TIME ZONE 'Asia/Shanghai')) AS integer) * 10 + "
               "(CAST(EXTRACT(month FROM (o.settled_at AT TIME ZONE 'Asia/Shanghai')) AS integer) + 2) / 3")
    settled = (" AND o.settled_at >= %(start)s::timestamp AT TIME ZONE 'Asia/Shanghai' AND o.settled_at < "
               "(%(end)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'") if start else ""
    grouped.append(f"SELECT count(o.id), coalesce(sum(o.reference_total), 0), coalesce(sum(o.savings), 0), "
                   f"{quarter} AS key, GROUPING({quarter}) AS grouping_set FROM mall_order o "
                   "WHERE o.status IN ('settled', 'half_rated', 'rated') AND o.settled_at IS NOT NULL "
                   f"AND o.reference_total > 0{settled} GROUP BY GROUPING SETS ((), ({quarter})) "
                   "ORDER BY grouping_set, key")
    return [(sql, params) for sql in grouped]


def _floor(url: str, start, end, source: str) -> float:
    """The hand-written aggregations, and the names of the regions and units of the tables (the page
    shows names, not codes)."""
    import psycopg
    statements = _floor_statements(start, end, source)
    with psycopg.connect(_pg(url)) as conn:
        best = None
        for _ in range(3):
            began = time.perf_counter()
            for i, (sql, params) in enumerate(statements):
                rows = conn.execute(sql, params).fetchall()
                if source == "rollup":  # the names are joined; the region rows (set 14): the 30 busiest
                    if i == 0:
                        sorted((r for r in rows if r[14] == 14), key=lambda r: (-r[0], r[12]))[:30]
                    continue
                if i == 4:
                    conn.execute("SELECT code, name_zh FROM region WHERE code = ANY(%s)", ([r[0] for r in rows],)).fetchall()
                if i == 5:
                    conn.execute("SELECT credit_code, name FROM organisation WHERE credit_code = ANY(%s)",
                                 ([r[0] for r in rows],)).fetchall()
            conn.commit()
            elapsed = time.perf_counter() - began
            best = elapsed if best is None else min(best, elapsed)
    return best


def _rebuild(app, url) -> tuple[float, int]:
    """The rollup from nothing, as `flask supervision rebuild-statistics` does; then ANALYZE."""
    import psycopg

    from core import clock
    from core.extensions import db
    from supervision import rollup
    with app.app_context():
        began = time.perf_counter()
        rows = rollup.rebuild(clock.now())
        db.session.commit()
        elapsed = time.perf_counter() - began
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE statistics_month")
    return round(elapsed, 1), rows


def _platform(app, start, end) -> tuple[float, object]:
    from core.extensions import db
    from supervision import statistics
    from supervision.statistics_views import PAGE_LIMITS
    slice_ = statistics.Slice(period="quarter", start=start, end=end)
    best, result = None, None
    with app.test_request_context():
        for _ in range(3):
            began = time.perf_counter()
            result = statistics.report(slice_, PAGE_LIMITS)
            db.session.commit()
            elapsed = time.perf_counter() - began
            best = elapsed if best is None else min(best, elapsed)
    return best, result


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _supervisor(app):
    """A client signed in as the demo supervisor, through the sign-in pages."""
    from accounts.auth import current_code
    from accounts.demo import USERS
    from core import clock
    client = app.test_client()
    client.post("/login", data={"username": "supervisor", "password": "demo-pass-2026"})
    secret = {u[0]: u[4] for u in USERS}["supervisor"]
    answer = client.post("/login/code", data={"code": current_code(secret, clock.now())})
    assert answer.status_code == 302, answer.status_code
    return client


def _page(client, requests: int, query: str) -> dict:
    assert client.get(f"/supervision/statistics?{query}").status_code == 200  # warm
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(f"/supervision/statistics?{query}")
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    return {"p50_ms": round(_percentile(times, 50) * 1000, 1), "p95_ms": round(_percentile(times, 95) * 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small",
                        help="; ".join(f"{k}: {n:,} historical sections, {r} page requests"
                                       for k, (n, r) in SIZES.items()))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server; the benchmark makes and drops a database of its own there")
    args = parser.parse_args()
    count, requests = SIZES[args.size]

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = make_url(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ppt_stats_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - say why, instead of a traceback
        raise SystemExit(f"bench/stats.py needs PostgreSQL ({args.database_url}): {error}") from None
    url = base.set(database=name).render_as_string(hide_password=False)
    figures = {"size": args.size, "sections": count}
    try:
        app = _app(url)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        began = time.perf_counter()
        _fill(app, url, count)
        figures["fill_s"] = round(time.perf_counter() - began, 1)
        figures["rollup_rebuild_s"], figures["rollup_rows"] = _rebuild(app, url)
        for label, start, end in (("all", None, None), ("year", date(2024, 1, 1), date(2024, 12, 31))):
            platform, report = _platform(app, start, end)
            assert report.as_of is not None, "the dashboard did not read the rollup"
            floor = _floor(url, start, end, "rollup")
            figures[f"queries_{label}_platform_ms"] = round(platform * 1000, 1)
            figures[f"queries_{label}_floor_ms"] = round(floor * 1000, 1)
            figures[f"queries_{label}_ratio"] = round(platform / floor, 3)
            figures[f"queries_{label}_raw_sections_floor_ms"] = round(_floor(url, start, end, "sections") * 1000, 1)
            figures[f"{label}_awarded_sections"] = report.total.sections
        client = _supervisor(app)
        page = _page(client, requests, "period=quarter")
        figures.update({"page_requests": requests, "page_p50_ms": page["p50_ms"], "page_p95_ms": page["p95_ms"]})
        year = _page(client, requests, "period=month&start=2024-01-01&end=2024-12-31")
        figures.update({"page_year_p50_ms": year["p50_ms"], "page_year_p95_ms": year["p95_ms"]})
        filtered = _page(client, INFO_REQUESTS, "period=quarter&category=works")
        figures.update({"page_category_p95_ms": filtered["p95_ms"]})
        partial = _page(client, INFO_REQUESTS, "period=month&start=2024-01-02&end=2024-12-31")
        figures.update({"page_not_whole_months_p95_ms": partial["p95_ms"]})
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    ratio = max(figures["queries_all_ratio"], figures["queries_year_ratio"])
    for key, value in figures.items():
        print(f"{key:28} {value}")
    print(json.dumps({"bench": "stats", "figures": figures,
                      "floor": "the same aggregations as hand-written SQL through psycopg",
                      "ratio": round(ratio, 3), "target": "queries ratio <= 1.5; page p95 <= 300 ms"}))


if __name__ == "__main__":
    main()
