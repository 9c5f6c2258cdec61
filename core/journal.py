"""The journal: an append-only, hash-chained log of every state change.

A service calls ``record(...)`` inside the transaction of the change. The entry is only queued then, and
chained when the session commits, so the single ``journal_head`` row is locked only for a moment and no two
entries ever share a predecessor:

- on PostgreSQL ``before_commit`` inserts it with placeholders, and a deferred trigger (migration 0004)
  locks the head and chains it inside COMMIT itself;
- on SQLite, whose write transactions are exclusive already, ``before_commit`` chains it in Python.

Each entry's RFC 8785 body is the source of truth; its SHA-256 is the entry's hash, and the body names
the previous entry's hash (``prev``). docs/formats.md describes the bytes.
"""
import hashlib
import json
import queue
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.crypto.canonical import canonical, utc_iso
from core.db import snapshot
from core.extensions import db
from core import seal
from core.models import Checkpoint, JournalEntry, JournalHead, PlatformKey
from core.oncommit import within

GENESIS = "0" * 64
_PENDING = "journal_pending"


def record(action: str, subject_type: str, subject_id, payload: dict | None = None, *, actor=None,
           now: datetime, organisation_id: int | None = None) -> None:
    """Queue one entry in the current transaction (chained at commit, dropped on rollback)."""
    ip, agent = "", "task"  # the worker or a command
    if has_request_context():
        ip, agent = request.remote_addr or "", request.headers.get("User-Agent", "")[:300]
    if organisation_id is None and actor is not None:
        organisation_id = actor.organisation_id
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, drops the queued entry
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, {
        "time": utc_iso(now),
        "recorded_at": now,
        "actor": actor.id if actor is not None else None,
        "organisation": organisation_id,
        "ip": ip,
        "user_agent": agent,
        "action": action,
        "subject": {"type": subject_type, "id": str(subject_id)},
        "payload": payload or {},
    }))


def _body(entry: dict, seq: int, prev: str) -> bytes:
    return canonical({"seq": seq, "time": entry["time"], "actor": entry["actor"],
                      "organisation": entry["organisation"], "ip": entry["ip"],
                      "user_agent": entry["user_agent"], "action": entry["action"],
                      "subject": entry["subject"], "payload": entry["payload"], "prev": prev})


# PostgreSQL: the entry goes in with a temporary negative sequence number and placeholders for prev and seq;
# a deferred trigger (migration 0004) chains it inside COMMIT, so the head is locked only for the trigger and
# the commit itself, never across a round trip to this process.
_PG_PENDING = text("""
INSERT INTO journal_entry (seq, recorded_at, actor_id, organisation_id, ip_address, user_agent, action,
                           subject_type, subject_id, payload, body, prev_hash, hash)
VALUES (-nextval('journal_pending_seq'), :recorded_at, :actor_id, :organisation_id, :ip_address, :user_agent,
        :action, :subject_type, :subject_id, :payload, :body, '', :placeholder_hash)
""")
_PREV_MARK = "P" * 64


def _row(entry: dict) -> dict:
    return {"recorded_at": entry["recorded_at"], "actor_id": entry["actor"],
            "organisation_id": entry["organisation"], "ip_address": entry["ip"],
            "user_agent": entry["user_agent"], "action": entry["action"],
            "subject_type": entry["subject"]["type"], "subject_id": entry["subject"]["id"],
            "payload": canonical(entry["payload"]).decode()}


@event.listens_for(Session, "before_commit")
def _chain(session: Session) -> None:
    pending = [entry for _transaction, entry in session.info.pop(_PENDING, [])]
    if not pending:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_PENDING, [{**_row(entry), "body": _body(entry, 0, _PREV_MARK).decode(),
                                          "placeholder_hash": uuid.uuid4().hex} for entry in pending])
        return
    # SQLite: write transactions are exclusive already (BEGIN IMMEDIATE), so read, chain, write.
    seq, prev = connection.execute(select(JournalHead.seq, JournalHead.hash).where(JournalHead.id == 1)).one()
    rows = []
    for entry in pending:
        seq += 1
        body = _body(entry, seq, prev)
        digest = hashlib.sha256(body).hexdigest()
        rows.append({**_row(entry), "seq": seq, "body": body.decode(), "prev_hash": prev, "hash": digest})
        prev = digest
    connection.execute(insert(JournalEntry), rows)
    connection.execute(update(JournalHead).where(JournalHead.id == 1).values(seq=seq, hash=prev))


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction) -> None:
    """The change is gone, so is its entry: a rolled-back savepoint drops the entries recorded inside it."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(t, e) for t, e in pending if not within(t, previous_transaction)]


def head() -> tuple[int, str]:
    return tuple(db.session.execute(select(JournalHead.seq, JournalHead.hash).where(JournalHead.id == 1)).one())


# Verification ---------------------------------------------------------------------------------------

# What each reason code means, for the people reading a verification (the CLI prints the code and detail).
REASONS = {
    "hash_mismatch": _l("the stored hash is not the SHA-256 of the entry's body"),
    "body_invalid": _l("the entry's body is not JSON"),
    "entry_out_of_place": _l("the entry is stored under another sequence number than its body names"),
    "chain_broken": _l("the entry does not name the previous entry's hash"),
    "column_mismatch": _l("a column disagrees with the entry's body"),
    "entry_missing": _l("an entry is missing"),
    "entry_unchained": _l("an entry was stored without being chained"),
    "head_mismatch": _l("the head does not name the last entry's hash"),
    "checkpoint_mismatch": _l("a signed checkpoint names another hash for this entry"),
    "checkpoint_signature": _l("a checkpoint's seal signature does not verify"),
}


@dataclass
class Verdict:
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


COLUMNS = ("recorded_at", "actor_id", "organisation_id", "ip_address", "user_agent", "action",
           "subject_type", "subject_id", "payload", "prev_hash", "hash")


def _time_text(value) -> str:
    """recorded_at as the body spells it; SQLite hands back the stored text, PostgreSQL a datetime."""
    if isinstance(value, str):
        return value.replace(" ", "T", 1) + "+00:00"
    return utc_iso(value)


def _column_problem(row, body: dict) -> str | None:
    """The first column that disagrees with the entry's body, if any."""
    _seq, recorded_at, actor, organisation, ip, agent, action, subject_type, subject_id, payload = row[:10]
    subject = body.get("subject") or {}
    for name, column, value in (("actor_id", actor, body.get("actor")),
                                ("organisation_id", organisation, body.get("organisation")),
                                ("ip_address", ip, body.get("ip")), ("user_agent", agent, body.get("user_agent")),
                                ("action", action, body.get("action")),
                                ("subject_type", subject_type, subject.get("type")),
                                ("subject_id", subject_id, subject.get("id"))):
        if column != value:
            return name
    if _time_text(recorded_at) != body.get("time"):
        return "recorded_at"
    if json.loads(payload) != body.get("payload"):
        return "payload"
    return None


# Plain SQL without type processing: verification reads every row, so every microsecond counts.
_VERIFY_BATCH = text("SELECT seq, recorded_at, actor_id, organisation_id, ip_address, user_agent, action, "
                     "subject_type, subject_id, payload, body, prev_hash, hash FROM journal_entry "
                     "WHERE seq >= :first AND seq <= :last ORDER BY seq LIMIT :size")


# PostgreSQL rebuilds each canonical body from the columns (to_json escapes strings as RFC 8785 does) and
# compares it with the stored body: equal bytes mean every column agrees with the body. The verifier then
# reads only seq, body, prev_hash, hash and that flag; a row that differs is read whole and checked in
# Python, which names the column.
_VERIFY_STREAM_PG = """
SELECT seq, body, prev_hash, hash, body = '{"action":' || to_json(action)::text
    || ',"actor":' || COALESCE(actor_id::text, 'null') || ',"ip":' || to_json(ip_address)::text
    || ',"organisation":' || COALESCE(organisation_id::text, 'null') || ',"payload":' || payload
    || ',"prev":"' || prev_hash || '","seq":' || seq || ',"subject":{"id":' || to_json(subject_id)::text
    || ',"type":' || to_json(subject_type)::text || '},"time":"'
    || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
    || '","user_agent":' || to_json(user_agent)::text || '}'
FROM journal_entry WHERE seq >= %(first)s AND seq <= %(last)s ORDER BY seq
"""
_VERIFY_ONE = text(str(_VERIFY_BATCH).replace("WHERE seq >= :first AND seq <= :last ORDER BY seq LIMIT :size",
                                               "WHERE seq = :seq"))


def _check_whole(row, expected_prev: str) -> Verdict | None:
    """Every check on one whole row (seq … hash), in the order that names the most telling failure."""
    seq, body_text, prev_hash, digest = row[0], row[10], row[11], row[12]
    raw = body_text.encode()
    if hashlib.sha256(raw).hexdigest() != digest:
        return Verdict(0, seq, "hash_mismatch", "the stored hash is not the SHA-256 of the body")
    try:
        body = json.loads(raw)
    except ValueError:
        return Verdict(0, seq, "body_invalid", "the body is not JSON")
    if body.get("seq") != seq:
        return Verdict(0, seq, "entry_out_of_place", f"the entry stored as {seq} says it is entry {body.get('seq')}")
    if body.get("prev") != expected_prev or prev_hash != expected_prev:
        return Verdict(0, seq, "chain_broken", "the entry does not name the previous entry's hash")
    column = _column_problem(row, body)
    return Verdict(0, seq, "column_mismatch", column) if column else None


def _batches(first: int, last: int, size: int):
    """Yield (rows, flagged) batch by batch from ``first`` to ``last``: on PostgreSQL rows of
    (seq, body, prev_hash, hash, agrees), flagged True, read ahead by a thread on a connection of its own
    so that the server builds the next batch while this process hashes the current one; elsewhere whole
    rows, flagged False."""
    if db.session.get_bind().dialect.name != "postgresql":
        while True:
            rows = db.session.execute(_VERIFY_BATCH, {"first": first, "last": last, "size": size}).all()
            db.session.commit()
            yield rows, False
            if len(rows) < size:
                return
            first = rows[-1][0] + 1
    connection = db.engine.raw_connection()
    ahead: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read_ahead(start: int) -> None:
        try:
            # A server-side cursor streams the whole range in one index scan, whatever the statistics say
            # (batches with LIMIT may each be planned as a full scan when the statistics are stale).
            cursor = connection.cursor(name="journal_verify")
            cursor.itersize = size
            cursor.execute(_VERIFY_STREAM_PG, {"first": start, "last": last})
            while not stop.is_set():
                rows = cursor.fetchmany(size)
                ahead.put(rows)
                if len(rows) < size:
                    break
            cursor.close()
            connection.commit()
            ahead.put(None)
        except Exception as error:  # noqa: BLE001 - handed to the verifier, which raises it
            ahead.put(error)

    reader = threading.Thread(target=read_ahead, args=(first,), daemon=True)
    reader.start()
    try:
        while (rows := ahead.get()) is not None:
            if isinstance(rows, Exception):
                raise rows
            yield rows, True
    finally:
        stop.set()
        while reader.is_alive():  # let it finish its query, then give its connection back
            try:
                ahead.get(timeout=0.1)
            except queue.Empty:
                pass
        connection.close()


def verify(batch: int = 5000, progress=None) -> Verdict:
    """Recompute every hash from the stored bodies, check the chain, every column against its body,
    the head row, and every signed checkpoint. Names the first entry that fails.

    Entries are read in batches by sequence number, each batch in a short transaction of its own (the
    journal only grows, so nothing read can change); ``progress(checked, total)`` is called between
    batches and may commit — the page that shows progress uses that."""
    total, head_hash = head()
    checkpoints = {c.seq: c for c in db.session.scalars(select(Checkpoint))}
    for signed in checkpoints.values():
        if not seal.verify(signed.body.encode(), signed.signature, checkpoint_certificate(signed)):
            return Verdict(0, signed.seq, "checkpoint_signature", f"checkpoint {signed.id}")
        if signed.seq > total:
            return Verdict(0, signed.seq, "entry_missing", "a signed checkpoint names an entry beyond the head")
    unchained = db.session.scalar(select(func.min(JournalEntry.seq)))
    if unchained is not None and unchained < 1:
        return Verdict(0, unchained, "entry_unchained", "an entry was stored without being chained")
    db.session.commit()
    expected_seq, prev, checked = 1, GENESIS, 0
    sha256 = hashlib.sha256
    with closing(_batches(1, total, batch)) as batches:  # closing: stops the read-ahead on an early return
        for rows, flagged in batches:
            for row in rows:
                seq = row[0]
                if seq != expected_seq:
                    return Verdict(checked, expected_seq, "entry_missing",
                                   f"entry {expected_seq} is missing; the next stored entry is {seq}")
                if flagged:
                    digest = row[3]
                    fine = row[4] and row[2] == prev and sha256(row[1].encode()).hexdigest() == digest
                    if not fine:
                        row = db.session.execute(_VERIFY_ONE, {"seq": seq}).one()
                if not flagged or not fine:
                    digest = row[12]
                    problem = _check_whole(row, prev)
                    if problem:
                        problem.checked = checked
                        return problem
                signed = checkpoints.get(seq)
                if signed is not None and signed.head_hash != digest:
                    return Verdict(checked, seq, "checkpoint_mismatch", f"checkpoint {signed.id} signed another hash")
                prev, expected_seq, checked = digest, seq + 1, checked + 1
            db.session.commit()
            if progress:
                progress(checked, total)
    if checked != total:
        return Verdict(checked, checked + 1, "entry_missing", f"the head names {total} entries; {checked} are stored")
    if prev != head_hash:
        return Verdict(checked, total, "head_mismatch", "the last entry's hash is not the head's")
    return Verdict(checked)


# Signed checkpoints -----------------------------------------------------------------------------------

def checkpoint_certificate(checkpoint: Checkpoint) -> str:
    return db.session.get(PlatformKey, checkpoint.key_id).certificate_pem


def checkpoint(now: datetime, force: bool = False) -> Checkpoint | None:
    """Sign the current head with the platform seal (skipped when nothing changed since the last one)."""
    seq, digest = head()
    last = db.session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)).first()
    if not force and (seq == 0 or (last is not None and last.seq == seq)):
        return None
    key = seal.ensure(now)
    body = canonical({"type": "journal-checkpoint", "seq": seq, "head": digest, "time": utc_iso(now),
                      "certificate": key.certificate_sha256})
    signature = seal.sign(key, body)
    row = Checkpoint(seq=seq, head_hash=digest, signed_at=now, key_id=key.id, body=body.decode(),
                     signature=signature)
    db.session.add(row)
    db.session.flush()
    return row


def certificate_lines(connection):
    """Every platform certificate (CA and seals, retired ones too): an export's first lines."""
    for key in connection.execute(select(PlatformKey.purpose, PlatformKey.certificate_pem).order_by(PlatformKey.id)):
        yield json.dumps({"type": "certificate", "purpose": key.purpose, "pem": key.certificate_pem}) + "\n"


def export_lines(engine):
    """The journal as JSON Lines: certificates, signed checkpoints, then every entry (docs/formats.md), read
    from one snapshot of its own (``core.db.snapshot``: the download may last; writers go on meanwhile)."""
    with snapshot(engine) as connection:
        yield from certificate_lines(connection)
        for c in connection.execute(select(Checkpoint.body, Checkpoint.signature).order_by(Checkpoint.id)):
            yield json.dumps({"type": "checkpoint", "body": c.body, "signature": c.signature.hex()}) + "\n"
        rows = connection.execute(select(JournalEntry.seq, JournalEntry.body, JournalEntry.hash)
                                  .order_by(JournalEntry.seq).execution_options(yield_per=5000))
        for row in rows:
            yield json.dumps({"type": "entry", "seq": row.seq, "body": row.body, "hash": row.hash},
                             ensure_ascii=False) + "\n"
