"""Award (定标), the award notice (中标通知书), result notices and announcement, the contract, and the winner's
breaches that let its guarantor claim.

The procuring unit awards after the publicity period, never while a challenge waits for its answer or a
supervisor has suspended the procedure: to the first candidate, or, saying why, to another. The award sets
the section's figures for statistics (deal amount, award date in Beijing, bidders opened), seals the award
notice for the winner (docs/formats.md, "Award notice"), tells the others and announces the result. The
unit then records the contract, signed within 30 days of the notice with the performance security asked
for (a later one is flagged), and published; or the winner's breach (it withdrew, refused to sign, gave no
performance security), after which its guarantor may record a claim and the section may be failed and
tendered again.
"""
import hashlib
from datetime import date, datetime, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from accounts.organisations import member_ids
from core import clock, journal, notifications, uploads
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import challenges, evaluation, guarantees, publication, states
from tender.models import Award, BidResult, Breach, Contract, Notice, Section

NOTICE_TYPE = "eproc-award-notice"
CONTRACT_DAYS = 30
MAX_TEXT = 2000


def _unit(actor: User, section: Section) -> None:
    if not section.can_manage(actor):
        raise DomainError("not_procuring_unit", _("Only the section's procuring unit may do this."), 403)


def _text(value, code: str, message: str, *, required: bool) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > MAX_TEXT:
        raise DomainError(code, message)
    return value


def require_awardable(section: Section, now: datetime) -> None:
    """Refuse an award now: not publicised, in the publicity period, a challenge pending, or suspended."""
    states.require(states.SECTION, section, "award", "section")
    if evaluation.in_publicity(section, now):
        raise DomainError("publicity_not_over",
                          _("The candidates are published until %(at)s Beijing time: the award comes after.",
                            at=clock.local(section.publicity_ends_at).strftime("%Y-%m-%d %H:%M")), 409)
    challenges.require_no_pending(section)
    challenges.require_not_suspended(section)


def notice_body(section: Section, award: Award, winner: dict) -> dict:
    project = section.project
    return {"type": NOTICE_TYPE, "version": 1,
            "section": {"id": str(section.id), "code": section.code, "name": section.name},
            "project": {"code": project.code, "name": project.name},
            "procuring_unit": {"name": project.procuring_unit.name if project.procuring_unit else "",
                               "credit_code": project.procuring_credit_code},
            "winner": {"name": winner["name"], "credit_code": winner["bidder"]},
            "rank": award.rank, "amount": award.amount, "awarded_at": award.awarded_at,
            "award_date": section.award_date, "contract_due": section.award_date + timedelta(days=CONTRACT_DAYS),
            "evaluation_report_sha256": hashlib.sha256(section.evaluation.report.encode()).hexdigest()}


def award(actor: User, section: Section, now: datetime, *, rank: int = 1, reason: str = "") -> Award:
    """Award the section to the candidate of ``rank`` (the first, or another with ``reason``)."""
    _unit(actor, section)
    require_awardable(section, now)
    ranked = evaluation.candidates(section)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= len(ranked):
        raise DomainError("rank_invalid", _("Choose one of the %(n)s candidates.", n=len(ranked)), 422)
    reason = _text(reason, "reason_required",
                   _("Say why the first candidate is not awarded (at most %(n)s characters).", n=MAX_TEXT),
                   required=rank != 1)
    winner = ranked[rank - 1]
    opening = section.openings[-1]
    section.deal_amount = winner["price"]
    section.award_date = clock.local(now).date()
    section.bidder_count = sum(1 for r in opening.results if r.outcome == "opened")
    row = Award(section=section, bid_result_id=winner["bid_result"], organisation_id=winner["organisation"],
                rank=rank, reason=reason, amount=winner["price"], awarded_at=now, awarded_by_id=actor.id, notice="")
    db.session.add(row)
    db.session.flush()
    row.notice = evaluation.seal_document(notice_body(section, row, winner), now)
    row.announcement = Notice(section=section, kind="result", published_at=now, published_by_id=actor.id,
                              title=_("Result of %(name)s", name=section.name),
                              body=_("%(unit)s awarded %(name)s (%(code)s) to %(winner)s for %(amount)s yuan.",
                                     unit=row.section.project.procuring_unit.name, name=section.name,
                                     code=section.code, winner=winner["name"], amount=winner["price"]))
    db.session.flush()
    publication.move(actor, section, "award", now,
                     {"winner": winner["bidder"], "rank": rank, "reason": reason, "amount": winner["price"],
                      "bidder_count": section.bidder_count, "award_date": section.award_date,
                      "notice_sha256": hashlib.sha256(row.notice.encode()).hexdigest()})
    _tell(section, row, now)
    return row


def _tell(section: Section, row: Award, now: datetime) -> None:
    link = f"/tender/sections/{section.id}/result"
    winners = member_ids(row.organisation_id, Role.BIDDER)
    if winners:
        notifications.notify(winners, "award_notice", _l("Award notice for %(code)s", code=section.code),
                             _l("Your bid for %(name)s won. Download the sealed award notice (中标通知书) from the "
                               "result page; the contract is due within %(days)s days.", name=section.name,
                               days=CONTRACT_DAYS), link, now)
    others = {r.organisation_id for r in section.openings[-1].results} - {row.organisation_id}
    users = member_ids(sorted(others), Role.BIDDER)
    if users:
        notifications.notify(users, "award_result", _l("Result of %(code)s", code=section.code),
                             _l("%(name)s was awarded to another bidder. The result is announced on its page.",
                               name=section.name), link, now)


def result_of(section: Section, organisation_id: int) -> BidResult | None:
    opening = section.openings[-1] if section.openings else None
    return next((r for r in opening.results if r.organisation_id == organisation_id), None) if opening else None


# The contract and the winner's breaches.

def contract_due(award_row: Award) -> date:
    return award_row.section.award_date + timedelta(days=CONTRACT_DAYS)


def _awarded(section: Section) -> Award:
    if section.status != "awarded" or section.award is None:
        raise DomainError("section_not_awarded", _("The section is not awarded, or its contract is recorded "
                                                   "already."), 409)
    return section.award


def record_contract(actor: User, section: Section, *, signed_on, amount, performance_security: bool,
                    document: tuple[str, bytes], now: datetime) -> Contract:
    """The contract signed with the winner (a PDF), published; without the performance security the breach
    is recorded too. Signed more than 30 days after the award notice: flagged late."""
    _unit(actor, section)
    row = _awarded(section)
    states.require(states.SECTION, section, "contract", "section")
    if not isinstance(signed_on, date) or signed_on < section.award_date or signed_on > clock.local(now).date():
        raise DomainError("signed_on_invalid", _("The contract is signed on or after the award date and no later "
                                                 "than today."))
    from tender.projects import amount as parse_amount
    value = parse_amount(amount, "amount_invalid", _("The contract amount"), positive=True)
    upload = uploads.store(*document)
    if upload.content_type != "application/pdf":
        raise DomainError("contract_not_pdf", _("Upload the signed contract as a PDF file."), 415)
    late = signed_on > contract_due(row)
    contract = Contract(section=section, award_id=row.id, signed_on=signed_on, amount=value,
                        performance_security=bool(performance_security), late=late, filename=upload.filename,
                        content_type=upload.content_type, size=upload.size, sha256=upload.sha256,
                        recorded_at=now, recorded_by_id=actor.id)
    db.session.add(contract)
    db.session.flush()
    if not performance_security:
        _breach(actor, section, row, "no_performance_security", _("Contract signed without the performance "
                                                                  "security."), now)
    publication.move(actor, section, "contract", now,
                     {"signed_on": signed_on, "amount": value, "performance_security": bool(performance_security),
                      "late": late, "days_after_award": (signed_on - section.award_date).days,
                      "document": {"filename": upload.filename, "sha256": upload.sha256}})
    return contract


def record_breach(actor: User, section: Section, kind, note, now: datetime, *, fail: bool = False) -> Breach:
    """The winner withdrew, refused to sign or gave no performance security: recorded so that its guarantor
    may claim; with ``fail`` the section fails (流标) and may be tendered again."""
    _unit(actor, section)
    row = _awarded(section)
    if kind not in guarantees.CLAIM_TRIGGERS:
        raise DomainError("breach_invalid", _("Choose what the winner did: withdrew, refused to sign the contract, "
                                              "or gave no performance security."))
    note = _text(note, "note_invalid", _("Describe what happened (at most %(n)s characters).", n=MAX_TEXT),
                 required=True)
    if fail:
        states.require(states.SECTION, section, "fail", "section")
    breach = _breach(actor, section, row, kind, note, now)
    if fail:
        publication.fail(actor, section, note, now)
    return breach


def _breach(actor: User, section: Section, row: Award, kind: str, note: str, now: datetime) -> Breach:
    if db.session.scalar(select(Breach.id).where(Breach.section_id == section.id, Breach.kind == kind,
                                                 Breach.organisation_id == row.organisation_id)):
        raise DomainError("breach_recorded", _("This breach of the winner is recorded already."), 409)
    breach = Breach(section_id=section.id, award_id=row.id, organisation_id=row.organisation_id, kind=kind,
                    note=note, recorded_at=now, recorded_by_id=actor.id)
    db.session.add(breach)
    db.session.flush()
    journal.record("tender.section.breach", "section", section.id,
                   {"breach": breach.id, "kind": kind, "winner": row.organisation.credit_code, "note": note},
                   actor=actor, now=now)
    guarantors = {g.guarantor_id for g in guarantees.for_bid(section, row.organisation)}
    users = member_ids(sorted(guarantors), Role.GUARANTOR)
    if users:
        notifications.notify(users, "breach_recorded", _l("Winner's breach on %(code)s", code=section.code),
                             _l("%(unit)s recorded a breach by %(winner)s (%(what)s): you may record your claim on "
                               "its bid guarantee.", unit=section.project.procuring_unit.name,
                               winner=row.organisation.name, what=guarantees.CLAIM_TRIGGERS[kind]),
                             "/tender/guarantees/", now)
    return breach


FAILABLE = ("opened", "evaluated", "publicised", "awarded")


def fail(actor: User, section: Section, reason, now: datetime) -> Section:
    """The section fails (流标) during evaluation or award: before the award the centre or the procuring unit
    (no acceptable bid), after it the procuring unit (the winner refused and no other is awarded)."""
    if section.status not in FAILABLE:
        states.require(states.SECTION, section, "fail", "section")
        raise DomainError("not_at_evaluation", _("This section is not at evaluation or award."), 409)
    if section.status == "awarded" or actor.role != Role.CENTRE:
        _unit(actor, section)
    return publication.fail(actor, section, reason, now)
