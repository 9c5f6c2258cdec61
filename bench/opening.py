"""Online opening benchmark: deciding every sealed bid of a section, through the platform's decryption job.

Setup (not timed), through the platform's services as the people concerned would do it: the demo world;
B bidder organisations with one user each (inserted in bulk, approved), a demo bidder CA with its CRL in the
trust store and a signing certificate per bidder; a guarantor organisation whose CA (with its CRL) is in the
trust store; a works project accepted with two sections published, one of N bids (timed) and one of M bids
(memory only). Each bidder registers, gets an electronic guarantee issued through tender.guarantees.issue and
submits one envelope of 100 KB through tender.bids.submit (sealed beforehand, as the bidder's tool does); the
sections close at their deadline, the test clock (TESTING_CLOCK_FILE) moves just past it, the centre starts
the opening and keyholders release their shares with their PINs (tender.opening.release; the k-th share's
decrypt_bids job goes to an in-memory broker that nobody consumes: the bench runs the job itself).

1. Platform: tender.tasks.decrypt_bids(opening_id), the task body as the worker runs it, from start to
   finish (rebuild the key; per bid: read the envelope from the document store, re-check its signature and
   certificate path, HPKE open, store its documents, verify the guarantee at the opening, write the BidResult
   and its journal entry; commit per batch), in a child process of its own (its peak RSS read from /proc).
   Best of three runs in that one process, as the floor's three loops run in one process (a worker runs job
   after job: its statements compiled, its broker connection made, its modules imported; the first run pays
   for these and is shown as platform_runs_s[0]). Between runs, untimed, the opening is put back as it was when
   the k-th share arrived (the run's BidResult rows deleted, the documents it stored removed from the store,
   the released shares' boxes put back, status "decrypting"); the journal keeps the runs' entries, as it keeps
   everything.
2. Floor: in a child process too, a bare loop over the same bids: read the envelope bytes from the document
   store, envelope.check_and_open (check_envelope then open_envelope from one parse, as the platform does),
   core.crypto.guarantee.verify_guarantee of the same guarantee file against the same expectation, with the key
   rebuilt beforehand. Nothing else. Best of three.
3. Memory: the platform's job once more on the section of M bids, in a child process; peak RSS at N bids and
   at M bids (target: within 10% of each other: the job streams in batches, so memory must not grow with N).

Checked: every run decided every bid exactly once, each opened with a valid guarantee; the journal chain
verifies. On PostgreSQL when --database-url, BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a
database of its own made and dropped there), else on SQLite in a temporary folder.

ratio = platform seconds ÷ floor seconds for the N bids (target ≤ 1.5). Ends with one JSON line.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # bids timed, bids of the memory run
    "small": (50, 200),
    "medium": (300, 2_000),
    "full": (1_000, 10_000),
}
PIN = "demo-pin-2026"  # the demo keyholders' PIN
BATCH_COMMIT = 100  # setup commits every so many bidders


def _app(url: str, work_dir: Path):
    os.environ["INSTANCE_PATH"] = str(work_dir / "instance")
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                       "TESTING_CLOCK_FILE": str(work_dir / "clock"),
                       # Mail and the k-th share's job go to a broker nobody consumes: the bench runs the job.
                       "CELERY": {"broker_url": "memory://", "task_ignore_result": True},
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "CUSTODY_KDF": {"iterations": 1, "memory_cost": 64, "lanes": 1}})


def _reset_peak() -> None:
    """Linux: the peak RSS (VmHWM) starts again from the current RSS, so that imports and the app's start-up
    do not hide what the run itself takes."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _rss_kb() -> tuple[int, int]:
    """(current RSS, peak RSS since the last reset) in kB; where /proc is missing, getrusage's peak for both."""
    try:
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        return peak, peak


# Setup through the platform's services.

def _bidders(count: int, now) -> list:
    """``count`` approved bidder organisations with one user each, inserted in bulk (registering and approving
    10,000 companies one page at a time is not what is measured)."""
    from accounts import auth, credit_code
    from accounts.models import Organisation, OrgKind, User
    from core.extensions import db
    from core.permissions import Role
    password = auth.hash_password("bench-pass-2026")
    users = []
    for i in range(count):
        org = Organisation(name=f"开标压测投标人{i:05d}建设工程有限公司", kind=OrgKind.BIDDER,
                           credit_code=credit_code.complete(f"91320100MA2C{i:05d}"), region_code="320100",
                           status="approved", contact_phone="025-00000000", registered_at=now, decided_at=now,
                           decision_reason="")
        users.append(User(organisation=org, username=f"open_bidder{i:05d}", name=f"投标人 {i:05d}",
                          role=Role.BIDDER, email=f"open_bidder{i:05d}@example.cn", status="active",
                          password_hash=password, created_at=now, failed_logins=0, locked=False))
        db.session.add_all([org, users[-1]])
    db.session.flush()
    return users


def _setup(app, work_dir: Path, counts: tuple[int, int]) -> dict:
    """Two sections closed at their deadline with counts[i] sealed bids each, every bid with its guarantee."""
    from accounts import demo
    from bench.submit import _seal
    from core import clock, seal, trust_store
    from core.crypto import pki
    from core.extensions import db
    from tender import acceptance, bids, checklists, guarantees, participation, projects, publication
    from tests.tender.factories import GuarantorPki, guarantee_file, make_guarantor
    now = clock.now()
    with app.app_context():
        users = {u.username: u for u in demo.load(now)}
        centre, unit = users["centre"], users["procuring"]
        bidders = _bidders(max(counts), now)
        # The bidders' CA and the guarantor's, as `flask pki make-ca` puts them in the trust store, with CRLs.
        ca_key, ca = pki.make_ca("Bench Opening Bidder CA", "Demo Certification Authority", now - timedelta(days=30))
        trust_store.add_certificate(ca, None, now)
        trust_store.add_crl(pki.make_crl(ca_key, ca, now, days=60), None, now)
        guarantor = make_guarantor("南京开标压测融资担保有限公司", "91320100MA3G00001")
        guarantor_pki = GuarantorPki(now)
        guarantor_pki.install()
        signer = guarantor_pki.certify(guarantor.organisation)
        fields = {"method": "open", "base_amount": "1000000.00", "guarantee_amount": "20000.00",
                  "bid_validity_days": 90, "evaluation_method": "lowest_price"}
        project = projects.create(unit, name="开标压测 南京市第一中学教学楼改造", category="works", region_code="320100",
                                  sections=[{**fields, "name": f"开标压测 {n} 份投标"} for n in counts], now=now)
        for item in checklists.checklist(project.category):
            projects.add_document(unit, project, item.key, f"{item.key}.pdf", b"%PDF-1.4\n" + item.key.encode(), now)
        projects.submit(unit, project, now)
        acceptance.decide(centre, project, outcome="accept",
                          verdicts={i.key: ("ok", "") for i in checklists.checklist(project.category)}, now=now)
        sections = project.sections
        deadline = (now + timedelta(days=publication.min_days(sections[0], now) + 1)).replace(microsecond=0)
        for section in sections:
            publication.publish(centre, section, title=f"{section.name} 招标公告", body="公告正文", deadline=deadline,
                                documents=[("招标文件.pdf", b"%PDF-1.4\n% tender documents\n")], now=now)
        seal.ensure(now)
        db.session.commit()
        worlds = [{"section_id": s.id, "section_code": s.code, "suite": s.key.suite, "public_key": s.key.public_key}
                  for s in sections]
        holders = {}
        for i, user in enumerate(bidders):
            key = pki.new_signing_key("p256")
            holders[user.id] = (key, pki.issue_signing_certificate(
                ca_key, ca, key.public_key(), user.name, user.organisation.name, now,
                credit_code=user.organisation.credit_code))
            for section, world, count in zip(sections, worlds, counts, strict=True):
                if i >= count:
                    continue
                participation.register(user, section, now)
                guarantees.issue(guarantor, guarantee_file(signer, guarantor.organisation, section, user.organisation),
                                 now, anchors=guarantor_pki.anchors)
                sealed = _seal(world, (user.id, user.organisation.credit_code, holders[user.id], None), now)
                bids.submit(user, section, sealed, clock.now(), "198.51.100.7", "eproc-bid/1.0")
            if i % BATCH_COMMIT == BATCH_COMMIT - 1:
                db.session.commit()
        db.session.commit()
        # The deadline passes: the sections close, and the clock stands a minute after it from now on.
        clock.set_test_offset(work_dir / "clock", (deadline - clock.now()).total_seconds() + 60)
        publication.close_due(clock.now())
        db.session.commit()
        return {"centre": centre.id, "sections": [s.id for s in sections]}


def _open(app, world: dict, section_id: int) -> dict:
    """The centre starts the opening and keyholders release their shares until the k-th starts decryption.
    Returns what a reset needs: the opening's id, the released shares' boxes and the rebuilt key (for the floor)."""
    from accounts.models import User
    from core import clock
    from core.extensions import db
    from tender import opening as openings
    from tender.models import Section
    with app.app_context():
        section = db.session.get(Section, section_id)
        opening = openings.start(db.session.get(User, world["centre"]), section, clock.now())
        db.session.commit()
        for share in section.key.shares:
            openings.release(share.user, opening, PIN, clock.now(), "203.0.113.9")
            db.session.commit()
            if opening.status == "decrypting":
                break
        if opening.status != "decrypting":
            raise SystemExit(f"the opening did not start decrypting: {opening.status}")
        state = {"opening_id": opening.id, "boxes": {r.id: r.box for r in openings.released(opening)},
                 "private_key": openings._private_key(opening)}
        db.session.commit()
        return state


def _reset(app, state: dict) -> None:
    """The opening as it was when the k-th share arrived: no bid decided, nothing of the run left in the store."""
    from sqlalchemy import delete

    from core import storage
    from core.extensions import db
    from tender.models import BidResult, Opening, ReleasedShare
    with app.app_context():
        opening = db.session.get(Opening, state["opening_id"])
        for result in opening.results:
            for document in json.loads(result.documents):
                storage._path(document["sha256"]).unlink(missing_ok=True)
        db.session.execute(delete(BidResult).where(BidResult.opening_id == opening.id))
        for row_id, box in state["boxes"].items():
            db.session.get(ReleasedShare, row_id).box = box
        opening.status, opening.bids_decided, opening.decrypted_at = "decrypting", 0, None
        db.session.commit()


def _check(app, state: dict, count: int) -> list[str]:
    """Every current bid decided once, opened, with a valid guarantee."""
    from sqlalchemy import func, select

    from core.extensions import db
    from tender.models import BidResult, Opening
    with app.app_context():
        opening = db.session.get(Opening, state["opening_id"])
        rows = db.session.execute(select(BidResult.outcome, BidResult.guarantee_verdict, BidResult.valid,
                                         func.count()).where(BidResult.opening_id == opening.id)
                                  .group_by(BidResult.outcome, BidResult.guarantee_verdict, BidResult.valid)).all()
        distinct = db.session.scalar(select(func.count(func.distinct(BidResult.bid_id)))
                                     .where(BidResult.opening_id == opening.id))
        problems = []
        if opening.status != "decrypted" or opening.bids_decided != count or distinct != count:
            problems.append(f"opening {opening.status}, {opening.bids_decided} decided, {distinct} distinct bids")
        if [tuple(r) for r in rows] != [("opened", "valid", True, count)]:
            problems.append(f"results {[tuple(r) for r in rows]}")
        return problems


# The child processes: the platform's job, and the floor.

def _child(spec: dict) -> None:
    from sqlalchemy.orm import configure_mappers

    from core.extensions import db
    app = _app(spec["url"], Path(spec["work_dir"]))
    with app.app_context():
        # What a worker does once when it starts, not per job: the mappers configured, a connection made.
        configure_mappers()
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        items = _floor_items(spec["opening_id"]) if spec["mode"] == "floor" else None
        state = {"opening_id": spec["opening_id"], "boxes": _boxes(spec["opening_id"])}
    _reset_peak()
    base, _peak = _rss_kb()
    problems = []
    if spec["mode"] == "floor":
        cpu = time.process_time()
        times = [_floor(app, items, bytes.fromhex(spec["private_key"])) for _ in range(3)]
        cpu = (time.process_time() - cpu) / 3
        peak = _rss_kb()[1]
    else:
        from tender.tasks import decrypt_bids
        profile = cProfile.Profile() if spec.get("profile") else None
        times, cpus, peak = [], [], 0
        for run in range(spec["runs"]):
            if run:  # as the floor does: best of the runs in one process (a worker runs job after job)
                _reset(app, state)
                _reset_peak()
            started, cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            decided = decrypt_bids(spec["opening_id"])  # the task body, as the worker runs it
            if profile:
                profile.disable()
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            peak = max(peak, _rss_kb()[1])
            if decided != spec["count"]:
                raise SystemExit(f"decrypt_bids decided {decided} bids, not {spec['count']}")
            problems += _check(app, state, spec["count"])
        cpu = min(cpus)
        if profile:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(f"{ROOT}/(core|tender|accounts)/", 30)  # the platform's own
            stats.print_callees(r"opening.py:\d+\(_decide\)")
            Path(spec["work_dir"], "profile.txt").write_text(out.getvalue())
    print(json.dumps({"times": times, "cpu_s": cpu, "rss_base_kb": base, "rss_peak_kb": peak, "problems": problems}))


def _boxes(opening_id: int) -> dict:
    """The released shares' boxes, as the k-th share left them (what a reset puts back)."""
    from core.extensions import db
    from tender import opening as openings
    from tender.models import Opening
    return {r.id: r.box for r in openings.released(db.session.get(Opening, opening_id))}


def _floor_items(opening_id: int) -> list[tuple]:
    """What the bare loop needs per bid, read beforehand: where its envelope is, what it is checked against,
    its guarantee file and what that must say."""
    from sqlalchemy import select

    from core import storage
    from core.extensions import db
    from tender import guarantees
    from tender.models import Bid, Opening
    opening = db.session.get(Opening, opening_id)
    section = opening.section
    items = []
    for bid in db.session.scalars(select(Bid).where(Bid.section_id == section.id, Bid.status == "submitted")
                                  .order_by(Bid.sequence)):
        guarantee, = guarantees.for_bid(section, bid.organisation)
        items.append((storage._path(bid.envelope_sha256), bid.envelope_sha256, bid.organisation.credit_code,
                      bid.received_at, guarantee.document,
                      guarantees.expectation(section, bid.organisation, guarantee.applicant_code)))
    return [(section.id, section.code, section.key.public_key), items]


def _floor(app, items, private: bytes) -> float:
    from core import clock, trust_store
    from core.crypto import envelope, guarantee as g
    (section_id, section_code, public_key), bids = items
    with app.app_context():
        anchors = trust_store.load()
        now = clock.now()
    started = time.perf_counter()
    for path, sha256, bidder, received_at, document, expected in bids:
        data = path.read_bytes()
        envelope.check_and_open(data, expected_sha256=sha256, section_id=section_id, section_code=section_code,
                                section_public_key=public_key, bidder=bidder, anchors=anchors, now=received_at,
                                private_key=private)
        if not g.verify_guarantee(document, expected, anchors, now=now).ok:
            raise SystemExit("the floor found a bad guarantee")
    return time.perf_counter() - started


def _run_child(url: str, work_dir: Path, mode: str, state: dict, count: int, profile: bool = False,
               runs: int = 1) -> dict:
    spec = {"url": url, "work_dir": str(work_dir), "mode": mode, "opening_id": state["opening_id"], "count": count,
            "private_key": state["private_key"].hex() if mode == "floor" else "", "profile": profile, "runs": runs}
    # The key goes to the floor's child on its standard input, never on a command line or in a file.
    done = subprocess.run([sys.executable, __file__, "--child"], input=json.dumps(spec), capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "INSTANCE_PATH": str(work_dir / "instance")})
    if done.returncode != 0:
        raise SystemExit(f"the {mode} child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _database(url: str | None, work_dir: Path):
    """(the URL to use, a function dropping what was made)."""
    if not url:
        return f"sqlite:///{work_dir / 'opening.sqlite'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ppt_opening_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        raise SystemExit(f"bench/opening.py cannot make a database at "
                         f"{base.render_as_string(hide_password=True)}: {error.orig}") from None

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), drop


def main():
    if sys.argv[1:] == ["--child"]:
        return _child(json.loads(sys.stdin.read()))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small",
                        help="; ".join(f"{k}: {n:,} bids of 100 KB timed, memory also at {m:,}"
                                       for k, (n, m) in SIZES.items()))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL server; the benchmark makes and drops a database of its own there "
                             "(default: BENCH_DATABASE_URL or TEST_DATABASE_URL, else SQLite in a temporary folder)")
    parser.add_argument("--profile", action="store_true",
                        help="run the platform's job once more under cProfile, on the memory run's section, and "
                             "print where its time goes")
    args = parser.parse_args()
    count, memory_count = SIZES[args.size]

    work_dir = Path(tempfile.mkdtemp(prefix="opening-bench-"))
    url, drop = _database(args.database_url, work_dir)
    try:
        from core import clock
        clock.set_test_offset(work_dir / "clock", 0)
        app = _app(url, work_dir)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        started = time.perf_counter()
        world = _setup(app, work_dir, (count, memory_count))
        state = _open(app, world, world["sections"][0])
        setup_s = time.perf_counter() - started

        floor = _run_child(url, work_dir, "floor", state, count)
        platform = _run_child(url, work_dir, "platform", state, count, runs=3)
        problems = platform["problems"] + _check(app, state, count)
        memory_state = _open(app, world, world["sections"][1])
        memory = _run_child(url, work_dir, "platform", memory_state, memory_count)
        problems += _check(app, memory_state, memory_count)
        profile = ""
        if args.profile:  # once more on the larger section, where the cost per bid outweighs the first batch's
            _reset(app, memory_state)
            _run_child(url, work_dir, "platform", memory_state, memory_count, profile=True)
            profile = (work_dir / "profile.txt").read_text()
        with app.app_context():
            from core import journal
            journal_ok = journal.verify().ok
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        drop()
        shutil.rmtree(work_dir, ignore_errors=True)

    platform_s, floor_s = min(platform["times"]), min(floor["times"])
    ratio = platform_s / floor_s
    peak_n = platform["rss_peak_kb"]
    growth_n = platform["rss_peak_kb"] - platform["rss_base_kb"]
    memory_ratio = memory["rss_peak_kb"] / peak_n
    figures = {
        "size": args.size, "database": url.split(":", 1)[0].split("+")[0], "bids": count,
        "envelope_kb": 100, "setup_s": round(setup_s, 1),
        "platform_s": round(platform_s, 3), "platform_bids_per_s": round(count / platform_s, 1),
        "platform_runs_s": [round(t, 3) for t in platform["times"]], "platform_cpu_s": round(platform["cpu_s"], 3),
        "floor_s": round(floor_s, 3), "floor_bids_per_s": round(count / floor_s, 1),
        "floor_runs_s": [round(t, 3) for t in floor["times"]], "floor_cpu_s": round(floor["cpu_s"], 3),
        f"peak_rss_mb_at_{count}": round(peak_n / 1024, 1),
        f"rss_growth_mb_at_{count}": round(growth_n / 1024, 1),
        f"peak_rss_mb_at_{memory_count}": round(memory["rss_peak_kb"] / 1024, 1),
        f"rss_growth_mb_at_{memory_count}": round((memory["rss_peak_kb"] - memory["rss_base_kb"]) / 1024, 1),
        f"platform_bids_per_s_at_{memory_count}": round(memory_count / memory["times"][0], 1),
        "memory_ratio": round(memory_ratio, 3), "problems": problems, "journal_chain_ok": journal_ok,
        "ratio": round(ratio, 3),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    if profile:
        print(profile)
    print(json.dumps({"bench": "opening", "figures": figures,
                      "floor": "bare loop over the same bids: read the envelope from the store, check_and_open "
                               "(check_envelope and open_envelope from one parse), verify_guarantee (key rebuilt "
                               "beforehand)",
                      "ratio": round(ratio, 3),
                      "target": f"ratio <= 1.5; peak RSS at {memory_count:,} bids within 10% of that at {count:,}"}))
    if problems or not journal_ok:
        raise SystemExit(f"checks failed: {problems or ['journal_chain']}")


if __name__ == "__main__":
    main()
