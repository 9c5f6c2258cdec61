"""Online opening (不见面开标) of a section, DOMAIN.md "Opening".

The host (centre staff) starts an attempt at or after the deadline; bidders sign in; keyholders release
their shares with their PINs within the window. A released share is kept only boxed under the pepper
(core.crypto.custody) until the decryption job has used it. With k shares the job (tender.tasks.decrypt_bids)
rebuilds the opening key in its memory and decides every current bid exactly once, in batches, committing
after each: a worker killed midway, run again, goes on with the bids not yet decided. Too few shares in the
window: the host suspends the attempt and reschedules. Fewer than three valid bids: the host records
"continue" with its legal ground, or the section's failure. The host then seals the opening record with
the platform seal; bidders confirm or object within the window and the host answers objections.
"""
import hashlib
import json
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import joinedload

from accounts.models import PersonalKey, User
from core import clock, journal, lifecycle, notifications, seal, settings, storage, trust_store
from core.crypto import canonical, custody, envelope
from core.crypto.signing import SignatureRefused
from core.errors import DomainError
from core.extensions import db
from core.oncommit import after_commit
from core.permissions import Role
from tender import guarantees, publication, states
from tender.models import Bid, BidResult, Guarantee, KeyShare, Opening, RecordResponse, Registration, ReleasedShare, Section, SignIn

settings.define(settings.Definition("tender.release_window_minutes", int, 30,
                                    _l("Time keyholders have to release their key shares at an opening"),
                                    _l("minutes"), 5, 240))
settings.define(settings.Definition("tender.objection_window_minutes", int, 30,
                                    _l("Time bidders have to confirm or object to an opening record"),
                                    _l("minutes"), 5, 1440))
settings.define(settings.Definition("tender.min_valid_bids", int, 3,
                                    _l("Valid bids below which the host must decide whether the opening continues"),
                                    _l("bids"), 1, 10))

RECORD_TYPE = "eproc-opening-record"
RECORD_VERSION = 1
BATCH = 100  # bids per transaction: a crash redoes at most this many; larger batches spread the per-batch queries
DECISIONS = {"continue": _l("Continue the procedure"), "fail": _l("The section fails (流标)")}
OUTCOMES = {"opened": _l("opened"), "deemed_revoked": _l("treated as revoked (视为撤销)"),
            "deemed_withdrawn": _l("treated as withdrawn (视为撤回)")}


def _local(moment: datetime) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")


def _advance(opening: Opening, action: str) -> str:
    return lifecycle.advance(states.OPENING, opening, action, "opening", states.OPENING_LABELS,
                             states.OPENING_ACTIONS)


def _host(actor: User) -> None:
    if actor.role != Role.CENTRE:
        raise DomainError("not_host", _("Only centre staff host an opening."), 403)


def current(section: Section) -> Opening | None:
    return section.openings[-1] if section.openings else None


def current_bids(section: Section) -> list[Bid]:
    return db.session.scalars(select(Bid).where(Bid.section_id == section.id, Bid.status == "submitted")
                              .order_by(Bid.sequence)).all()


def start(actor: User, section: Section, now: datetime) -> Opening:
    _host(actor)
    states.require(states.SECTION, section, "start_opening", "section")
    last = current(section)
    not_before = last.rescheduled_to if last is not None and last.rescheduled_to else section.deadline
    if now < not_before:
        raise DomainError("too_early", _("The opening cannot start before %(time)s Beijing time.",
                                         time=_local(not_before)), 409)
    if not current_bids(section):
        raise DomainError("no_bids", _("No bid was submitted: record the section's failure (流标) instead."), 409)
    opening = Opening(section=section, attempt=(last.attempt + 1) if last else 1, status="releasing",
                      host_id=actor.id, started_at=now,
                      release_ends_at=now + timedelta(minutes=settings.value("tender.release_window_minutes", now)))
    db.session.add(opening)
    db.session.flush()
    publication.move(actor, section, "start_opening", now,
                     {"opening": opening.id, "attempt": opening.attempt,
                      "release_ends_at": canonical.utc_iso(opening.release_ends_at)})
    holders = [share.user_id for share in section.key.shares]
    notifications.notify(holders, "tender.opening.started",
                         _l("Opening of %(code)s: release your key share", code=section.code),
                         _l("Release your share with your PIN before %(time)s Beijing time.",
                           time=_local(opening.release_ends_at)),
                         f"/tender/sections/{section.id}/opening", now)
    return opening


def bidder_of(section: Section, user: User) -> bool:
    """A bidder whose organisation has a bid in this section (any version)."""
    return user.role == Role.BIDDER and db.session.scalar(
        select(func.count(Bid.id)).where(Bid.section_id == section.id,
                                         Bid.organisation_id == user.organisation_id)) > 0


def sign_in(actor: User, opening: Opening, now: datetime, ip: str) -> SignIn:
    if not bidder_of(opening.section, actor):
        raise DomainError("not_a_bidder", _("Only bidders of this section sign in to its opening."), 403)
    _require(opening, "sign_in")
    if any(s.organisation_id == actor.organisation_id for s in opening.sign_ins):
        raise DomainError("signed_in", _("Your company has already signed in."), 409)
    row = SignIn(opening=opening, organisation_id=actor.organisation_id, user_id=actor.id, at=now,
                 ip_address=(ip or "")[:64])
    db.session.add(row)
    db.session.flush()
    journal.record("tender.opening.signed_in", "section", opening.section_id,
                   {"opening": opening.id, "bidder": actor.organisation.credit_code, "ip": row.ip_address},
                   actor=actor, now=now)
    return row


def _require(opening: Opening, action: str) -> None:
    lifecycle.require(states.OPENING, opening, action, "opening", states.OPENING_LABELS, states.OPENING_ACTIONS)


def share_of(opening: Opening, user: User) -> KeyShare | None:
    key = opening.section.key
    return next((s for s in key.shares if s.user_id == user.id), None) if key else None


def released(opening: Opening) -> list[ReleasedShare]:
    return db.session.scalars(select(ReleasedShare).where(ReleasedShare.opening_id == opening.id)
                              .order_by(ReleasedShare.id)).all()


def _drop_boxes(opening: Opening) -> None:
    """The shares have served (or the attempt ended): nothing of the key stays behind, only who released when."""
    for row in released(opening):
        row.box = None


def release(actor: User, opening: Opening, pin: str, now: datetime, ip: str) -> ReleasedShare:
    """The keyholder's share, unwrapped with the PIN and boxed for the decryption job. The k-th share
    starts the decryption (after the commit)."""
    share = share_of(opening, actor)
    if share is None:
        raise DomainError("not_keyholder", _("You hold no share of this section's opening key."), 403)
    # Keyholders releasing at the same moment queue here, so exactly one of them sees the k-th share.
    db.session.scalar(select(Opening.id).where(Opening.id == opening.id).with_for_update())
    db.session.refresh(opening)
    _require(opening, "release")
    if now >= opening.release_ends_at:
        raise DomainError("release_window_over", _("The window for releasing key shares has closed."), 409)
    if any(r.key_share_id == share.id for r in released(opening)):
        raise DomainError("share_released", _("You have already released your share."), 409)
    personal = db.session.get(PersonalKey, share.personal_key_id)
    mnemonic = custody.unwrap_share(custody.WrappedShare(share.holder, share.public, share.box),
                                    custody.PersonalKey(personal.public, personal.box), pin,
                                    opening.section.key.key_label)
    row = ReleasedShare(opening_id=opening.id, key_share_id=share.id, released_at=now, ip_address=(ip or "")[:64],
                        box=custody.box_released_share(mnemonic, opening.section.key.key_label, share.holder))
    del mnemonic
    db.session.add(row)
    db.session.flush()
    journal.record("tender.opening.share_released", "section", opening.section_id,
                   {"opening": opening.id, "role": share.role, "keyholder": actor.id, "ip": row.ip_address},
                   actor=actor, now=now)
    if len(released(opening)) >= opening.section.key.threshold:
        _advance(opening, "decrypt")
        opening.decrypt_started_at = now
        opening.bids_total = len(current_bids(opening.section))
        journal.record("tender.opening.decryption_started", "section", opening.section_id,
                       {"opening": opening.id, "bids": opening.bids_total}, actor=actor, now=now)
        from tender.tasks import decrypt_bids  # the task module imports this one
        opening_id = opening.id
        after_commit(lambda: decrypt_bids.delay(opening_id))
    return row


def missing_keyholders(opening: Opening) -> list[KeyShare]:
    done = {r.key_share_id for r in released(opening)}
    return [s for s in opening.section.key.shares if s.id not in done]


def suspend(actor: User, opening: Opening, note: str, reschedule_to: datetime, now: datetime) -> Opening:
    """Too few shares in the window (交易现场异常情况): the attempt ends, the released shares are dropped, the
    section goes back to "closed" until the rescheduled time, and the journal names who did not release."""
    _host(actor)
    _require(opening, "suspend")
    if now < opening.release_ends_at:
        raise DomainError("window_open", _("Keyholders may still release their shares until %(time)s Beijing "
                                           "time.", time=_local(opening.release_ends_at)), 409)
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        raise DomainError("reason_required", _("Describe the anomaly for the record."))
    if reschedule_to is None or reschedule_to <= now:
        raise DomainError("reschedule_invalid", _("Choose a later time for the rescheduled opening."))
    missing = missing_keyholders(opening)
    _drop_boxes(opening)
    _advance(opening, "suspend")
    opening.suspended_at, opening.suspension_note, opening.rescheduled_to = now, note[:2000], reschedule_to
    publication.move(actor, opening.section, "suspend_opening", now,
                     {"opening": opening.id, "note": opening.suspension_note,
                      "rescheduled_to": canonical.utc_iso(reschedule_to),
                      "not_released": [{"role": s.role, "keyholder": s.user_id} for s in missing]})
    return opening


# The decryption job.

def _private_key(opening: Opening) -> bytes:
    key = opening.section.key
    mnemonics = [custody.open_released_share(r.box, key.key_label, r.key_share.holder) for r in released(opening)]
    return custody.rebuild_opening_key(custody.OpeningKey(key.suite, key.public_key, key.key_label, []), mnemonics)


def _decide(opening: Opening, bid: Bid, private: bytes, now: datetime, anchors,
            guarantee: tuple[Guarantee | None, str], store: storage.Writer) -> tuple[dict, dict]:
    """One bid decided: its documents stored (by ``store``); returns its BidResult row, for the batch's one
    INSERT, and what the batch's journal entry says of it."""
    section = opening.section
    outcome, cause, content = "opened", "", None
    try:
        data = storage.read(bid.envelope_sha256)  # its hash is checked by check_and_open
    except OSError:  # gone: judged below as a changed envelope
        data = b""
    try:
        # No longer the bytes received: envelope_changed. Then the bidder's signature and certificate as at its
        # receipt, against today's trust store and CRLs; then the content, opened.
        _checked, content = envelope.check_and_open(
            data, expected_sha256=bid.envelope_sha256, section_id=section.id, section_code=section.code,
            section_public_key=section.key.public_key, bidder=bid.organisation.credit_code, anchors=anchors,
            now=bid.received_at, private_key=private)
    except envelope.OpeningFailed as failed:
        outcome = "deemed_revoked" if failed.bidder_fault else "deemed_withdrawn"
        cause = failed.code
    except SignatureRefused as refused:
        # A revoked signing certificate is the bidder's doing; anything else (a stored envelope no longer
        # what was received) is not.
        outcome = "deemed_revoked" if refused.code == "certificate_revoked" else "deemed_withdrawn"
        cause = "envelope_changed" if refused.code in ("envelope_malformed", "signature_invalid",
                                                       "ciphertext_mismatch") else refused.code
    documents = []
    if content is not None:
        for document in content.documents:
            documents.append({"name": document.name, "type": document.type, "size": len(document.data),
                              "sha256": store.put(document.data, document.sha256)})
    held, verdict = guarantee
    result = {"opening_id": opening.id, "bid_id": bid.id, "organisation_id": bid.organisation_id,
              "outcome": outcome, "cause": cause, "price": content.price if content else None,
              "terms": json.dumps(content.terms if content else {}, ensure_ascii=False, sort_keys=True),
              "documents": json.dumps(documents, ensure_ascii=False), "guarantee_id": held.id if held else None,
              "guarantee_verdict": verdict, "valid": content is not None and verdict in ("valid", "not_required"),
              "decided_at": now, "ip_address": bid.ip_address}
    return result, {"bid": bid.id, "sequence": bid.sequence, "bidder": bid.organisation.credit_code,
                    "envelope_sha256": bid.envelope_sha256, "outcome": outcome, "cause": cause,
                    "price": str(content.price) if content else None, "guarantee": verdict,
                    "documents": [d["sha256"] for d in documents]}


def decrypt_batch(opening: Opening, now: datetime, limit: int = BATCH, keys: dict | None = None) -> int:
    """Decide up to ``limit`` bids not yet decided (the caller commits after each batch), and finish in the same
    transaction when none is left after them. Returns how many were decided. Lock the opening first (and read
    it again: another worker may have finished it meanwhile), so two workers never decide one bid. ``keys``: a
    dict the caller keeps from batch to batch, so that the opening key is rebuilt once per job."""
    opening = db.session.scalar(select(Opening).where(Opening.id == opening.id).with_for_update()
                                .execution_options(populate_existing=True))
    _require(opening, "finish_decrypting")
    decided = select(BidResult.bid_id).where(BidResult.opening_id == opening.id)
    pending = db.session.scalars(select(Bid).where(Bid.section_id == opening.section_id, Bid.status == "submitted",
                                                   Bid.id.not_in(decided))
                                 .options(joinedload(Bid.organisation)).order_by(Bid.sequence)
                                 .limit(limit + 1)).all()  # one more than the batch: is any left after it?
    batch = pending[:limit]
    if batch:
        keys = keys if keys is not None else {}
        if "private" not in keys:
            keys["private"] = _private_key(opening)
        private = keys["private"]
        anchors = trust_store.load()
        verdicts = guarantees.verdicts_at_opening(opening.section, [b.organisation for b in batch], now,
                                                  anchors=anchors)
        with storage.Writer() as store:  # the documents are written meanwhile, and all stored before the commit
            outcomes = [_decide(opening, bid, private, now, anchors, verdicts[bid.organisation_id], store)
                        for bid in batch]
        del private
        rows = [row for row, _said in outcomes]
        db.session.execute(insert(BidResult), rows)  # unique per opening and bid: a bid is never decided twice
        # One entry per batch, committed with its rows: each bid's decision is journaled exactly once.
        journal.record("tender.opening.bids_decided", "section", opening.section_id,
                       {"opening": opening.id, "bids": [said for _row, said in outcomes]}, now=now)
        db.session.expire(opening, ["results"])
        opening.bids_decided += len(rows)
        db.session.flush()
    if len(pending) <= limit:
        _finish_decrypting(opening, now)
    return len(batch)


def _finish_decrypting(opening: Opening, now: datetime) -> None:
    _drop_boxes(opening)
    _advance(opening, "finish_decrypting")
    opening.decrypted_at = now
    valid = valid_count(opening)
    journal.record("tender.opening.decrypted", "section", opening.section_id,
                   {"opening": opening.id, "bids": opening.bids_decided, "valid": valid}, now=now)
    notifications.notify([opening.host_id], "tender.opening.decrypted",
                         _l("Opening of %(code)s: every bid decided", code=opening.section.code),
                         _l("%(valid)s of %(total)s bids are valid.", valid=valid, total=opening.bids_decided),
                         f"/tender/sections/{opening.section_id}/opening", now)


def valid_count(opening: Opening) -> int:
    return db.session.scalar(select(func.count(BidResult.id)).where(BidResult.opening_id == opening.id,
                                                                    BidResult.valid.is_(True)))


def needs_decision(opening: Opening, now: datetime) -> bool:
    return valid_count(opening) < settings.value("tender.min_valid_bids", opening.started_at)


def decide(actor: User, opening: Opening, decision: str, ground: str, now: datetime) -> Opening:
    """Fewer valid bids than the law asks: continue (with its legal ground) or fail the section (with the reason)."""
    _host(actor)
    _require(opening, "decide")
    if not needs_decision(opening, now):
        raise DomainError("decision_not_needed", _("There are enough valid bids: no decision is needed."), 409)
    if decision not in DECISIONS:
        raise DomainError("decision_invalid", _("Choose to continue or to declare the section failed."))
    ground = ground.strip() if isinstance(ground, str) else ""
    if not ground:
        raise DomainError("reason_required", _("State the legal ground or the reason for this decision."))
    opening.decision, opening.decision_ground = decision, ground[:2000]
    journal.record("tender.opening.decided", "section", opening.section_id,
                   {"opening": opening.id, "decision": decision, "ground": opening.decision_ground,
                    "valid": valid_count(opening)}, actor=actor, now=now)
    return opening


# The opening record.

def record_body(opening: Opening, now: datetime, key) -> bytes:
    section = opening.section
    bids = []
    for result in opening.results:
        guarantee = result.guarantee
        bids.append({
            "sequence": result.bid.sequence,
            "bidder": {"credit_code": result.organisation.credit_code, "name": result.organisation.name},
            "received_at": envelope.received_at_text(result.bid.received_at),
            "envelope_sha256": result.bid.envelope_sha256,
            "outcome": result.outcome, "cause": result.cause,
            "price": str(result.price) if result.price is not None else None,
            "terms": json.loads(result.terms),
            "guarantee": {"verdict": result.guarantee_verdict,
                          "number": guarantee.number if guarantee else None,
                          "guarantor": guarantee.guarantor_code if guarantee else None},
            "valid": result.valid,
        })
    return canonical.canonical({
        "type": RECORD_TYPE, "version": RECORD_VERSION,
        "section": {"id": str(section.id), "code": section.code, "name": section.name},
        "project": {"code": section.project.code, "name": section.project.name},
        "attempt": opening.attempt,
        "base_amount": str(section.base_amount) if section.base_amount is not None else None,
        "started_at": canonical.utc_iso(opening.started_at),
        "decrypted_at": canonical.utc_iso(opening.decrypted_at),
        "sealed_at": canonical.utc_iso(now),
        "keyholders": [{"role": r.key_share.role, "at": canonical.utc_iso(r.released_at)}
                       for r in released(opening)],
        "sign_ins": [{"credit_code": s.organisation.credit_code, "at": canonical.utc_iso(s.at)}
                     for s in opening.sign_ins],
        "bids": bids,
        "valid_bids": sum(1 for b in bids if b["valid"]),
        "decision": {"decision": opening.decision, "ground": opening.decision_ground} if opening.decision else None,
        "certificate": key.certificate_sha256,
    })


def seal_record(actor: User, opening: Opening, now: datetime) -> Opening:
    """Seal the opening record with the platform seal and publish it to the bidders; the section is opened
    (or fails, when the host so decided)."""
    _host(actor)
    _require(opening, "seal")
    if needs_decision(opening, now) and not opening.decision:
        raise DomainError("decision_needed", _("Fewer valid bids than required: record first whether the "
                                               "procedure continues or the section fails."), 409)
    key = seal.ensure(now)
    body = record_body(opening, now, key)
    opening.record = canonical.canonical({"body": body.decode("utf-8"), "signature": seal.sign(key, body).hex()}
                                         ).decode("utf-8")
    opening.sealed_at = now
    opening.objections_end_at = now + timedelta(minutes=settings.value("tender.objection_window_minutes", now))
    _advance(opening, "seal")
    section = opening.section
    publication.move(actor, section, "finish_opening", now,
                     {"opening": opening.id, "record_sha256": record_sha256(opening)})
    section.bidder_count = len(opening.results)
    if opening.decision == "fail":
        publication.fail(actor, section, opening.decision_ground, now)
    bidders = db.session.scalars(select(Registration.user_id).where(Registration.section_id == section.id)).all()
    notifications.notify(bidders, "tender.opening.sealed", _l("Opening record of %(code)s", code=section.code),
                         _l("Confirm it or object before %(time)s Beijing time.",
                           time=_local(opening.objections_end_at)),
                         f"/tender/sections/{section.id}/opening", now)
    from core.tasks import journal_checkpoint  # DOMAIN: a signed checkpoint at the end of every opening
    after_commit(lambda: journal_checkpoint.delay())
    return opening


def record_sha256(opening: Opening) -> str:
    return hashlib.sha256(opening.record.encode("utf-8")).hexdigest() if opening.record else ""


def respond(actor: User, opening: Opening, kind: str, text: str, now: datetime) -> RecordResponse:
    """A bidder confirms the record or objects to it (once, within the window)."""
    _require(opening, "respond")
    if actor.role != Role.BIDDER or not any(r.organisation_id == actor.organisation_id for r in opening.results):
        raise DomainError("not_a_bidder", _("Only bidders whose bids were opened respond to the record."), 403)
    if now >= opening.objections_end_at:
        raise DomainError("window_over", _("The time to confirm or object has passed."), 409)
    if kind not in ("confirm", "object"):
        raise DomainError("response_invalid", _("Confirm the record or object to it."))
    text = text.strip() if isinstance(text, str) else ""
    if kind == "object" and not text:
        raise DomainError("reason_required", _("Say what you object to."))
    if any(r.organisation_id == actor.organisation_id for r in opening.responses):
        raise DomainError("responded", _("Your company has already responded to this record."), 409)
    row = RecordResponse(opening=opening, organisation_id=actor.organisation_id, user_id=actor.id, kind=kind,
                         text=text[:4000], at=now)
    db.session.add(row)
    db.session.flush()
    journal.record(f"tender.opening.record_{'confirmed' if kind == 'confirm' else 'objected'}", "section",
                   opening.section_id, {"opening": opening.id, "bidder": actor.organisation.credit_code,
                                        "text": row.text}, actor=actor, now=now)
    if kind == "object":
        notifications.notify([opening.host_id], "tender.opening.objection",
                             _l("Objection to the opening record of %(code)s", code=opening.section.code),
                             row.text, f"/tender/sections/{opening.section_id}/opening", now)
    return row


def answer(actor: User, response: RecordResponse, text: str, now: datetime) -> RecordResponse:
    _host(actor)
    _require(response.opening, "answer")
    if response.kind != "object" or response.answer is not None:
        raise DomainError("nothing_to_answer", _("This response is not an objection awaiting an answer."), 409)
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise DomainError("reason_required", _("Write the answer to the objection."))
    response.answer, response.answered_at, response.answered_by_id = text[:4000], now, actor.id
    journal.record("tender.opening.objection_answered", "section", response.opening.section_id,
                   {"opening": response.opening_id, "bidder": response.organisation.credit_code,
                    "answer": response.answer}, actor=actor, now=now)
    notifications.notify([response.user_id], "tender.opening.answer",
                         _l("The host answered your objection (%(code)s)", code=response.opening.section.code),
                         response.answer, f"/tender/sections/{response.opening.section_id}/opening", now)
    return response


# What the hall shows, live.

def _guarantee_label(verdict: str) -> str:
    from core.crypto import guarantee as g
    labels = {"valid": _("valid"), "not_required": _("not required"), "missing": _("none on the platform")}
    return str(labels.get(verdict) or g.REASONS.get(verdict, verdict))


def _result_row(result: BidResult) -> dict:
    from core.money import format_cny
    return {"sequence": result.bid.sequence, "bidder": result.organisation.name,
            "credit_code": result.organisation.credit_code, "outcome": result.outcome,
            "outcome_label": str(OUTCOMES[result.outcome]),
            "cause": result.cause, "cause_message": str(envelope.OPEN_REASONS.get(result.cause, result.cause))
            if result.cause else "",
            "price": str(result.price) if result.price is not None else None,
            "price_text": format_cny(result.price) if result.price is not None else "",
            "terms": json.loads(result.terms), "guarantee": result.guarantee_verdict,
            "guarantee_label": _guarantee_label(result.guarantee_verdict), "valid": result.valid}


def hall_state(section: Section, viewer: User, now: datetime) -> dict:
    """The hall as ``viewer`` sees it at ``now``: nothing of a bid before it is decided, and only what the
    opening has made public to all attendees."""
    opening = current(section)
    state = {"now": canonical.utc_iso(now), "section": {"id": section.id, "code": section.code,
                                                       "status": section.status,
                                                       "status_label": str(states.STATE_LABELS[section.status])},
             "deadline": canonical.utc_iso(section.deadline) if section.deadline else None, "opening": None}
    if opening is None:
        return state
    shares = section.key.shares if section.key else []
    done = {r.key_share_id: r for r in released(opening)}
    state["opening"] = {
        "id": opening.id, "attempt": opening.attempt, "status": opening.status,
        "status_label": str(states.OPENING_LABELS[opening.status]),
        "started_at": canonical.utc_iso(opening.started_at),
        "release_ends_at": canonical.utc_iso(opening.release_ends_at),
        "threshold": section.key.threshold if section.key else 0,
        "keyholders": [{"role": s.role, "mine": s.user_id == viewer.id, "released": s.id in done,
                        "at": canonical.utc_iso(done[s.id].released_at) if s.id in done else None} for s in shares],
        "sign_ins": [{"bidder": s.organisation.name, "at": canonical.utc_iso(s.at)} for s in opening.sign_ins],
        "progress": {"done": opening.bids_decided, "total": opening.bids_total},
        "results": [_result_row(r) for r in opening.results],
        "valid": sum(1 for r in opening.results if r.valid),
        "needs_decision": opening.status == "decrypted" and needs_decision(opening, now),
        "decision": opening.decision, "decision_ground": opening.decision_ground,
        "suspension_note": opening.suspension_note,
        "rescheduled_to": canonical.utc_iso(opening.rescheduled_to) if opening.rescheduled_to else None,
        "sealed_at": canonical.utc_iso(opening.sealed_at) if opening.sealed_at else None,
        "objections_end_at": canonical.utc_iso(opening.objections_end_at) if opening.objections_end_at else None,
        "responses": [{"id": r.id, "bidder": r.organisation.name, "kind": r.kind, "text": r.text,
                       "answer": r.answer, "mine": r.organisation_id == viewer.organisation_id}
                      for r in opening.responses],
        "signed_in": any(s.organisation_id == viewer.organisation_id for s in opening.sign_ins),
    }
    return state
