"""Mall benchmark on PostgreSQL.

1. Search: a catalogue of N approved listings; queries with one- and two-character Chinese terms, longer
   Chinese words and Latin words, each run through the platform (mall.search.search: the capped count and
   the first page of results, through SQLAlchemy) against the floor: the same two statements as bare SQL
   through psycopg on one connection. p50 and p95 of each; target p95 ≤ 50 ms and ratio (p95) ≤ 2.
2. Orders: C concurrent clients placing orders over HTTP (POST /api/v1/mall/orders, an Idempotency-Key
   each) on 10 hot listings, against the floor: the same clients calling a bare authenticated route
   (GET /api/v1/me) on the same gunicorn server; each best of three once every worker thread has served
   both routes. Target ratio (wall time) ≤ 4.

Ends with one JSON line; ratio is the worse of the two ratios.
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # listings, search queries, clients, orders per client
    "small": (20_000, 100, 16, 5),
    "medium": (200_000, 300, 64, 10),
    "full": (1_000_000, 500, 64, 20),
}
WORDS = ["办公椅", "办公桌", "文件柜", "打印机", "复印纸", "中性笔", "笔记本电脑", "显示器", "投影仪", "碎纸机",
         "订书机", "硒鼓", "墨盒", "路由器", "交换机", "空调", "饮水机", "保险柜", "会议桌", "沙发", "扫描仪",
         "台式电脑", "移动硬盘", "U盘", "鼠标", "键盘", "白板", "档案盒", "计算器", "电话机"]
BRANDS = ["得力", "晨光", "齐心", "联想", "惠普", "戴尔", "华为", "海尔", "格力", "美的", "Lenovo", "HP", "Dell",
          "Canon", "Epson", "Brother", "Philips", "Logitech"]
SPECS = ["黑色", "白色", "A4", "A3", "钢制", "实木", "人体工学", "双面打印", "无线", "USB3.0", "16GB", "512GB",
         "高速", "静音", "节能", "大容量", "三年保修", "含税含运"]
QUERIES = ["笔", "椅", "桌", "纸", "柜", "办公", "打印", "电脑", "硒鼓", "复印纸", "笔记本电脑", "办公椅 黑色",
           "lenovo", "hp", "usb3", "16gb", "canon", "文件柜 钢制"]


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _app(url):
    os.environ.setdefault("INSTANCE_PATH", str(ROOT / "instance" / "bench"))
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def _fill(app, url: str, count: int) -> dict:
    """The demo world, then ``count`` approved listings written with COPY (their tokens made by the
    platform's own tokeniser), then ANALYZE."""
    import psycopg

    from accounts import demo
    from core import clock
    from core.extensions import db
    from mall import demo as mall_demo, search
    from mall.models import BudgetLine, Listing
    with app.app_context():
        users = {u.username: u for u in demo.load(clock.now())}
        mall_demo.load(clock.now())
        db.session.commit()
        supplier_ids = sorted({users["supplier"].organisation_id,
                               db.session.scalar(db.select(Listing.supplier_id).where(Listing.brand == "Lenovo"))})
        line = db.session.scalar(db.select(BudgetLine).where(BudgetLine.unit_id == users["procuring"].organisation_id))
        ids = {"procuring": users["procuring"].id, "line": line.id}
    rng = random.Random(7)
    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    with psycopg.connect(_pg(url)) as conn:
        with conn.cursor().copy("COPY mall_listing (supplier_id, category, name, brand, model, product_key, "
                                "specifications, unit, price, stock, status, search_text, created_at, updated_at, "
                                "status_reason) FROM STDIN") as copy:
            for i in range(count):
                word, brand = rng.choice(WORDS), rng.choice(BRANDS)
                model = f"{brand[:2].upper()}-{rng.randrange(100, 9999)}"
                name = f"{brand} {word} {rng.choice(SPECS)}"
                specs = " ".join(rng.sample(SPECS, 3))
                text = " ".join(search.tokens(" ".join([name, brand, model, specs])))
                copy.write_row((supplier_ids[i % len(supplier_ids)], "office_supplies", name, brand, model,
                                f"{brand.lower()}|{model.lower()}", specs, "件",
                                Decimal(rng.randrange(500, 900000)) / 100, 1000, "approved", text, now, now, ""))
        conn.execute("UPDATE mall_listing SET stock = 1000000000 WHERE id IN "
                     "(SELECT id FROM mall_listing ORDER BY id DESC LIMIT 10)")
        conn.execute("INSERT INTO mall_listing_region (listing_id, region_code) "
                     "SELECT id, '320000' FROM mall_listing ORDER BY id DESC LIMIT 10")
        conn.execute("UPDATE mall_budget_line SET amount = 999999999999 WHERE id = %s", (ids["line"],))
        conn.execute("INSERT INTO setting (key, value, effective_from, changed_at, reason) "
                     "VALUES ('mall.direct_purchase_limit', '999999999999', now() - interval '1 day', now(), 'bench')")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
        ids["hot"] = [row[0] for row in conn.execute("SELECT id FROM mall_listing ORDER BY id DESC LIMIT 10")]
    return ids


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _search(app, url: str, queries: int) -> dict:
    import psycopg

    from core.extensions import db
    from mall import search
    terms = [QUERIES[i % len(QUERIES)] for i in range(queries)]
    platform, floor = [], []
    with app.app_context():
        for term in terms[:20]:  # warm both sides
            search.search(search.Query(q=term))
        db.session.commit()
        for term in terms:
            start = time.perf_counter()
            search.search(search.Query(q=term))
            db.session.commit()
            platform.append(time.perf_counter() - start)
    # The statements the platform sends (mall/search.py), the text query written in as it writes it, with
    # the same plan settings (mall.search.TEXT_QUERY_PLAN, and COMMON_PAGE_PLAN for a common query's page).
    count_sql = ("SELECT count(*) FROM (SELECT id FROM mall_listing WHERE status = 'approved' "
                 "AND search_vector @@ '{q}'::tsquery LIMIT 1001) AS capped")
    page_sql = ("SELECT * FROM mall_listing WHERE status = 'approved' AND search_vector @@ '{q}'::tsquery "
                "ORDER BY updated_at DESC, id DESC LIMIT 20")
    with psycopg.connect(_pg(url)) as conn:
        for term in terms[:20] + terms:
            query = " & ".join(search._quote_tsquery(t) for t in search.tokens(term, for_query=True))
            query = query.replace("'", "''")
            start = time.perf_counter()
            conn.execute("SET LOCAL enable_seqscan = off")
            common = conn.execute(count_sql.format(q=query)).fetchone()[0] > search.COUNT_CAP
            if common:
                conn.execute("SELECT " + ", ".join(f"set_config('{name}', '{value}', true)"
                                                   for name, value in search.COMMON_PAGE_PLAN.items()))
            conn.execute(page_sql.format(q=query)).fetchall()
            conn.commit()
            floor.append(time.perf_counter() - start)
        floor = floor[20:]
    return {"search_p50_ms": round(statistics.median(platform) * 1000, 2),
            "search_p95_ms": round(_percentile(platform, 95) * 1000, 2),
            "search_floor_p50_ms": round(statistics.median(floor) * 1000, 2),
            "search_floor_p95_ms": round(_percentile(floor, 95) * 1000, 2)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clients(base: str, token: str, clients: int, each: int, request_for) -> float:
    """Wall time for ``clients`` threads making ``each`` requests apiece (errors raise)."""
    barrier, failures, spans = threading.Barrier(clients), [], []

    def run(client: int):
        barrier.wait()
        start = time.perf_counter()
        for i in range(each):
            method, path, body, headers = request_for(client, i)
            request = urllib.request.Request(base + path, data=body, method=method,
                                             headers={"Authorization": f"Bearer {token}", **headers})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(repr(error))
        spans.append((start, time.perf_counter()))

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _orders(app, url: str, ids: dict, clients: int, each: int) -> dict:
    from accounts import tokens
    from accounts.models import User
    from core import clock
    from core.extensions import db
    with app.app_context():
        _token, secret = tokens.create(db.session.get(User, ids["procuring"]), "bench", 1, clock.now())
        db.session.commit()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": os.environ["INSTANCE_PATH"]}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "8", "--bind",
                               f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        hot, run = ids["hot"], str(time.time())

        def orders(attempt: int):
            """Each run's orders have keys of their own: a new order each, never a replay."""
            def order(client, i):
                body = json.dumps({"budget_line_id": ids["line"], "delivery_region": "320102",
                                   "delivery_address": "南京市", "lines": [{"listing_id": hot[(client + i) % len(hot)],
                                                                         "quantity": 1}]}).encode()
                return "POST", "/api/v1/mall/orders", body, {"Content-Type": "application/json",
                                                            "Idempotency-Key": f"{run}-{attempt}-{client}-{i}"}
            return order

        def me(client, i):
            return "GET", "/api/v1/me", None, {}

        # Every worker thread warmed on both routes (connections, compiled statements), then best of three.
        _clients(base, secret, clients, 2, me)
        _clients(base, secret, clients, 1, orders(0))
        floor = min(_clients(base, secret, clients, each, me) for _ in range(3))
        platform = min(_clients(base, secret, clients, each, orders(attempt)) for attempt in range(1, 4))
    finally:
        server.terminate()
        server.wait(timeout=20)
    import psycopg
    with psycopg.connect(_pg(url)) as conn:
        placed = conn.execute("SELECT count(*) FROM mall_order").fetchone()[0]
    if placed != clients * (1 + 3 * each):  # the warm-up's and three runs'
        raise SystemExit(f"{placed} orders placed, expected {clients * (1 + 3 * each)}")
    total = clients * each
    return {"orders": total, "orders_platform_s": round(platform, 3), "orders_floor_s": round(floor, 3),
            "orders_per_s": round(total / platform, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small",
                        help="; ".join(f"{k}: {n:,} listings, {q} queries, {c} clients x {e} orders"
                                       for k, (n, q, c, e) in SIZES.items()))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server; the benchmark makes and drops a database of its own there")
    args = parser.parse_args()
    count, queries, clients, each = SIZES[args.size]

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = make_url(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ppt_mall_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        app = _app(url)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        ids = _fill(app, url, count)
        figures = {"size": args.size, "listings": count, "queries": queries, **_search(app, url, queries),
                   "clients": clients, **_orders(app, url, ids, clients, each)}
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    search_ratio = figures["search_p95_ms"] / figures["search_floor_p95_ms"]
    order_ratio = figures["orders_platform_s"] / figures["orders_floor_s"]
    figures["search_ratio"], figures["orders_ratio"] = round(search_ratio, 3), round(order_ratio, 3)
    for key, value in figures.items():
        print(f"{key:22} {value}")
    print(json.dumps({"bench": "mall", "figures": figures,
                      "floor": "search: the same SQL through psycopg; orders: GET /api/v1/me on the same server",
                      "ratio": round(max(search_ratio, order_ratio), 3),
                      "target": "search p95 <= 50 ms and search_ratio <= 2; orders_ratio <= 4"}))


if __name__ == "__main__":
    main()
