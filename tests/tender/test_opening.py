"""The online opening: shares released within the window, every bid decided exactly once, the record sealed
with the platform seal and answered by the bidders."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from core import seal, storage
from core.crypto import custody
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry
from tender import evaluation, opening as openings
from tender.models import BidResult, Opening, RecordResponse, ReleasedShare
from tests.tender.factories import BidderPki
from tests.tender.opening_factories import PIN, Closed


@pytest.fixture
def bidder_pki(app, tmp_path):
    saved = app.config["TRUST_STORE_DIR"]
    yield BidderPki(app, tmp_path / "trust")
    app.config["TRUST_STORE_DIR"] = saved


@pytest.fixture
def closed(demo, published, bidder_pki):
    return Closed(demo, published, bidder_pki)


def code_of(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def actions(section) -> list[str]:
    return db.session.scalars(select(JournalEntry.action).where(JournalEntry.subject_type == "section",
                                                                JournalEntry.subject_id == str(section.id),
                                                                JournalEntry.action.like("tender.opening.%"))
                              .order_by(JournalEntry.seq)).all()


def test_two_shares_open_every_bid_with_its_price_terms_and_guarantee(closed):
    opening = closed.opened()
    assert opening.status == "decrypted" and opening.bids_decided == opening.bids_total == 3
    results = {r.organisation.credit_code: r for r in opening.results}
    assert {r.outcome for r in results.values()} == {"opened"}
    assert sorted(r.price for r in results.values()) == [Decimal("950000.00"), Decimal("980000.00"),
                                                         Decimal("990000.00")]
    assert all(r.valid and r.guarantee_verdict == "valid" for r in results.values())
    first = results[closed.demo["bidder1"].organisation.credit_code]
    assert json.loads(first.terms) == {"工期": "180 天 bidder1"}
    document = json.loads(first.documents)[0]
    assert document["name"] == "投标文件.pdf" and storage.get(document["sha256"]).startswith(b"%PDF-1.4 bidder1")
    # The released shares served and are gone; who released when stays.
    assert [r.box for r in openings.released(opening)] == [None, None]
    assert actions(closed.section).count("tender.opening.bids_decided") == 1  # one batch: the three bids
    said = json.loads(db.session.scalar(select(JournalEntry.payload)
                                        .where(JournalEntry.action == "tender.opening.bids_decided")))
    assert sorted((b["bidder"], b["outcome"], b["price"], b["guarantee"]) for b in said["bids"]) == sorted(
        (code, r.outcome, str(r.price), r.guarantee_verdict) for code, r in results.items())
    assert "tender.opening.decrypted" in actions(closed.section)


def test_the_opening_cannot_start_before_the_deadline_nor_by_anyone_but_the_centre(closed):
    early = closed.section.deadline - timedelta(seconds=1)
    assert code_of(lambda: openings.start(closed.demo["centre"], closed.section, early)) in ("too_early",)
    assert code_of(lambda: openings.start(closed.demo["procuring"], closed.section, closed.at)) == "not_host"


def test_a_wrong_pin_releases_nothing(closed):
    opening = closed.start()
    assert code_of(lambda: openings.release(closed.demo["centre"], opening, "not-the-pin", closed.at, "")) == "pin_wrong"
    db.session.rollback()
    assert openings.released(opening) == []


def test_a_bidder_holds_no_share_and_a_share_is_released_once(closed):
    opening = closed.start()
    assert code_of(lambda: openings.release(closed.demo["bidder1"], opening, PIN, closed.at, "")) == "not_keyholder"
    closed.release(opening, "procuring")
    assert code_of(lambda: openings.release(closed.demo["procuring"], opening, PIN, closed.at, "")) == "share_released"
    assert opening.status == "releasing"


def test_a_share_after_the_window_is_refused_and_the_host_suspends_naming_who_did_not_release(closed):
    opening = closed.start()
    closed.release(opening, "centre")
    late = opening.release_ends_at
    assert code_of(lambda: openings.release(closed.demo["supervisor"], opening, PIN, late, "")) == "release_window_over"
    db.session.rollback()
    centre = closed.demo["centre"]
    assert code_of(lambda: openings.suspend(centre, opening, "监督人未到", late + timedelta(days=1),
                                            late - timedelta(seconds=1))) == "window_open"
    openings.suspend(centre, opening, "监督人、采购人未在时限内解密", late + timedelta(days=1), late)
    db.session.commit()
    assert opening.status == "suspended" and closed.section.status == "closed"
    assert [r.box for r in openings.released(opening)] == [None]
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "tender.section.suspend_opening")
                               ).one()
    assert {m["role"] for m in json.loads(entry.body)["payload"]["not_released"]} == {"procuring", "supervisor"}
    # Rescheduled: a second attempt, not before the new time, then opened as usual.
    assert code_of(lambda: openings.start(centre, closed.section, late + timedelta(hours=1))) == "too_early"
    second = openings.start(centre, closed.section, late + timedelta(days=1))
    db.session.commit()
    assert second.attempt == 2
    closed.release(second, "procuring", "supervisor", at=late + timedelta(days=1, minutes=1))
    assert second.status == "decrypted" and second.bids_decided == 3


def test_a_killed_worker_run_again_decides_every_bid_exactly_once(closed, monkeypatch):
    from tender import tasks
    opening = closed.start()
    # The decryption job does not start on commit here: it is run by hand, and killed after one batch.
    monkeypatch.setattr(tasks.decrypt_bids, "delay", lambda *a: None)
    closed.release(opening, "centre", "procuring")
    assert opening.status == "decrypting"
    assert openings.decrypt_batch(opening, closed.at, limit=2) == 2
    assert opening.status == "decrypting" and opening.bids_decided == 2  # one bid left: not finished
    opening_id = opening.id
    db.session.commit()
    db.session.close()  # the process dies here; another picks the job up
    assert tasks.decrypt_bids(opening_id) == 1
    assert tasks.decrypt_bids(opening_id) == 0  # and a duplicate delivery finds nothing left
    opening = db.session.get(Opening, opening_id)
    assert opening.status == "decrypted" and opening.bids_decided == 3
    assert db.session.scalar(select(func.count(BidResult.id)).where(BidResult.opening_id == opening.id)) == 3


def test_a_worker_that_waited_for_the_lock_sees_the_opening_finished_by_another_and_decides_nothing(
        closed, monkeypatch):
    from sqlalchemy import update
    from tender import tasks
    opening = closed.start()
    monkeypatch.setattr(tasks.decrypt_bids, "delay", lambda *a: None)
    closed.release(opening, "centre", "procuring")
    # Another worker finishes the opening meanwhile; this session's copy of it still says "decrypting".
    db.session.execute(update(Opening).where(Opening.id == opening.id).values(status="decrypted")
                       .execution_options(synchronize_session=False))
    assert opening.status == "decrypting"
    assert code_of(lambda: openings.decrypt_batch(opening, closed.at)) == "opening_transition_refused"
    db.session.rollback()
    assert db.session.scalar(select(func.count(BidResult.id)).where(BidResult.opening_id == opening.id)) == 0


def test_a_document_that_cannot_be_stored_fails_the_batch_and_decides_nothing(closed, monkeypatch):
    from tender import tasks
    opening = closed.start()
    monkeypatch.setattr(tasks.decrypt_bids, "delay", lambda *a: None)
    closed.release(opening, "centre", "procuring")

    def disk_full(path, data):
        raise OSError(28, "No space left on device")
    real_write = storage._write
    monkeypatch.setattr(storage, "_write", disk_full)
    with pytest.raises(OSError):
        openings.decrypt_batch(opening, closed.at)
    db.session.rollback()
    assert db.session.scalar(select(func.count(BidResult.id)).where(BidResult.opening_id == opening.id)) == 0
    opening_id = opening.id
    db.session.commit()
    db.session.close()
    monkeypatch.setattr(storage, "_write", real_write)
    assert tasks.decrypt_bids(opening_id) == 3  # the job run again decides them all


def faulty_tool(bidder_pki):
    """A bidder's tool that signs the envelope right but seals the content bound to another bidder: the
    platform accepts it (it cannot read it) and the opening finds it undecryptable."""
    def seal_(section, user, price, marker):
        from core import clock
        from core.crypto import envelope, pki, sealing, signing
        key, certificate = bidder_pki.holder(user)
        content = envelope.pack_content(price, {}, [])
        ciphertext = sealing.seal(section.key.suite, section.key.public_key, content,
                                  sealing.info(str(section.id), section.code, "91320100000000000X"))
        body = envelope.envelope_body(suite=section.key.suite,
                                      key_fingerprint=sealing.key_fingerprint(section.key.public_key),
                                      section_id=str(section.id), section_code=section.code,
                                      bidder=user.organisation.credit_code, ciphertext=ciphertext, sealed_at=clock.now())
        return envelope.pack_envelope(envelope.Envelope(body, signing.sign(key, body), [pki.der(certificate)],
                                                        ciphertext))
    return seal_


def test_an_undecryptable_bid_is_treated_as_revoked_and_a_changed_envelope_as_withdrawn(demo, published, bidder_pki):
    closed = Closed(demo, published, bidder_pki, sealers={"bidder3": faulty_tool(bidder_pki)})
    # bidder2's stored envelope is altered on disk after its receipt: the platform's fault.
    path = storage._path(closed.bids[1].envelope_sha256)
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    opening = closed.opened()
    by = {r.bid_id: r for r in opening.results}
    changed, undecryptable = by[closed.bids[1].id], by[closed.bids[2].id]
    assert (changed.outcome, changed.cause) == ("deemed_withdrawn", "envelope_changed")
    assert (undecryptable.outcome, undecryptable.cause) == ("deemed_revoked", "content_undecryptable")
    assert not changed.valid and changed.price is None and not undecryptable.valid
    assert by[closed.bids[0].id].outcome == "opened" and by[closed.bids[0].id].valid


def test_an_envelope_gone_from_the_store_is_withdrawn_and_opened_documents_are_stored_whole(closed, app):
    from pathlib import Path
    storage._path(closed.bids[0].envelope_sha256).unlink()
    opening = closed.opened()
    by = {r.bid_id: r for r in opening.results}
    assert (by[closed.bids[0].id].outcome, by[closed.bids[0].id].cause) == ("deemed_withdrawn", "envelope_changed")
    stored = [d for b in closed.bids[1:] for d in json.loads(by[b.id].documents)]
    assert [storage.get(d["sha256"])[:9] for d in stored] == [b"%PDF-1.4 "] * 2
    assert not list(Path(app.config["DOCUMENT_FOLDER"]).rglob("*.tmp"))  # no temporary file left behind


def test_a_bad_guarantee_is_named_in_the_result_and_the_bid_is_not_valid(demo, published, bidder_pki):
    from cryptography import x509
    closed = Closed(demo, published, bidder_pki, guarantees=(True, True, False))
    # After its upload, the guarantor's CA puts bidder2's guarantee certificate on its CRL.
    pem = json.loads(closed.guarantees[1].document)["certificates"][0]
    closed.guarantor_pki.revoke(x509.load_pem_x509_certificate(pem.encode()))
    closed.guarantor_pki.install()
    opening = closed.opened()
    by = {r.bid_id: r for r in opening.results}
    assert by[closed.bids[2].id].guarantee_verdict == "missing" and not by[closed.bids[2].id].valid
    assert by[closed.bids[1].id].guarantee_verdict == "certificate_revoked" and not by[closed.bids[1].id].valid
    assert by[closed.bids[0].id].guarantee_id == closed.guarantees[0].id and by[closed.bids[0].id].valid


def test_a_guarantee_revoked_before_the_opening_is_named(demo, published, bidder_pki):
    from tender import guarantees
    closed = Closed(demo, published, bidder_pki)
    guarantee = closed.guarantees[0]
    guarantees.revoke(guarantee.guarantor.users[0], guarantee, "申请人撤回", closed.section.deadline - timedelta(hours=1))
    db.session.commit()
    opening = closed.opened()
    by = {r.bid_id: r for r in opening.results}
    assert by[closed.bids[0].id].guarantee_verdict == "guarantee_revoked"


def test_fewer_than_three_valid_bids_need_the_hosts_decision_before_sealing(demo, published, bidder_pki):
    closed = Closed(demo, published, bidder_pki, prices=("980000.00", "950000.00"), bidders=("bidder1", "bidder2"))
    opening = closed.opened()
    centre = demo["centre"]
    assert code_of(lambda: openings.seal_record(centre, opening, closed.at)) == "decision_needed"
    assert code_of(lambda: openings.decide(centre, opening, "continue", "", closed.at)) == "reason_required"
    openings.decide(centre, opening, "fail", "有效投标不足三家，依法重新招标", closed.at)
    openings.seal_record(centre, opening, closed.at)
    db.session.commit()
    assert opening.status == "sealed" and closed.section.status == "failed"
    assert closed.section.failure_reason == "有效投标不足三家，依法重新招标"


def test_three_valid_bids_need_no_decision(closed):
    opening = closed.opened()
    assert code_of(lambda: openings.decide(closed.demo["centre"], opening, "continue", "x", closed.at)
                   ) == "decision_not_needed"


def test_the_sealed_record_verifies_with_the_seal_certificate_and_lists_every_bid(closed):
    opening = closed.opened()
    openings.seal_record(closed.demo["centre"], opening, closed.at)
    db.session.commit()
    assert closed.section.status == "opened" and closed.section.bidder_count == 3
    wrapper = json.loads(opening.record)
    body = wrapper["body"].encode()
    key = seal.current("seal")
    assert seal.verify(body, bytes.fromhex(wrapper["signature"]), key.certificate_pem)
    record = json.loads(body)
    assert record["type"] == "eproc-opening-record" and record["valid_bids"] == 3
    assert sorted(b["price"] for b in record["bids"]) == ["950000.00", "980000.00", "990000.00"]
    assert {k["role"] for k in record["keyholders"]} == {"centre", "supervisor"}
    assert not seal.verify(body.replace(b"950000.00", b"950001.00"), bytes.fromhex(wrapper["signature"]),
                           key.certificate_pem)


def test_bidders_confirm_or_object_within_the_window_and_the_host_answers(closed):
    opening = closed.opened()
    centre = closed.demo["centre"]
    openings.seal_record(centre, opening, closed.at)
    openings.respond(closed.demo["bidder1"], opening, "confirm", "", closed.at)
    assert code_of(lambda: openings.respond(closed.demo["bidder2"], opening, "object", "", closed.at)
                   ) == "reason_required"
    objection = openings.respond(closed.demo["bidder2"], opening, "object", "我方工期报价读错", closed.at)
    assert code_of(lambda: openings.respond(closed.demo["bidder1"], opening, "object", "x", closed.at)) == "responded"
    late = opening.objections_end_at
    assert code_of(lambda: openings.respond(closed.demo["bidder3"], opening, "confirm", "", late)) == "window_over"
    assert not evaluation.is_ready(closed.section, late)  # an objection still waits for its answer
    openings.answer(centre, objection, "已核对，记录无误", late)
    db.session.commit()
    assert evaluation.is_ready(closed.section, late)
    assert not evaluation.is_ready(closed.section, late - timedelta(seconds=1))
    assert {"tender.opening.record_confirmed", "tender.opening.record_objected",
            "tender.opening.objection_answered"} <= set(actions(closed.section))


def test_the_released_share_box_opens_only_with_the_pepper(closed):
    closed.release(closed.start(), "centre")
    row = db.session.scalars(select(ReleasedShare)).one()
    label, holder = closed.section.key.key_label, row.key_share.holder
    assert len(custody.open_released_share(row.box, label, holder).split()) >= 20  # a SLIP-39 mnemonic
    with pytest.raises(custody.CustodyError):
        custody.open_released_share(row.box, label, holder, pepper=b"another pepper of 16+ bytes")


def test_the_hall_shows_nothing_of_a_bid_before_it_is_decided_and_every_result_after(closed, login):
    bidder = login("bidder1")
    page = bidder.get(f"/tender/sections/{closed.section.id}/opening")
    assert page.status_code == 200 and "开标大厅" in page.text
    opening = closed.start()
    openings.release(closed.demo["centre"], opening, PIN, closed.at, "")
    db.session.commit()
    state = bidder.get(f"/tender/sections/{closed.section.id}/opening/state").json
    assert state["opening"]["status"] == "releasing" and state["opening"]["results"] == []
    assert [k["released"] for k in state["opening"]["keyholders"]].count(True) == 1
    assert "980000" not in bidder.get(f"/tender/sections/{closed.section.id}/opening").text
    closed.release(opening, "supervisor")
    stream = bidder.get(f"/tender/sections/{closed.section.id}/opening/events")
    assert stream.mimetype == "text/event-stream"
    event = json.loads(next(line for line in stream.text.splitlines() if line.startswith("data: "))[6:])
    assert event["opening"]["status"] == "decrypted"
    assert sorted(r["price"] for r in event["opening"]["results"]) == ["950000.00", "980000.00", "990000.00"]


def test_the_host_runs_the_opening_from_the_hall_and_bidders_respond(closed, login):
    hall = f"/tender/sections/{closed.section.id}/opening"
    with time_machine.travel(closed.at, tick=True):  # the pages use the server's clock
        _run_the_hall(hall, login)


def _run_the_hall(hall, login):
    host, bidder = login("centre"), login("bidder2")
    assert host.post(f"{hall}/start").status_code == 302
    assert bidder.post(f"{hall}/sign-in").status_code == 302
    assert bidder.get(f"{hall}/state").json["opening"]["signed_in"]
    wrong = host.post(f"{hall}/release", data={"pin": "wrong-pin-0000"}, headers={"Referer": hall})
    assert wrong.status_code == 302 and "PIN" in host.get(hall).text
    for keyholder in (host, login("supervisor")):
        assert keyholder.post(f"{hall}/release", data={"pin": PIN}).status_code == 302
    assert host.post(f"{hall}/seal").status_code == 302
    assert bidder.post(f"{hall}/respond", data={"kind": "object", "text": "工期读错"}).status_code == 302
    response = db.session.scalars(select(RecordResponse)).one()
    assert host.post(f"{hall}/answer", data={"response_id": response.id, "text": "已核对"}).status_code == 302
    record = host.get(f"{hall}/record")
    assert record.status_code == 200 and "95.00 万元" in record.text and "已核对" not in record.text
    signed = host.get(f"{hall}/record?format=json")
    assert json.loads(signed.data)["signature"]


def test_the_record_and_a_receipt_verify_offline_with_the_published_certificates_alone(closed, client):
    """As docs/formats.md tells a third party: no code of the platform, only `cryptography` and JSON."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    opening = closed.opened()
    openings.seal_record(closed.demo["centre"], opening, closed.at)
    db.session.commit()
    published = client.get("/seal/certificates.pem").data
    ca = x509.load_pem_x509_certificate(client.get("/seal/ca.pem").data)
    by_fingerprint = {c.fingerprint(hashes.SHA256()).hex(): c for c in x509.load_pem_x509_certificates(published)}

    def verify(signed: bytes) -> dict:
        wrapper = json.loads(signed)
        body = json.loads(wrapper["body"])
        certificate = by_fingerprint[body["certificate"]]
        certificate.verify_directly_issued_by(ca)
        certificate.public_key().verify(bytes.fromhex(wrapper["signature"]), wrapper["body"].encode("utf-8"),
                                        ec.ECDSA(hashes.SHA256()))
        return body

    record = verify(opening.record.encode("utf-8"))
    receipt = verify(closed.bids[0].receipt.encode("utf-8"))
    assert receipt["envelope"]["sha256"] in {b["envelope_sha256"] for b in record["bids"]}
    assert {b["sequence"] for b in record["bids"]} == {b.sequence for b in closed.bids}


def test_after_a_real_opening_neither_the_key_nor_a_share_is_left_anywhere(closed, instance_dir, caplog):
    """The canary of the sealed bids, after the opening: the key lived in the job's memory only, and the
    released shares' boxes are erased."""
    import logging
    import tempfile
    import time
    from pathlib import Path

    from accounts import keys
    from tests.tender.test_bid_api import database_rows, encodings, files_under, leaks, redis_values
    caplog.set_level(logging.DEBUG)
    started = time.time() - 1
    opening = closed.opened()
    openings.seal_record(closed.demo["centre"], opening, closed.at)
    db.session.commit()
    key = closed.section.key
    mnemonics = []
    for share in key.shares:
        personal = keys.current(share.user)
        mnemonics.append(custody.unwrap_share(custody.WrappedShare(share.holder, share.public, share.box),
                                              custody.PersonalKey(personal.public, personal.box), PIN, key.key_label))
    private = custody.rebuild_opening_key(custody.OpeningKey(key.suite, key.public_key, key.key_label, []), mnemonics[:2])
    places = {**database_rows(), **files_under(instance_dir, started),
              **files_under(Path(tempfile.gettempdir()), started), **redis_values(),
              "logs": "\n".join(r.getMessage() for r in caplog.records).encode()}
    assert opening.status == "sealed" and len(openings.released(opening)) == 2
    assert leaks(encodings(private), places) == []
    assert leaks([m.encode() for m in mnemonics] + [" ".join(m.split()[:6]).encode() for m in mnemonics], places) == []
