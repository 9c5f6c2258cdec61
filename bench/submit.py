"""Sealed-bid submission benchmark: the last minute before a deadline, on PostgreSQL under gunicorn.

Setup (not timed), through the platform's services: the demo world, B bidder organisations registered and
approved, a demo CA (with its CRL) in the trust store and a signing certificate for each bidder, a works
project accepted and its section published (opening key made), every bidder registered for it with an API
token. N envelopes of 100 KB are sealed beforehand (sealing is the bidder's work), several versions per
bidder: later ones replace earlier ones, as they do.

1. Platform: the test clock (TESTING_CLOCK_FILE) is put one minute before the deadline; C concurrent
   clients POST the N envelopes to /api/v1/tender/sections/{id}/bids as the bidding tool does (Bearer
   token, application/octet-stream, Idempotency-Key), one keep-alive connection each. A pilot (one
   envelope per client to a second section) warms the server first; if its pace says the run cannot fit
   in a minute, the window is widened so that the deadline falls just after the run's expected end
   (window_s and fits_last_minute say so) rather than refusing the tail of the run.
2. Floor: the same clients POST the same envelopes to a bare Flask route on the same gunicorn settings
   that reads the body, hashes it, stores it as the document store does (temporary file, atomic rename)
   and answers. Best of three.
3. The deadline crossed: the clock is put just before the deadline and every client keeps submitting
   until it is refused.

Then checked: every 201's receipt verifies with the platform seal and has a Bid row with its SHA-256 and
sequence; the sequences are 1..M without gaps or duplicates; one current bid per bidder, versions
without gaps; every stored envelope is in the document store; nothing received at or after the deadline
was accepted, and every request sent after it was refused (deadline_passed). The bench exits non-zero if
a check fails.

ratio = platform wall time ÷ floor wall time for the N envelopes (target ≤ 2). Ends with one JSON line.
"""
import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # envelopes, bidders (each submits envelopes / bidders versions), clients
    "small": (64, 16, 64),
    "medium": (500, 64, 64),
    "full": (2_000, 64, 64),
}
ENVELOPE_BYTES = 100 * 1024
WINDOW_S = 60.0  # the platform run starts this long before the deadline
LATE_EACH = 3  # envelopes each client may send while the deadline is crossed
API = "/api/v1/tender"


# The floor: a bare upload route, served by gunicorn as `bench.submit:floor_app()`.

def floor_app():
    """Read the body, hash it, store it (temporary file, atomic rename: as core.storage.put does), answer."""
    from flask import Flask, jsonify, request
    app = Flask("floor")
    folder = Path(os.environ["BENCH_FLOOR_FOLDER"])

    @app.post("/upload")
    def upload():
        data = request.get_data()
        digest = hashlib.sha256(data).hexdigest()
        path = folder / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return jsonify({"sha256": digest, "size": len(data)}), 201

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


# Setup through the platform's services.

def _app(url: str, instance: Path, clock_file: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "TESTING_CLOCK_FILE": str(clock_file),
                       # The bench's bidders never sign in with a password; PINs are not what is measured.
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "CUSTODY_KDF": {"iterations": 1, "memory_cost": 64, "lanes": 1}})


def _set_clock(path: Path, offset_s: float) -> None:
    """Move every process reading ``path`` (atomically: a reader never sees an empty file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(repr(offset_s))
    os.replace(tmp, path)


def _setup(app, bidder_count: int) -> dict:
    """Everything a bidding day needs, made as the people concerned would make it."""
    from accounts import credit_code, demo, organisations, tokens
    from accounts.models import OrgKind
    from core import clock, seal, trust_store
    from core.crypto import pki
    from core.extensions import db
    from tender import acceptance, checklists, participation, projects, publication
    now = clock.now()
    with app.app_context():
        users = {u.username: u for u in demo.load(now)}
        centre, unit = users["centre"], users["procuring"]
        bidders = [users["bidder1"], users["bidder2"], users["bidder3"]]
        for i in range(len(bidders), bidder_count):
            org = organisations.register(
                name=f"压测投标人{i:02d}建设工程有限公司", code=credit_code.complete(f"91320100MA1B{i:05d}"), kind=OrgKind.BIDDER,
                region_code="320100", contact_phone="025-00000000", username=f"bench_bidder{i:02d}",
                person_name=f"投标人 {i:02d}", email=f"bench_bidder{i:02d}@example.cn",
                password="bench-pass-2026", now=now)
            organisations.decide(centre, org, "approve", "", now)
            bidders.append(org.users[0])
        bidders = bidders[:bidder_count]
        # The demo CA, as `flask pki make-ca` puts it in the trust store, and each bidder's certificate.
        ca_key, ca = pki.make_ca("Bench Bidder CA", "Demo Certification Authority", now - timedelta(days=30))
        trust_store.add_certificate(ca, None, now)
        trust_store.add_crl(pki.make_crl(ca_key, ca, now, days=60), None, now)
        holders = {}
        for user in bidders:
            key = pki.new_signing_key("p256")
            holders[user.id] = (key, pki.issue_signing_certificate(
                ca_key, ca, key.public_key(), user.name, user.organisation.name, now,
                credit_code=user.organisation.credit_code))
        # A works project: submitted with its checklist, accepted by the centre, its section published.
        section_fields = {"name": "压测 教学楼改造 一标段", "method": "open", "base_amount": "1000000.00",
                          "guarantee_amount": "20000.00", "bid_validity_days": 90,
                          "evaluation_method": "lowest_price"}
        # Two sections: the one measured, and a pilot that warms the servers and tells how long the run will take.
        project = projects.create(unit, name="压测 南京市第一中学教学楼改造", category="works", region_code="320100",
                                  sections=[section_fields, {**section_fields, "name": "压测 教学楼改造 二标段"}],
                                  now=now)
        for item in checklists.checklist(project.category):
            projects.add_document(unit, project, item.key, f"{item.key}.pdf", b"%PDF-1.4\n" + item.key.encode(), now)
        projects.submit(unit, project, now)
        acceptance.decide(centre, project, outcome="accept",
                          verdicts={i.key: ("ok", "") for i in checklists.checklist(project.category)}, now=now)
        section, pilot = project.sections
        deadline = (now + timedelta(days=publication.min_days(section, now) + 1)).replace(microsecond=0)
        for published in (section, pilot):
            publication.publish(centre, published, title=f"{published.name} 招标公告", body="公告正文",
                                deadline=deadline + timedelta(days=1 if published is pilot else 0),
                                documents=[("招标文件.pdf", b"%PDF-1.4\n% tender documents\n")], now=now)
        secrets = {}
        for user in bidders:
            participation.register(user, section, now)
            participation.register(user, pilot, now)
            _token, secrets[user.id] = tokens.create(user, "bidding tool", 60, now)
        seal.ensure(now)  # made once here, not by the first of 64 racing receipts
        db.session.commit()
        return {"section_id": section.id, "section_code": section.code, "deadline": deadline,
                "suite": section.key.suite, "public_key": section.key.public_key,
                "pilot": {"section_id": pilot.id, "section_code": pilot.code, "suite": pilot.key.suite,
                          "public_key": pilot.key.public_key},
                "seal_pem": seal.current("seal").certificate_pem,
                "bidders": [(u.id, u.organisation.credit_code, holders[u.id], secrets[u.id]) for u in bidders]}


def _seal(world: dict, bidder, sealed_at: datetime, size: int = ENVELOPE_BYTES) -> bytes:
    """An envelope of ``size`` bytes (within a few) as the bidder's tool makes it: a random document inside."""
    from core.crypto import envelope
    _user_id, credit_code, (key, certificate), _secret = bidder

    def make(document_bytes: int) -> bytes:
        content = envelope.pack_content("1234567.89", {"工期": "180 天"}, [
            envelope.Document("投标文件.pdf", "application/pdf", b"%PDF-1.4 " + os.urandom(document_bytes))])
        return envelope.seal_bid(suite=world["suite"], section_public_key=world["public_key"],
                                 section_id=str(world["section_id"]), section_code=world["section_code"],
                                 bidder=credit_code, content=content, signing_key=key, certificates=[certificate],
                                 now=sealed_at)
    overhead = len(make(0))
    return make(max(0, size - overhead))


class Envelope:
    __slots__ = ("bidder", "data", "sha256", "token")

    def __init__(self, bidder, data: bytes):
        self.bidder, self.data, self.token = bidder, data, bidder[3]
        self.sha256 = hashlib.sha256(data).hexdigest()


# The clients.

class Result:
    __slots__ = ("envelope", "status", "body", "sent", "answered")

    def __init__(self, envelope, status, body, sent, answered):
        self.envelope, self.status, self.body, self.sent, self.answered = envelope, status, body, sent, answered


def _post(conn_box: list, host: str, port: int, path: str, envelope: Envelope, platform: bool):
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(envelope.data))}
    if platform:
        headers.update({"Authorization": f"Bearer {envelope.token}", "User-Agent": "eproc-bid bench",
                        "Idempotency-Key": f"envelope-{envelope.sha256}"})
    for attempt in range(3):  # a kept-alive connection the server closed meanwhile: reconnect and resend
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection(host, port, timeout=300)
        try:
            conn_box[0].request("POST", path, body=envelope.data, headers=headers)
            response = conn_box[0].getresponse()
            body = response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn_box[0].close()
                conn_box[0] = None
            return response.status, body
        except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest,
                http.client.BadStatusLine):
            conn_box[0].close()
            conn_box[0] = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _run_clients(port: int, path_for, work: list[list[Envelope]], platform: bool, clock_offset: float = 0.0,
                 stop_on_refusal: bool = False) -> tuple[float, list[Result]]:
    """Each client sends its list of envelopes in order on a connection of its own; the wall time from the
    first client's start to the last one's end, and every answer (times on the platform's clock)."""
    barrier, lock, results, spans, failures = threading.Barrier(len(work)), threading.Lock(), [], [], []

    def client(envelopes: list[Envelope]):
        box, mine = [None], []
        barrier.wait()
        start = time.perf_counter()
        try:
            for envelope in envelopes:
                sent = time.time() + clock_offset
                status, body = _post(box, "127.0.0.1", port, path_for(envelope), envelope, platform)
                mine.append(Result(envelope, status, body, sent, time.time() + clock_offset))
                if stop_on_refusal and status != 201:
                    break
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))
        end = time.perf_counter()
        if box[0] is not None:
            box[0].close()
        with lock:
            results.extend(mine)
            spans.append((start, end))

    threads = [threading.Thread(target=client, args=(envelopes,)) for envelopes in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} clients failed, e.g. {failures[0]}")
    return max(e for _, e in spans) - min(s for s, _ in spans), results


# Servers.

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on a free loopback port, with the bench's worker and thread settings."""

    def __init__(self, target: str, env: dict, workers: int, threads: int, log: Path):
        self.port = port = _free_port()
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
                 "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--timeout", "120", target],
                cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn ({target}) did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def get(self, path: str, headers: dict | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers=headers or {})
        status = conn.getresponse().status
        conn.close()
        return status

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _warm(server: Server, clients: int, path: str, headers: dict) -> None:
    """Every worker thread's first request (connections, imports, caches) before anything is timed."""
    threads = [threading.Thread(target=server.get, args=(path, headers)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# Checks.

def _check(app, world: dict, results: list[Result], url: str) -> dict:
    """What went wrong, counted (all zeros: nothing lost, nothing late, nothing numbered twice)."""
    import psycopg

    from core import storage
    from core.crypto import envelope as env
    deadline = world["deadline"]
    accepted = [r for r in results if r.status == 201]
    refused = [r for r in results if r.status != 201]
    problems = {"lost": 0, "receipt_invalid": 0, "accepted_late": 0, "refused_wrongly": 0, "sent_late_accepted": 0,
                "sequence_gaps_or_duplicates": 0, "bidders_without_one_current_bid": 0, "version_gaps": 0,
                "not_in_store": 0}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT b.sequence, b.envelope_sha256, b.received_at, b.status, b.organisation_id, "
                            "b.version FROM bid b WHERE b.section_id = %s", (world["section_id"],)).fetchall()
        counter = conn.execute("SELECT bid_sequence FROM section WHERE id = %s",
                               (world["section_id"],)).fetchone()[0]
    by_sequence = {}
    for row in rows:
        by_sequence.setdefault(row[0], []).append(row)
    for result in accepted:
        try:
            receipt = env.verify_receipt(result.body, world["seal_pem"])
        except Exception:  # noqa: BLE001 - counted
            problems["receipt_invalid"] += 1
            continue
        if receipt["envelope"]["sha256"] != result.envelope.sha256:
            problems["receipt_invalid"] += 1
        row = by_sequence.get(receipt["sequence"], [])
        if len(row) != 1 or row[0][1] != result.envelope.sha256:
            problems["lost"] += 1
        received = datetime.fromisoformat(receipt["received_at"])
        if received >= deadline or (row and row[0][2] >= deadline):
            problems["accepted_late"] += 1
        if result.sent >= deadline.timestamp():
            problems["sent_late_accepted"] += 1
    for result in refused:
        try:
            code = json.loads(result.body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        # A refusal is right only if the deadline had passed by the time the answer came.
        if code != "deadline_passed" or result.answered < deadline.timestamp():
            problems["refused_wrongly"] += 1
    sequences = sorted(by_sequence)
    if sequences != list(range(1, len(rows) + 1)) or len(rows) != len(accepted) or counter != len(rows):
        problems["sequence_gaps_or_duplicates"] += 1
    organisations = {}
    for _seq, _sha, _at, status, organisation, version in rows:
        organisations.setdefault(organisation, []).append((version, status))
    for versions in organisations.values():
        if sum(1 for _v, status in versions if status == "submitted") != 1:
            problems["bidders_without_one_current_bid"] += 1
        if sorted(v for v, _s in versions) != list(range(1, len(versions) + 1)):
            problems["version_gaps"] += 1
    with app.app_context():
        problems["not_in_store"] = sum(1 for row in rows if not storage.exists(row[1]))
    return problems


def _latency(results: list[Result]) -> tuple[float, float]:
    ordered = sorted(r.answered - r.sent for r in results)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1) + 0.5))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small",
                        help="; ".join(f"{k}: {n:,} envelopes of 100 KB from {b} bidders, {c} clients"
                                       for k, (n, b, c) in SIZES.items()))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server; the benchmark makes and drops a database of its own there")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, for both servers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker, for both servers")
    args = parser.parse_args()
    count, bidder_count, clients = SIZES[args.size]

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError
    base = make_url(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ppt_submit_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        raise SystemExit(f"bench/submit.py needs PostgreSQL at {base.render_as_string(hide_password=True)} "
                         f"(--database-url or BENCH_DATABASE_URL): {error.orig}") from None
    url = base.set(database=name).render_as_string(hide_password=False)
    work_dir = Path(tempfile.mkdtemp(prefix="submit-bench-"))
    instance, clock_file, floor_folder = work_dir / "instance", work_dir / "clock", work_dir / "floor"
    servers = []
    try:
        _set_clock(clock_file, 0.0)
        app = _app(url, instance, clock_file)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        started = time.perf_counter()
        world = _setup(app, bidder_count)
        deadline = world["deadline"]
        bidders = world["bidders"]
        # Envelopes sealed beforehand, version after version: envelope i is bidder i % B's version i // B + 1.
        sealed_at = deadline - timedelta(minutes=5)
        envelopes = [Envelope(bidders[i % len(bidders)], _seal(world, bidders[i % len(bidders)], sealed_at))
                     for i in range(count)]
        late = [[Envelope(bidders[c % len(bidders)], _seal(world, bidders[c % len(bidders)], sealed_at))
                 for _ in range(LATE_EACH)] for c in range(clients)]
        pilot = [Envelope(bidders[c % len(bidders)], _seal({**world, **world["pilot"]}, bidders[c % len(bidders)],
                                                           sealed_at)) for c in range(clients)]
        work = [envelopes[c::clients] for c in range(clients)]
        setup_s = time.perf_counter() - started

        gunicorn = {"workers": args.workers, "threads": args.threads}
        # The floor, best of three (its store emptied before each run).
        floor = Server("bench.submit:floor_app()", {"BENCH_FLOOR_FOLDER": str(floor_folder)}, **gunicorn,
                       log=work_dir / "floor.log")
        servers.append(floor)
        _warm(floor, clients, "/healthz", {})
        floor_times = []
        for _ in range(3):
            shutil.rmtree(floor_folder, ignore_errors=True)
            floor_folder.mkdir()
            elapsed, answers = _run_clients(floor.port, lambda e: "/upload", work, platform=False)
            if sorted(json.loads(r.body)["sha256"] for r in answers if r.status == 201) != \
                    sorted(e.sha256 for e in envelopes):
                raise SystemExit("the floor lost uploads")
            floor_times.append(elapsed)
        floor.stop()
        servers.remove(floor)

        platform = Server("wsgi:app", {"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "PLATFORM_TESTING": "1",
                                       "TESTING_CLOCK_FILE": str(clock_file), "CELERY_BROKER_URL": "",
                                       "SMTP_URL": ""}, **gunicorn, log=work_dir / "platform.log")
        servers.append(platform)
        section_path = f"{API}/sections/{world['section_id']}/bids"
        _warm(platform, clients, f"{API}/sections/{world['section_id']}/key",
              {"Authorization": f"Bearer {bidders[0][3]}"})
        # The pilot: one envelope per client to the other section, which also warms every worker's submit
        # path; from its pace, the window the run needs: the last minute, or longer if it cannot fit in one.
        pilot_path = f"{API}/sections/{world['pilot']['section_id']}/bids"
        pilot_s, _answers = _run_clients(platform.port, lambda e: pilot_path, [[e] for e in pilot], platform=True)
        window = max(WINDOW_S, 1.25 * count * pilot_s / len(pilot) + 5)
        # The run: the platform's clock (and the clients') reads deadline - window as it starts.
        offset = deadline.timestamp() - window - time.time()
        _set_clock(clock_file, offset)
        platform_s, results = _run_clients(platform.port, lambda e: section_path, work, platform=True,
                                           clock_offset=offset)
        in_window = max(r.answered for r in results) - (deadline.timestamp() - window)
        p50, p95 = _latency(results)
        # The deadline crossed: each client keeps sending until refused, starting a little before it.
        lead = max(0.3, p50)
        offset = deadline.timestamp() - lead - time.time()
        _set_clock(clock_file, offset)
        _crossing_s, crossing = _run_clients(platform.port, lambda e: section_path, late, platform=True,
                                             clock_offset=offset, stop_on_refusal=True)
        platform.stop()
        servers.remove(platform)
        problems = _check(app, world, results + crossing, url)
        with app.app_context():
            from core import journal
            journal_ok = journal.verify().ok
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        for server in servers:
            server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work_dir, ignore_errors=True)

    floor_s = min(floor_times)
    ratio = platform_s / floor_s
    accepted = sum(1 for r in results if r.status == 201)
    figures = {
        "size": args.size, "envelopes": count, "envelope_bytes": round(sum(len(e.data) for e in envelopes) / count),
        "bidders": len(bidders), "clients": clients, "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "setup_s": round(setup_s, 2),
        "platform_s": round(platform_s, 3), "platform_per_s": round(count / platform_s, 1),
        "platform_p50_ms": round(p50 * 1000, 1), "platform_p95_ms": round(p95 * 1000, 1),
        "floor_s": round(floor_s, 3), "floor_per_s": round(count / floor_s, 1),
        "floor_runs_s": [round(t, 3) for t in floor_times],
        "pilot_s": round(pilot_s, 3), "window_s": round(window, 1), "fits_last_minute": platform_s <= WINDOW_S,
        "accepted": accepted, "refused_in_window": len(results) - accepted,
        "last_answer_s_into_window": round(in_window, 2),
        "crossing_accepted": sum(1 for r in crossing if r.status == 201),
        "crossing_refused": sum(1 for r in crossing if r.status != 201),
        **problems, "journal_chain_ok": journal_ok, "ratio": round(ratio, 3),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    print(json.dumps({"bench": "submit", "figures": figures,
                      "floor": "bare Flask route on the same gunicorn: read the body, sha256, store it, answer",
                      "ratio": round(ratio, 3),
                      "target": "ratio <= 2; none lost, none accepted at or after the deadline"}))
    failed = [k for k, v in problems.items() if v] + ([] if journal_ok else ["journal_chain"]) \
        + (["refused_in_window"] if accepted != count else []) \
        + (["deadline_not_crossed"] if not any(r.status != 201 for r in crossing) else [])
    if failed:
        raise SystemExit(f"checks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
