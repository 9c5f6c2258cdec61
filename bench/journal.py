"""Journal benchmark on PostgreSQL.

1. Appends: W concurrent writer processes, each entry in its own transaction, through the platform
   (journal.record + commit: canonical body, head lock, chaining) against the floor: the same writers
   inserting the same rows without chaining, in bare SQL (psycopg, one INSERT and COMMIT per row).
2. Verification: journal.verify() over N entries against the floor: reading the same rows and hashing
   their stored bodies with hashlib.

Each side is timed best of three. Prints the figures and ends with one JSON line; ratio is the worse of
the two platform ÷ floor ratios (targets: both ≤ 2, and appends ≥ 1,000 entries/s).
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # writers, entries per writer, entries verified
    "small": (16, 20, 5_000),
    "medium": (16, 200, 100_000),
    "full": (16, 500, 1_000_000),
}


def _app(url):
    os.environ.setdefault("INSTANCE_PATH", str(ROOT / "instance" / "bench"))
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def _platform_writer(url, writer, count, barrier, times):
    from core import clock, journal
    from core.extensions import db
    app = _app(url)
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        barrier.wait()
        start = time.perf_counter()
        for i in range(count):
            journal.record("bench.append", "writer", writer, {"i": i, "amount": "1234.50"}, now=clock.now())
            db.session.commit()
        times.put((start, time.perf_counter()))


def _floor_writer(url, writer, count, barrier, times):
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        barrier.wait()
        start = time.perf_counter()
        for i in range(count):
            body = json.dumps({"i": i, "writer": writer, "amount": "1234.50", "pad": "x" * 200})
            conn.execute("INSERT INTO bench_floor (recorded_at, actor_id, organisation_id, ip_address, user_agent, "
                         "action, subject_type, subject_id, payload, body, prev_hash, hash) VALUES "
                         "(now(), NULL, NULL, '', 'task', 'bench.append', 'writer', %s, %s, %s, '', %s)",
                         (str(writer), body, body, hashlib.sha256(body.encode()).hexdigest()))
            conn.commit()
        times.put((start, time.perf_counter()))


def _run_writers(target, url, writers, count) -> float:
    """Wall time from the first writer's start to the last writer's end (perf_counter is system-wide on
    Linux), so that starting and stopping the processes is not counted."""
    ctx = mp.get_context("spawn")
    barrier, times = ctx.Barrier(writers), ctx.Queue()
    processes = [ctx.Process(target=target, args=(url, w, count, barrier, times)) for w in range(writers)]
    for p in processes:
        p.start()
    spans = [times.get(timeout=600) for _ in processes]
    for p in processes:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a writer failed ({target.__name__})")
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _reset(url):
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("TRUNCATE journal_entry, journal_checkpoint")
        conn.execute("UPDATE journal_head SET seq = 0, hash = %s", ("0" * 64,))
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        # The floor's table is the journal's own shape, indexes included, numbered by a plain sequence.
        conn.execute("CREATE TABLE bench_floor (LIKE journal_entry INCLUDING ALL)")
        conn.execute("CREATE SEQUENCE bench_floor_seq OWNED BY bench_floor.seq")
        conn.execute("ALTER TABLE bench_floor ALTER COLUMN seq SET DEFAULT nextval('bench_floor_seq')")


def _fill(url, count):
    """Write ``count`` chained entries quickly (COPY), as the platform would have written them."""
    import psycopg

    from core.crypto.canonical import canonical
    prev, now = "0" * 64, time.time()
    from datetime import datetime, timezone
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("TRUNCATE journal_entry, journal_checkpoint")
        with conn.cursor().copy("COPY journal_entry (seq, recorded_at, actor_id, organisation_id, ip_address, "
                                "user_agent, action, subject_type, subject_id, payload, body, prev_hash, hash) "
                                "FROM STDIN") as copy:
            for seq in range(1, count + 1):
                moment = datetime.fromtimestamp(now + seq / 1000, timezone.utc)
                payload = {"i": seq, "amount": "1234.50"}
                body = canonical({"seq": seq, "time": moment.isoformat(timespec="microseconds"), "actor": 7,
                                  "organisation": 3, "ip": "10.1.2.3", "user_agent": "bench",
                                  "action": "bench.append", "subject": {"type": "writer", "id": "1"},
                                  "payload": payload, "prev": prev})
                digest = hashlib.sha256(body).hexdigest()
                copy.write_row((seq, moment, 7, 3, "10.1.2.3", "bench", "bench.append", "writer", "1",
                                canonical(payload).decode(), body.decode(), prev, digest))
                prev = digest
        conn.execute("UPDATE journal_head SET seq = %s, hash = %s", (count, prev))
        conn.commit()


def _floor_verify(url) -> float:
    import psycopg
    start = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor(name="floor") as cursor:
            cursor.itersize = 5000
            cursor.execute("SELECT seq, body, hash FROM journal_entry ORDER BY seq")
            for _seq, body, digest in cursor:
                hashlib.sha256(body.encode()).hexdigest() == digest  # noqa: B015 - the work being timed
    return time.perf_counter() - start


def _platform_verify(app) -> float:
    from core import journal
    with app.app_context():
        start = time.perf_counter()
        verdict = journal.verify()
        elapsed = time.perf_counter() - start
        assert verdict.ok, verdict
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small",
                        help="; ".join(f"{k}: {w} writers x {n} appends, {v:,} entries verified"
                                       for k, (w, n, v) in SIZES.items()))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server; the benchmark makes and drops a database of its own there")
    args = parser.parse_args()
    writers, each, verified = SIZES[args.size]

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = make_url(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ppt_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        app = _app(url)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        append_platform, append_floor = [], []
        for _ in range(3):
            _reset(url)
            append_floor.append(_run_writers(_floor_writer, url, writers, each))
            append_platform.append(_run_writers(_platform_writer, url, writers, each))
        with app.app_context():
            from core import journal
            assert journal.verify().ok, "concurrent appends broke the chain"
        _fill(url, verified)
        verify_floor = min(_floor_verify(url) for _ in range(3))
        verify_platform = min(_platform_verify(app) for _ in range(3))
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    total = writers * each
    append_ratio = min(append_platform) / min(append_floor)
    verify_ratio = verify_platform / verify_floor
    figures = {
        "size": args.size, "writers": writers, "appends": total,
        "append_platform_s": round(min(append_platform), 4), "append_floor_s": round(min(append_floor), 4),
        "append_entries_per_s": round(total / min(append_platform)), "append_ratio": round(append_ratio, 3),
        "verified_entries": verified, "verify_platform_s": round(verify_platform, 4),
        "verify_floor_s": round(verify_floor, 4), "verify_ratio": round(verify_ratio, 3),
    }
    for key, value in figures.items():
        print(f"{key:24} {value}")
    print(json.dumps({"bench": "journal", "figures": figures, "floor": "bare psycopg inserts / read+hashlib",
                      "ratio": round(max(append_ratio, verify_ratio), 3),
                      "target": "append_ratio <= 2 and >= 1000 entries/s; verify_ratio <= 2"}))


if __name__ == "__main__":
    main()
