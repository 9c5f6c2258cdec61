"""Electronic bid guarantees (电子投标保函) in tendering: the guarantor uploads the signed file, the platform
checks it against the section it names (core.crypto.guarantee) and keeps it; the guarantor revokes it
before the deadline or records claims (索赔) after award; the opening checks it again with
``verify_at_opening``.

The document names everything: its project and section codes find the section, the applicant's credit
code the bidder, and the section's procuring unit is the beneficiary it must name. Only the guarantor
organisation the document names may upload it.
"""
import hashlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import exists, false, func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import Organisation, OrgKind, User
from accounts.organisations import member_ids
from core import clock, journal, lifecycle, money, notifications, trust_store
from core.crypto import guarantee as g
from core.crypto.signing import TrustAnchors
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import states
from tender.models import OVERSEERS, Breach, Guarantee, GuaranteeClaim, Project, Section

MAX_DOCUMENT = 64 * 1024  # a body and up to four PEM certificates take a few kilobytes
MAX_NUMBER = 64
MAX_TEXT = 2000
CLAIM_TRIGGERS = {
    "winner_withdrew": _l("The winner withdrew its bid after the deadline"),
    "contract_refused": _l("The winner refused to sign the contract"),
    "no_performance_security": _l("The winner gave no performance security"),
}
# After award; a section the winner's refusal failed (流标) still owes the claim.
CLAIMABLE_SECTION_STATES = ("awarded", "contracted", "failed")
# Reasons about the signature and the certificate: judged before anything the document says.
CRYPTO_REASONS = ("guarantee_malformed", "signature_invalid", "issuer_unknown", "certificate_expired",
                  "certificate_revoked", "certificate_usage")


class GuaranteeRefused(DomainError):
    """The platform refuses the document: ``code`` is core.crypto.guarantee's reason."""
    status = 422


def _refused(verdict: g.Verdict, message: str | None = None) -> GuaranteeRefused:
    return GuaranteeRefused(verdict.reason, message or verdict.message)


# Reading the file before it is trusted.

def _peek(signed: bytes) -> dict | None:
    """The body's fields the platform needs to find the parties, or None when it cannot be read; nothing
    here is trusted until ``verify_guarantee`` has checked the signature."""
    try:
        wrapper = json.loads(signed)
        body = json.loads(wrapper["body"]) if isinstance(wrapper, dict) and isinstance(wrapper.get("body"), str) \
            else None
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("project", "section", "number")):
        return None
    for party in g.PARTIES:
        value = body.get(party)
        if not isinstance(value, dict) or not isinstance(value.get("credit_code"), str) \
                or not isinstance(value.get("name"), str):
            return None
    return body


def _party(organisation: Organisation | None, credit_code: str = "") -> g.Party:
    return g.Party(organisation.name, organisation.credit_code) if organisation else g.Party("", credit_code)


def _code(text: str) -> str:
    return text.strip().upper()


def _bidder(credit_code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.credit_code == _code(credit_code),
                                                        Organisation.kind == OrgKind.BIDDER))


def expectation(section: Section, bidder: Organisation | None, applicant_code: str = "") -> g.Expectation:
    """What a guarantee for ``bidder``'s bid on ``section`` must say (DOMAIN.md): in favour of the section's
    procuring unit, at least its required amount, from before its deadline to the deadline plus the bid
    validity period."""
    project = section.project
    return g.Expectation(bidder=_party(bidder, applicant_code),
                         procuring_unit=_party(project.procuring_unit, project.procuring_credit_code),
                         project_code=project.code, section_code=section.code,
                         required_amount=section.guarantee_amount, deadline=section.deadline,
                         validity_days=section.bid_validity_days)


def _self_expectation(body: dict) -> g.Expectation:
    """An expectation the document meets by itself: only its signature and certificate can fail it."""
    try:
        start = datetime.fromisoformat(body.get("valid_from"))
        start = start if start.tzinfo else None
    except (TypeError, ValueError):
        start = None
    return g.Expectation(bidder=g.Party(body["applicant"]["name"], body["applicant"]["credit_code"]),
                         procuring_unit=g.Party(body["beneficiary"]["name"], body["beneficiary"]["credit_code"]),
                         project_code=body["project"], section_code=body["section"], required_amount=Decimal("0"),
                         deadline=start or datetime.min.replace(tzinfo=timezone.utc), validity_days=0)


def _public_section(code: str) -> Section | None:
    return db.session.scalar(select(Section).where(Section.code == code, Section.published_at.is_not(None)))


def _number_used(guarantor_code: str, exclude_id: int | None = None):
    def used(number: str) -> bool:
        query = select(Guarantee.id).where(Guarantee.guarantor_code == guarantor_code, Guarantee.number == number)
        if exclude_id is not None:
            query = query.where(Guarantee.id != exclude_id)
        return db.session.scalar(select(exists(query))) or False
    return used


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _link(guarantee: Guarantee) -> str:
    return f"/tender/guarantees/{guarantee.id}"


def _tell_bidder(guarantee: Guarantee, kind: str, title, body, now: datetime) -> None:
    bidder = _bidder(guarantee.applicant_code)
    users = member_ids(bidder.id, Role.BIDDER) if bidder else []
    if users:
        notifications.notify(users, kind, title, body, _link(guarantee), now)


# Issue (upload).

def issue(actor: User, signed: bytes, now: datetime, *, anchors: TrustAnchors | None = None) -> Guarantee:
    """Check the signed guarantee file ``signed`` at ``now`` and keep it, or refuse it with the first failing
    reason (GuaranteeRefused, 422). Only the guarantor organisation it names may upload it, only while its
    section is published and before the deadline. ``anchors``: the trust store's by default."""
    if actor.role != Role.GUARANTOR:
        raise DomainError("not_guarantor", _("Only guarantors issue electronic bid guarantees."), 403)
    if len(signed) > MAX_DOCUMENT:
        raise DomainError("guarantee_too_large", _("A signed guarantee file is at most %(n)s KB.",
                                                   n=MAX_DOCUMENT // 1024), 413)
    anchors = anchors if anchors is not None else trust_store.load()
    body = _peek(signed)
    if body is None:  # the signature or the format is wrong: say which, in DOMAIN.md's order
        try:
            verdict = g.verify_guarantee(signed, _NOBODY, anchors, now=now)
        except RecursionError:  # nested beyond reason
            verdict = g.Verdict("guarantee_malformed", None)
        raise _refused(verdict if verdict.reason in CRYPTO_REASONS else g.Verdict("guarantee_malformed", None))
    named = _code(body["guarantor"]["credit_code"])
    if named != actor.organisation.credit_code:
        raise DomainError("guarantee_not_yours",
                          _("Only the guarantor named in the guarantee may upload it: it names %(name)s "
                            "(%(code)s), not your organisation.", name=body["guarantor"]["name"][:200],
                            code=named[:18]), 403)
    section = _public_section(body["section"])
    if section is None:
        verdict = g.verify_guarantee(signed, _self_expectation(body), anchors, now=now)
        if verdict.reason in CRYPTO_REASONS:
            raise _refused(verdict)
        project = db.session.scalar(select(Project).where(Project.code == body["project"]))
        if project is None or not any(s.is_public for s in project.sections):
            raise GuaranteeRefused("project_mismatch", _("No published project on the platform has the code "
                                                         "%(code)s named in the guarantee.",
                                                         code=body["project"][:40]))
        raise GuaranteeRefused("section_mismatch", _("Project %(project)s has no published section %(code)s: "
                                                     "check the section code in the guarantee.",
                                                     project=project.code, code=body["section"][:50]))
    if section.status != "published" or section.deadline <= now:
        raise DomainError("section_not_open", _("Guarantees for %(code)s can no longer be uploaded: its bid "
                                                "deadline has passed or it is not open for bids.",
                                                code=section.code), 409)
    bidder = _bidder(body["applicant"]["credit_code"])
    earlier = db.session.scalar(select(Guarantee).where(Guarantee.guarantor_code == actor.organisation.credit_code,
                                                        Guarantee.number == body["number"]))
    verdict = g.verify_guarantee(signed, expectation(section, bidder, body["applicant"]["credit_code"]), anchors,
                                 now=now, revoked=earlier is not None and earlier.status == "revoked",
                                 number_used=_number_used(actor.organisation.credit_code))
    if not verdict.ok:
        if verdict.reason == "applicant_mismatch" and bidder is None:
            raise GuaranteeRefused("applicant_mismatch", _("No bidder on the platform has the credit code "
                                                           "%(code)s the guarantee names as its applicant.",
                                                           code=_code(body["applicant"]["credit_code"])[:18]))
        raise _refused(verdict)
    fields = verdict.guarantee
    if len(fields["number"]) > MAX_NUMBER:
        raise GuaranteeRefused("guarantee_malformed", _("A guarantee number has at most %(n)s characters.",
                                                        n=MAX_NUMBER))
    try:
        valid_from, valid_to, issued_at = (_utc(fields[k]) for k in ("valid_from", "valid_to", "issued_at"))
    except OverflowError:  # a time at the very end of the calendar has no UTC equivalent
        raise _refused(g.Verdict("guarantee_malformed", None)) from None
    guarantee = Guarantee(number=fields["number"], guarantor_id=actor.organisation_id,
                          guarantor_code=actor.organisation.credit_code, applicant_code=bidder.credit_code,
                          section=section, amount=Decimal(fields["amount"]), valid_from=valid_from,
                          valid_to=valid_to, issued_at=issued_at, document=bytes(signed),
                          sha256=hashlib.sha256(signed).hexdigest(), status="issued", uploaded_at=now,
                          uploaded_by_id=actor.id, revocation_reason="")
    db.session.add(guarantee)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same number uploaded at the same moment
        raise _refused(g.Verdict("number_reused", fields)) from None
    journal.record("tender.guarantee.issued", "guarantee", guarantee.id,
                   {"number": guarantee.number, "sha256": guarantee.sha256, "section": section.id,
                    "section_code": section.code, "applicant": guarantee.applicant_code,
                    "amount": money.to_json(guarantee.amount)}, actor=actor, now=now)
    _tell_bidder(guarantee, "guarantee_issued", _l("Bid guarantee for %(code)s", code=section.code),
                 _l("%(guarantor)s issued bid guarantee %(number)s for your bid on %(name)s.",
                   guarantor=actor.organisation.name, number=guarantee.number, name=section.name), now)
    return guarantee


_NOBODY = g.Expectation(bidder=g.Party("", ""), procuring_unit=g.Party("", ""), project_code="", section_code="",
                        required_amount=Decimal("0"), deadline=datetime.min.replace(tzinfo=timezone.utc),
                        validity_days=0)


# Checked again at the opening.

def verify_at_opening(guarantee: Guarantee, now: datetime, *, anchors: TrustAnchors | None = None) -> g.Verdict:
    """The guarantee checked again at ``now`` (the opening): signature, certificate path and CRLs of the trust
    store as they are now, the section's terms as they are now (an addendum may have moved the deadline),
    the guarantor's revocation (``guarantee_revoked``) and the number presented for another bid
    (``number_reused``). Reads only; the opening records the verdict."""
    anchors = anchors if anchors is not None else trust_store.load()
    bidder = _bidder(guarantee.applicant_code)
    return g.verify_guarantee(guarantee.document, expectation(guarantee.section, bidder, guarantee.applicant_code),
                              anchors, now=now, revoked=guarantee.status == "revoked",
                              number_used=_number_used(guarantee.guarantor_code, exclude_id=guarantee.id))


def verdicts_at_opening(section: Section, bidders: list[Organisation], now: datetime, *,
                        anchors: TrustAnchors | None = None) -> dict[int, tuple[Guarantee | None, str]]:
    """For the opening, a batch of bidders at once (two queries): each bidder's guarantee on ``section``
    checked again as ``verify_at_opening`` does, {organisation id: (guarantee, verdict)}: the first of its
    guarantees that verifies and "valid"; else the last one and its reason code; (None, "missing") when it
    has none; (None, "not_required") when the section asks for none."""
    if section.guarantee_amount <= 0:
        return {b.id: (None, "not_required") for b in bidders}
    anchors = anchors if anchors is not None else trust_store.load()
    found: dict[str, list[Guarantee]] = {b.credit_code: [] for b in bidders}
    for guarantee in db.session.scalars(select(Guarantee).where(
            Guarantee.section_id == section.id, Guarantee.applicant_code.in_(list(found))).order_by(Guarantee.id)):
        found[guarantee.applicant_code].append(guarantee)
    guarantors = {x.guarantor_code for held in found.values() for x in held}
    numbers = {x.number for held in found.values() for x in held}
    # Only this batch's numbers: not every guarantee a guarantor ever issued, batch after batch.
    reused = set(db.session.execute(select(Guarantee.guarantor_code, Guarantee.number)
                                    .where(Guarantee.guarantor_code.in_(guarantors), Guarantee.number.in_(numbers))
                                    .group_by(Guarantee.guarantor_code, Guarantee.number)
                                    .having(func.count() > 1)).tuples()) if guarantors else set()
    verdicts = {}
    for bidder in bidders:
        verdict: tuple[Guarantee | None, str] = (None, "missing")
        for guarantee in found[bidder.credit_code]:
            checked = g.verify_guarantee(guarantee.document, expectation(section, bidder, bidder.credit_code),
                                         anchors, now=now, revoked=guarantee.status == "revoked",
                                         number_used=lambda number, code=guarantee.guarantor_code:
                                         (code, number) in reused)
            verdict = (guarantee, "valid" if checked.ok else checked.reason)
            if checked.ok:
                break
        verdicts[bidder.id] = verdict
    return verdicts


def warn_of_moved_deadline(section: Section, now: datetime) -> list[Guarantee]:
    """An addendum moved the bid deadline: each guarantee held for the section that no longer covers the new
    deadline plus the bid validity would fail at the opening (validity_short), so its bidder and its guarantor
    are told now, while a new one can still be issued. Returns those guarantees."""
    must_cover_until = section.deadline + timedelta(days=section.bid_validity_days)
    short = db.session.scalars(select(Guarantee).where(Guarantee.section_id == section.id, Guarantee.status == "issued",
                                                       Guarantee.valid_to < must_cover_until)
                               .order_by(Guarantee.id)).all()
    for guarantee in short:
        bidder = _bidder(guarantee.applicant_code)
        people = member_ids([bidder.id], Role.BIDDER) if bidder else []
        people += member_ids([guarantee.guarantor_id], Role.GUARANTOR)
        if people:
            notifications.notify(
                people, "guarantee_validity_short", _l("Bid guarantee %(number)s no longer covers %(code)s",
                                                      number=guarantee.number, code=section.code),
                _l("The bid deadline of %(name)s moved: a guarantee must now stay valid until %(until)s Beijing time, "
                  "and %(number)s ends earlier. It would be refused at the opening (validity_short): issue a new one.",
                  name=section.name, until=clock.local(must_cover_until).strftime("%Y-%m-%d %H:%M"),
                  number=guarantee.number), f"/tender/guarantees/{guarantee.id}", now)
    return short


def for_bid(section: Section, bidder: Organisation) -> list[Guarantee]:
    """The guarantees on the platform for ``bidder``'s bid on ``section``, oldest first (for the opening)."""
    return list(db.session.scalars(select(Guarantee).where(Guarantee.section_id == section.id,
                                                           Guarantee.applicant_code == bidder.credit_code)
                                   .order_by(Guarantee.id)))


# Revocation and claims: the guarantor's.

def _advance(guarantee: Guarantee, action: str) -> str:
    return lifecycle.advance(states.GUARANTEE, guarantee, action, "guarantee", states.GUARANTEE_LABELS,
                             states.GUARANTEE_ACTIONS)


def _require(guarantee: Guarantee, action: str) -> str:
    return lifecycle.require(states.GUARANTEE, guarantee, action, "guarantee", states.GUARANTEE_LABELS,
                             states.GUARANTEE_ACTIONS)


def _manager(actor: User, guarantee: Guarantee) -> None:
    if not guarantee.can_manage(actor):
        raise DomainError("not_your_guarantee", _("Only the guarantor that issued this guarantee may do this."), 403)


def _text(value, code: str, message: str, *, required: bool) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > MAX_TEXT:
        raise DomainError(code, message)
    return value


def revoke(actor: User, guarantee: Guarantee, reason, now: datetime) -> Guarantee:
    """The guarantor revokes the guarantee before the bid deadline, saying why."""
    _manager(actor, guarantee)
    _require(guarantee, "revoke")
    if now >= guarantee.section.deadline:
        raise DomainError("deadline_passed", _("A guarantee can be revoked only before the bid deadline of its "
                                               "section."), 409)
    reason = _text(reason, "reason_invalid", _("Say why the guarantee is revoked (at most %(n)s characters).",
                                               n=MAX_TEXT), required=True)
    before = guarantee.status
    _advance(guarantee, "revoke")
    guarantee.revoked_at, guarantee.revocation_reason = now, reason
    journal.record("tender.guarantee.revoked", "guarantee", guarantee.id,
                   {"from": before, "to": guarantee.status, "number": guarantee.number, "reason": reason},
                   actor=actor, now=now)
    _tell_bidder(guarantee, "guarantee_revoked", _l("Bid guarantee %(number)s revoked", number=guarantee.number),
                 _l("The guarantor revoked bid guarantee %(number)s for %(code)s: %(reason)s",
                   number=guarantee.number, code=guarantee.section.code, reason=reason), now)
    return guarantee


def claimed_total(guarantee: Guarantee) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(GuaranteeClaim.amount), 0))
                             .where(GuaranteeClaim.guarantee_id == guarantee.id)) or Decimal("0")


def breach_recorded(guarantee: Guarantee, trigger: str | None = None) -> bool:
    """Whether the procuring unit recorded the applicant's breach (of kind ``trigger``, or any) as the awarded
    winner of the guarantee's section (tender.award.record_breach)."""
    query = select(Breach.id).join(Organisation, Organisation.id == Breach.organisation_id).where(
        Breach.section_id == guarantee.section_id, Organisation.credit_code == guarantee.applicant_code)
    if trigger is not None:
        query = query.where(Breach.kind == trigger)
    return db.session.scalar(select(exists(query))) or False


def claim(actor: User, guarantee: Guarantee, *, trigger, amount, note, now: datetime) -> GuaranteeClaim:
    """The guarantor records a claim after award: one of CLAIM_TRIGGERS, for an amount that keeps every
    claim on the guarantee together within the guaranteed amount."""
    _manager(actor, guarantee)
    _require(guarantee, "claim")
    section = guarantee.section
    if section.status not in CLAIMABLE_SECTION_STATES:
        raise DomainError("claim_before_award", _("Claims are recorded only after the award of the section."), 409)
    if trigger not in CLAIM_TRIGGERS:
        raise DomainError("claim_trigger_invalid", _("Choose what triggered the claim: the winner withdrew after "
                                                     "the deadline, refused the contract, or gave no performance "
                                                     "security."))
    if not breach_recorded(guarantee, trigger):
        raise DomainError("breach_not_recorded", _("The procuring unit has not recorded this breach of the winner "
                                                   "(%(what)s): a claim follows that record.",
                                                   what=CLAIM_TRIGGERS[trigger]), 409)
    amount = money.parse(amount) if amount is not None and str(amount).strip() else None
    if amount is None or amount <= 0:
        raise DomainError("claim_amount_invalid", _("Give the amount claimed, more than zero."))
    remaining = Decimal(guarantee.amount) - Decimal(claimed_total(guarantee))
    if amount > remaining:
        raise DomainError("claim_exceeds_guarantee",
                          _("Claims on this guarantee may total at most its amount: %(left)s remain.",
                            left=money.format_exact(remaining)))
    note = _text(note, "note_invalid", _("The note has at most %(n)s characters.", n=MAX_TEXT), required=False)
    before = guarantee.status
    _advance(guarantee, "claim")
    row = GuaranteeClaim(guarantee=guarantee, trigger=trigger, amount=amount, note=note, recorded_at=now,
                         recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    journal.record("tender.guarantee.claimed", "guarantee", guarantee.id,
                   {"from": before, "to": guarantee.status, "claim": row.id, "trigger": trigger,
                    "amount": money.to_json(amount)}, actor=actor, now=now)
    _tell_bidder(guarantee, "guarantee_claimed", _l("Claim on bid guarantee %(number)s", number=guarantee.number),
                 _l("The guarantor recorded a claim of %(amount)s on bid guarantee %(number)s for %(code)s.",
                   amount=money.format_exact(amount), number=guarantee.number, code=section.code), now)
    return row


# Who sees which.

def visible(user: User):
    """Guarantors see what they issued, bidders what was issued for them, the centre and supervisors all."""
    query = select(Guarantee).order_by(Guarantee.id.desc())
    if user.role == Role.GUARANTOR:
        return query.where(Guarantee.guarantor_id == user.organisation_id)
    if user.role == Role.BIDDER:
        return query.where(Guarantee.applicant_code == user.organisation.credit_code)
    if user.role in OVERSEERS:
        return query
    return query.where(false())


def deadline_open(guarantee: Guarantee, now: datetime) -> bool:
    return guarantee.section.deadline is not None and now < guarantee.section.deadline


def may_revoke(user: User, guarantee: Guarantee, now: datetime) -> bool:
    return guarantee.can_manage(user) and (guarantee.status, "revoke") in states.GUARANTEE \
        and deadline_open(guarantee, now)


def may_claim(user: User, guarantee: Guarantee) -> bool:
    return guarantee.can_manage(user) and (guarantee.status, "claim") in states.GUARANTEE \
        and guarantee.section.status in CLAIMABLE_SECTION_STATES and breach_recorded(guarantee)



def fields(guarantee: Guarantee) -> dict:
    """The body of the stored file as the guarantor signed it (names of the parties, letter hash)."""
    return json.loads(json.loads(guarantee.document)["body"])


def sign_for(section: Section, bidder: Organisation, signing_key, certificates: list, now: datetime, *,
             number: str | None = None, amount: Decimal | None = None, extra_days: int = 30) -> bytes:
    """A signed guarantee file for ``bidder``'s bid on ``section``, with the terms the platform expects (the
    section's amount unless ``amount``; valid from now until the deadline plus the bid validity period plus
    ``extra_days``), signed with a guarantor's key; the guarantor is the one its certificate names
    (O and serialNumber). For demonstrations: a real guarantor signs in its own systems."""
    from core.crypto import pki
    leaf = certificates[0]
    guarantor = g.Party(pki.organisation_of(leaf) or "", pki.credit_code_of(leaf) or "")
    project = section.project
    body = g.guarantee_body(
        number=number or f"BH-{section.code}-{bidder.credit_code[-6:]}-{now:%H%M%S}", guarantor=guarantor,
        applicant=g.Party(bidder.name, bidder.credit_code),
        beneficiary=_party(project.procuring_unit, project.procuring_credit_code), project_code=project.code,
        section_code=section.code, amount=amount if amount is not None else section.guarantee_amount,
        valid_from=now, valid_to=section.deadline + timedelta(days=section.bid_validity_days + extra_days),
        issued_at=now)
    return g.sign_guarantee(body, signing_key, certificates)
