"""The journal: every change recorded, every kind of tampering named at the right entry, signed checkpoints."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from core import clock, journal, seal
from core.crypto.canonical import canonical
from core.extensions import db
from core.models import JournalEntry
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def append(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        journal.record("test.event", "thing", i, {"n": i, "amount": "12.50"}, now=clock.now())
        db.session.commit()


def entries() -> list[JournalEntry]:
    return list(db.session.scalars(db.select(JournalEntry).order_by(JournalEntry.seq)))


def test_entries_are_chained_in_order(app):
    append(3)
    rows = entries()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "0" * 64 and rows[1].prev_hash == rows[0].hash
    assert json.loads(rows[2].body)["prev"] == rows[1].hash
    assert journal.head() == (3, rows[2].hash)
    assert journal.verify().ok


def test_a_rolled_back_change_leaves_no_entry(app):
    journal.record("test.event", "thing", 1, now=clock.now())
    db.session.rollback()
    db.session.commit()
    assert entries() == []


def test_sign_in_is_journaled_with_who_and_where(login, demo):
    login("bidder1")
    entry = db.session.scalars(db.select(JournalEntry).where(JournalEntry.action == "user.signed_in")).one()
    assert entry.actor_id == demo["bidder1"].id
    assert entry.organisation_id == demo["bidder1"].organisation_id
    assert entry.ip_address == "127.0.0.1"


def test_admin_changes_are_journaled(login, demo):
    admin = login("admin")
    admin.post("/admin/settings/tender.min_days.works.open", data={"value": "25", "reason": "新规"})
    admin.post(f"/admin/users/{demo['bidder2'].id}/deactivate")
    actions = set(db.session.scalars(db.select(JournalEntry.action)))
    assert {"settings.changed", "user.deactivate", "user.signed_in"} <= actions
    assert journal.verify().ok


# Every column that pages and queries show, changed in place, is named at the entry changed.
TAMPERING = {
    "recorded_at": "recorded_at = :t",
    "actor_id": "actor_id = 999",
    "organisation_id": "organisation_id = 999",
    "ip_address": "ip_address = '10.0.0.66'",
    "user_agent": "user_agent = 'forged'",
    "action": "action = 'test.other'",
    "subject_type": "subject_type = 'other'",
    "subject_id": "subject_id = '999'",
    "payload": "payload = :payload",
}


@pytest.mark.parametrize("column", sorted(TAMPERING))
def test_changing_a_column_is_named_at_its_entry(app, column):
    append(5)
    from datetime import timedelta
    db.session.execute(text(f"UPDATE journal_entry SET {TAMPERING[column]} WHERE seq = 3"),
                       {"t": (clock.now() - timedelta(days=1)).replace(tzinfo=None),
                        "payload": '{"amount":"99.50","n":2}'})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason, verdict.detail) == (3, "column_mismatch", column)


def test_changing_the_body_is_named_at_its_entry(app):
    append(5)
    body = json.loads(entries()[2].body)
    body["payload"]["amount"] = "99.50"
    db.session.execute(text("UPDATE journal_entry SET body = :b WHERE seq = 3"), {"b": canonical(body).decode()})
    db.session.commit()
    assert (journal.verify().first_bad_seq, journal.verify().reason) == (3, "hash_mismatch")


def test_rewriting_body_and_hash_breaks_the_chain_at_the_next_entry(app):
    append(5)
    body = json.loads(entries()[2].body)
    body["payload"]["amount"] = "99.50"
    raw = canonical(body)
    import hashlib
    db.session.execute(text("UPDATE journal_entry SET body = :b, payload = :p, hash = :h WHERE seq = 3"),
                       {"b": raw.decode(), "p": canonical(body["payload"]).decode(),
                        "h": hashlib.sha256(raw).hexdigest()})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (4, "chain_broken")


def test_changing_the_stored_hash_or_prev_is_named(app):
    append(5)
    db.session.execute(text("UPDATE journal_entry SET prev_hash = :h WHERE seq = 2"), {"h": "1" * 64})
    db.session.commit()
    assert (journal.verify().first_bad_seq, journal.verify().reason) == (2, "chain_broken")


def test_a_removed_entry_is_named(app):
    append(5)
    db.session.execute(text("DELETE FROM journal_entry WHERE seq = 3"))
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (3, "entry_missing")


def test_removing_the_last_entries_is_named(app):
    append(5)
    db.session.execute(text("DELETE FROM journal_entry WHERE seq >= 4"))
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (4, "entry_missing")


def test_an_inserted_entry_is_named(app):
    """Renumber entries 3.. up by one and slip a forged entry in as 3: entry 4 (the old 3) fails."""
    append(5)
    rows = entries()
    for seq in range(5, 2, -1):
        db.session.execute(text("UPDATE journal_entry SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
    forged = {"seq": 3, "time": json.loads(rows[1].body)["time"], "actor": None, "organisation": None, "ip": "",
              "user_agent": "task", "action": "test.forged", "subject": {"type": "thing", "id": "x"},
              "payload": {}, "prev": rows[1].hash}
    raw = canonical(forged)
    import hashlib
    db.session.execute(text(
        "INSERT INTO journal_entry (seq, recorded_at, actor_id, organisation_id, ip_address, user_agent, action, "
        "subject_type, subject_id, payload, body, prev_hash, hash) VALUES (3, :t, NULL, NULL, '', 'task', "
        "'test.forged', 'thing', 'x', '{}', :b, :p, :h)"),
        {"t": rows[1].recorded_at if db.engine.dialect.name != "sqlite" else rows[1].recorded_at.replace(tzinfo=None),
         "b": raw.decode(), "p": rows[1].hash, "h": hashlib.sha256(raw).hexdigest()})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (4, "entry_out_of_place")


def test_reordered_entries_are_named(app):
    append(5)
    db.session.execute(text("UPDATE journal_entry SET seq = 100 WHERE seq = 2"))
    db.session.execute(text("UPDATE journal_entry SET seq = 2 WHERE seq = 3"))
    db.session.execute(text("UPDATE journal_entry SET seq = 3 WHERE seq = 100"))
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (2, "entry_out_of_place")


def test_a_signed_checkpoint_catches_a_consistently_rewritten_history(app):
    """Rewriting entry 2 and re-chaining everything after it passes the chain check, not the checkpoint."""
    import hashlib
    append(4)
    journal.checkpoint(clock.now())
    db.session.commit()
    assert journal.verify().ok
    prev = entries()[0].hash
    for row in entries()[1:]:
        body = json.loads(row.body)
        if body["seq"] == 2:
            body["payload"]["amount"] = "0.01"
        body["prev"] = prev
        raw = canonical(body)
        digest = hashlib.sha256(raw).hexdigest()
        db.session.execute(text("UPDATE journal_entry SET body = :b, payload = :p, prev_hash = :prev, hash = :h "
                                "WHERE seq = :s"), {"b": raw.decode(), "p": canonical(body["payload"]).decode(),
                                                    "prev": prev, "h": digest, "s": body["seq"]})
        prev = digest
    db.session.execute(text("UPDATE journal_head SET hash = :h"), {"h": prev})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (4, "checkpoint_mismatch")


def test_a_forged_checkpoint_signature_is_named(app):
    append(2)
    row = journal.checkpoint(clock.now())
    db.session.commit()
    db.session.execute(text("UPDATE journal_checkpoint SET signature = :s"), {"s": bytes(row.signature[:-1]) + b"\0"})
    db.session.commit()
    assert journal.verify().reason == "checkpoint_signature"


def test_checkpoints_verify_with_the_published_certificate_after_rotation(app, client):
    append(2)
    old = journal.checkpoint(clock.now())
    db.session.commit()
    seal.rotate(clock.now())
    db.session.commit()
    published = client.get("/seal/certificates.pem").text
    assert seal.current("seal").certificate_pem in published
    old_certificate = journal.checkpoint_certificate(old)
    assert old_certificate in published
    assert seal.verify(old.body.encode(), old.signature, old_certificate)
    assert journal.verify().ok


def test_a_copy_of_the_database_alone_cannot_seal(app):
    """Without MASTER_KEY (kept outside the database) the stored seal key does not open."""
    from core.errors import DomainError
    from core.models import PlatformKey
    seal.ensure(clock.now())
    db.session.commit()
    for key in db.session.scalars(db.select(PlatformKey)):
        assert b"PRIVATE KEY" not in key.private_key_box
    original = app.config["MASTER_KEY"]
    app.config["MASTER_KEY"] = os.urandom(32)  # the thief's installation
    try:
        with pytest.raises(DomainError) as refused:
            seal.sign(seal.current("seal"), b"anything")
        assert refused.value.code == "seal_key_unavailable"
    finally:
        app.config["MASTER_KEY"] = original


def test_the_seal_certificate_chains_to_the_platform_ca(app, client):
    from cryptography import x509
    seal.ensure(clock.now())
    db.session.commit()
    certificate = x509.load_pem_x509_certificate(client.get("/seal/certificate.pem").data)
    ca = x509.load_pem_x509_certificate(client.get("/seal/ca.pem").data)
    certificate.verify_directly_issued_by(ca)
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


WRITER = """
import sys
from app import create_app
from core import clock, journal
from core.extensions import db
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    for i in range(int(sys.argv[3])):
        journal.record("test.concurrent", "writer", sys.argv[2], {"i": i}, now=clock.now())
        db.session.commit()
"""


def _concurrent_writers(app, writers: int, each: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(w), str(each)], cwd=ROOT, env=env,
                                  stderr=subprocess.PIPE) for w in range(writers)]
    for p in processes:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()


def test_concurrent_appends_from_several_processes_on_postgresql_leave_one_chain(app):
    require_service("PostgreSQL", db.engine.dialect.name == "postgresql", "set TEST_DATABASE_URL")
    _concurrent_writers(app, writers=6, each=40)
    verdict = journal.verify()
    assert verdict.ok and verdict.checked == 240
    prevs = db.session.scalars(db.select(JournalEntry.prev_hash)).all()
    assert len(set(prevs)) == len(prevs)  # no two entries share a predecessor


def test_concurrent_appends_on_sqlite_leave_one_chain(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite variant of the test above")
    _concurrent_writers(app, writers=4, each=25)
    verdict = journal.verify()
    assert verdict.ok and verdict.checked == 100


def test_a_body_that_is_not_json_is_named(app):
    import hashlib
    append(4)
    db.session.execute(text("UPDATE journal_entry SET body = 'not json', hash = :h WHERE seq = 2"),
                       {"h": hashlib.sha256(b"not json").hexdigest()})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (2, "body_invalid")


def test_postgresql_rebuilds_every_canonical_body_from_its_columns(app, demo):
    """The fast path of verification on PostgreSQL: untampered entries, awkward characters included,
    must compare equal byte for byte (else every entry would fall back to the slow check)."""
    require_service("PostgreSQL", db.engine.dialect.name == "postgresql", "set TEST_DATABASE_URL")
    journal.record("test.awkward", "thing", 'id "quoted" \\ back', {"text": 'tab\t nl\n \u0001 "q" 中文 \u007f €'},
                   actor=demo["bidder1"], now=clock.now())
    journal.record("test.plain", "thing", 2, now=clock.now())
    db.session.commit()
    from contextlib import closing
    with closing(journal._batches(1, 2, 10)) as batches:
        rows, flagged = next(batches)
    assert flagged and [row[4] for row in rows] == [True, True]


def test_a_changed_head_is_named(app):
    append(3)
    db.session.execute(text("UPDATE journal_head SET hash = :h"), {"h": "2" * 64})
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (3, "head_mismatch")


def test_an_entry_stored_without_being_chained_is_named(app):
    append(2)
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:  # the chaining trigger would chain it: store it as a writer bypassing the platform would
        db.session.execute(text("ALTER TABLE journal_entry DISABLE TRIGGER journal_chain"))
    db.session.execute(text(
        "INSERT INTO journal_entry (seq, recorded_at, actor_id, organisation_id, ip_address, user_agent, action, "
        "subject_type, subject_id, payload, body, prev_hash, hash) VALUES (-7, :t, NULL, NULL, '', '', 'x', 'x', "
        "'x', '{}', '{}', '', 'pending')"), {"t": clock.now().replace(tzinfo=None)})
    if postgres:
        db.session.execute(text("ALTER TABLE journal_entry ENABLE TRIGGER journal_chain"))
    db.session.commit()
    verdict = journal.verify()
    assert (verdict.first_bad_seq, verdict.reason) == (-7, "entry_unchained")


def test_a_rolled_back_savepoint_drops_only_its_own_entries(app):
    journal.record("test.kept", "thing", 1, now=clock.now())
    savepoint = db.session.begin_nested()
    journal.record("test.dropped", "thing", 2, now=clock.now())
    savepoint.rollback()
    db.session.commit()
    assert [e.action for e in entries()] == ["test.kept"]
    assert journal.verify().ok
