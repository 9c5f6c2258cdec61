"""Complaints (投诉): a bidder not satisfied with the answer to its challenge, or unanswered after the due
date, complains to the supervisor within 15 working days (of the answer, or of the missed due date); the
supervisor decides within 30 working days (upheld or dismissed, with the reason) and may suspend the
section's procedure meanwhile; the complainant may withdraw. Every step is journaled.

The timeliness report: per procuring unit, challenges answered on time, late and open (overdue among
them) with the challengers' satisfaction, and complaints about its sections decided on time, late and open.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import Organisation
from accounts.organisations import member_ids
from core import journal, lifecycle, notifications, workdays
from core.directory import active_ids_with_role
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import states
from tender.challenges import MAX_TEXT, Window, local_day, clean_text
from tender.models import Challenge, Complaint, Project, Section

FILING_DAYS = 15  # working days after the answer or the missed due date
DECISION_DAYS = 30  # working days after filing
OUTCOMES = {"upheld": "uphold", "dismissed": "dismiss"}


def link(complaint: Complaint) -> str:
    return f"/tender/complaints/{complaint.id}"


def complaint_window(challenge: Challenge) -> tuple[str, Window]:
    """(basis, window): 15 working days from the answer, or from the due date the unit missed."""
    if challenge.withdrawn_at is not None:
        raise DomainError("challenge_withdrawn", _("A withdrawn challenge cannot be complained of."), 409)
    if challenge.answered_at is not None:
        return "answer", Window(challenge.answered_at, workdays.deadline(challenge.answered_at, FILING_DAYS))
    return "unanswered", Window(challenge.due_at, workdays.deadline(challenge.due_at, FILING_DAYS))


def _notify_parties(complaint: Complaint, kind: str, title, body, now: datetime, *, supervisors: bool = False,
                    complainant: bool = True) -> None:
    users = member_ids(complaint.section.project.procuring_unit_id, Role.PROCURING)
    if complainant:
        users += member_ids(complaint.organisation_id, Role.BIDDER)
    if supervisors:
        users += active_ids_with_role(Role.SUPERVISOR)
    if users:
        notifications.notify(users, kind, title, body, link(complaint), now)


def file(actor, challenge: Challenge, grounds, now: datetime) -> Complaint:
    if not challenge.can_file(actor):
        raise DomainError("not_challenger", _("Only the bidder who filed the challenge may complain of it."), 403)
    basis, window = complaint_window(challenge)
    if basis == "unanswered" and now <= challenge.due_at:
        raise DomainError("complaint_too_early",
                          _("The unit may answer until %(day)s: complain after its answer, or after that day if "
                            "no answer comes.", day=local_day(challenge.due_at)), 409)
    if challenge.satisfied:
        raise DomainError("challenge_satisfied", _("You said the answer satisfies you."), 409)
    if now > window.closes_at:
        raise DomainError("complaint_window_closed",
                          _("The time to complain has passed: it ended on %(day)s, %(n)s working days after "
                            "the answer or its due date.", day=local_day(window.closes_at), n=FILING_DAYS), 409)
    if challenge.complaint is not None:
        raise DomainError("already_complained", _("You have complained of this challenge already."), 409)
    grounds = clean_text(grounds, "grounds_invalid",
                    _("Write the grounds of your complaint (at most %(n)s characters).", n=MAX_TEXT))
    if basis == "answer" and challenge.rated_at is None:  # complaining says the answer does not satisfy
        challenge.satisfied, challenge.rated_at = False, now
    due = workdays.deadline(now, DECISION_DAYS)
    complaint = Complaint(challenge=challenge, section_id=challenge.section_id, organisation_id=actor.organisation_id,
                          filed_by_id=actor.id, basis=basis, grounds=grounds, filed_at=now, status="filed",
                          due_at=due, reason="")
    db.session.add(complaint)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # a colleague complained at the same moment
        raise DomainError("already_complained", _("You have complained of this challenge already."), 409) from None
    journal.record("tender.complaint.filed", "complaint", complaint.id,
                   {"challenge": challenge.id, "section": challenge.section_id, "basis": basis, "due_at": due},
                   actor=actor, now=now)
    _notify_parties(complaint, "complaint_filed", _l("A complaint on %(code)s", code=complaint.section.code),
                    _l("A bidder complained of challenge no. %(id)s to the supervisor; the decision is due by %(due)s.",
                      id=challenge.id, due=local_day(due)), now, supervisors=True, complainant=False)
    supervisors = active_ids_with_role(Role.SUPERVISOR)
    if supervisors:
        notifications.schedule_deadline_warning(
            f"complaint:{complaint.id}:decision", supervisors,
            _l("Complaint on %(code)s: decision due tomorrow", code=complaint.section.code),
            _l("The decision on complaint no. %(id)s is due by %(due)s (end of day, Beijing time).",
              id=complaint.id, due=local_day(due)), link(complaint), due, now)
    return complaint


def _move(actor, complaint: Complaint, action: str, now: datetime, payload: dict | None = None) -> Complaint:
    """One journaled step along states.COMPLAINT: the only way a complaint's status changes."""
    lifecycle.move(states.COMPLAINT, complaint, action, "complaint", states.COMPLAINT_LABELS,
                   states.COMPLAINT_ACTIONS, journal_as="tender.complaint", actor=actor, now=now,
                   payload={"section": complaint.section_id, **(payload or {})})
    return complaint


def _require(complaint: Complaint, action: str) -> None:
    lifecycle.require(states.COMPLAINT, complaint, action, "complaint", states.COMPLAINT_LABELS,
                      states.COMPLAINT_ACTIONS)


def _supervisor(actor) -> None:
    if actor.role != Role.SUPERVISOR:
        raise DomainError("not_supervisor", _("Only a supervisor handles complaints."), 403)


def _reason(reason, message: str) -> str:
    return clean_text(reason, "reason_invalid", message)


def suspend(actor, complaint: Complaint, reason, now: datetime) -> Complaint:
    """Suspend the section's procedure while the complaint is decided: evaluation and award refuse."""
    _supervisor(actor)
    _require(complaint, "suspend")
    reason = _reason(reason, _("Say why the procedure is suspended."))
    complaint.procedure_suspended_at, complaint.procedure_resumed_at = now, None
    _move(actor, complaint, "suspend", now, {"reason": reason})
    _notify_parties(complaint, "procedure_suspended", _l("Procedure of %(code)s suspended", code=complaint.section.code),
                    _l("The supervisor suspended the procedure of %(name)s while deciding complaint no. %(id)s: %(reason)s",
                      name=complaint.section.name, id=complaint.id, reason=reason), now)
    return complaint


def resume(actor, complaint: Complaint, reason, now: datetime) -> Complaint:
    _supervisor(actor)
    _require(complaint, "resume")
    reason = _reason(reason, _("Say why the procedure resumes."))
    complaint.procedure_resumed_at = now
    _move(actor, complaint, "resume", now, {"reason": reason})
    _notify_parties(complaint, "procedure_resumed", _l("Procedure of %(code)s resumed", code=complaint.section.code),
                    _l("The supervisor lifted the suspension of %(name)s: %(reason)s", name=complaint.section.name,
                      reason=reason), now)
    return complaint


def _close(actor, complaint: Complaint, action: str, outcome: str, reason: str, now: datetime) -> Complaint:
    if complaint.status == "suspended":
        complaint.procedure_resumed_at = now  # a decision ends the suspension
    complaint.decided_at, complaint.decided_by_id, complaint.outcome, complaint.reason = now, actor.id, outcome, reason
    notifications.cancel_deadline_warning(f"complaint:{complaint.id}:decision", now)
    return _move(actor, complaint, action, now, {"outcome": outcome, "reason": reason,
                                                 "on_time": now <= complaint.due_at, "due_at": complaint.due_at})


def decide(actor, complaint: Complaint, outcome, reason, now: datetime) -> Complaint:
    """The supervisor's decision: upheld or dismissed, with the reason. It ends any suspension."""
    _supervisor(actor)
    if outcome not in OUTCOMES:
        raise DomainError("outcome_invalid", _("Decide: upheld or dismissed."), 400)
    _require(complaint, OUTCOMES[outcome])
    reason = _reason(reason, _("Give the reasons of the decision (at most %(n)s characters).", n=MAX_TEXT))
    _close(actor, complaint, OUTCOMES[outcome], outcome, reason, now)
    _notify_parties(complaint, "complaint_decided", _l("Complaint on %(code)s decided", code=complaint.section.code),
                    _l("Complaint no. %(id)s on %(name)s is %(outcome)s.", id=complaint.id, name=complaint.section.name,
                      outcome=states.COMPLAINT_LABELS[outcome]), now)
    return complaint


def withdraw(actor, complaint: Complaint, reason, now: datetime) -> Complaint:
    if not complaint.can_file(actor):
        raise DomainError("not_complainant", _("Only the bidder who complained may withdraw the complaint."), 403)
    _require(complaint, "withdraw")
    reason = _reason(reason, _("Say why you withdraw the complaint."))
    _close(actor, complaint, "withdraw", "withdrawn", reason, now)
    _notify_parties(complaint, "complaint_withdrawn", _l("Complaint on %(code)s withdrawn", code=complaint.section.code),
                    _l("Complaint no. %(id)s was withdrawn by the complainant.", id=complaint.id), now,
                    supervisors=True, complainant=False)
    return complaint


def rate(actor, complaint: Complaint, satisfied, now: datetime) -> Complaint:
    """The complainant says whether the decision satisfies it (once)."""
    if not complaint.can_file(actor):
        raise DomainError("not_complainant", _("Only the bidder who complained may rate the decision."), 403)
    if not isinstance(satisfied, bool):
        raise DomainError("satisfied_invalid", _("Say whether the decision satisfies you."), 400)
    if complaint.outcome not in OUTCOMES:
        raise DomainError("complaint_not_decided", _("The complaint has not been decided yet."), 409)
    if complaint.satisfied is not None:
        raise DomainError("already_rated", _("You have rated this decision already."), 409)
    complaint.satisfied = satisfied
    db.session.flush()
    journal.record("tender.complaint.rated", "complaint", complaint.id, {"satisfied": satisfied}, actor=actor,
                   now=now)
    return complaint


def visible(user) -> Select:
    query = select(Complaint).order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    if user.role == Role.BIDDER:
        return query.where(Complaint.organisation_id == user.organisation_id)
    if user.role == Role.PROCURING:
        return query.join(Section, Section.id == Complaint.section_id).join(Project).where(
            Project.procuring_unit_id == user.organisation_id)
    if user.role in (Role.CENTRE, Role.SUPERVISOR):
        return query
    return query.where(Complaint.id.is_(None))


def note_overdue(now: datetime) -> list[int]:
    """Once for each complaint undecided past its due date: journal it and tell the supervisors."""
    rows = db.session.scalars(select(Complaint).where(Complaint.status.in_(states.COMPLAINT_OPEN),
                                                      Complaint.due_at < now, Complaint.overdue_noted_at.is_(None))
                              .order_by(Complaint.id).with_for_update(skip_locked=True)).all()
    supervisors = active_ids_with_role(Role.SUPERVISOR)
    for complaint in rows:
        complaint.overdue_noted_at = now
        journal.record("tender.complaint.overdue", "complaint", complaint.id,
                       {"section": complaint.section_id, "due_at": complaint.due_at}, now=now)
        if supervisors:
            notifications.notify(supervisors, "complaint_overdue",
                                 _l("Complaint on %(code)s is overdue", code=complaint.section.code),
                                 _l("The decision on complaint no. %(id)s was due by %(due)s.", id=complaint.id,
                                   due=local_day(complaint.due_at)), link(complaint), now)
    db.session.flush()
    return [c.id for c in rows]


# The timeliness report, aggregated in SQL.

@dataclass
class UnitTimeliness:
    unit_id: int
    unit: str
    challenges_on_time: int = 0
    challenges_late: int = 0
    challenges_open: int = 0
    challenges_overdue: int = 0  # open and past the due date: counted against the unit
    satisfied: int = 0
    unsatisfied: int = 0
    complaints_on_time: int = 0
    complaints_late: int = 0
    complaints_open: int = 0
    complaints_overdue: int = 0
    complaints_upheld: int = 0
    complaints_satisfied: int = 0
    complaints_unsatisfied: int = 0


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _per_unit(model, columns: dict) -> Select:
    return (select(Project.procuring_unit_id, Organisation.name, *(c.label(n) for n, c in columns.items()))
            .select_from(model).join(Section, Section.id == model.section_id)
            .join(Project, Project.id == Section.project_id)
            .join(Organisation, Organisation.id == Project.procuring_unit_id)
            .group_by(Project.procuring_unit_id, Organisation.name))


def timeliness(now: datetime) -> list[UnitTimeliness]:
    """Per procuring unit (those with any challenge), by name."""
    c, k = Challenge, Complaint
    challenge_open = c.status.in_(states.CHALLENGE_OPEN)
    complaint_open = k.status.in_(states.COMPLAINT_OPEN)
    decided = k.outcome.in_(tuple(OUTCOMES))
    queries = [
        _per_unit(c, {"challenges_on_time": _count(and_(c.answered_at.is_not(None), c.answered_at <= c.due_at)),
                      "challenges_late": _count(c.answered_at > c.due_at),
                      "challenges_open": _count(challenge_open),
                      "challenges_overdue": _count(and_(challenge_open, c.due_at < now)),
                      "satisfied": _count(c.satisfied.is_(True)), "unsatisfied": _count(c.satisfied.is_(False))}),
        _per_unit(k, {"complaints_on_time": _count(and_(decided, k.decided_at <= k.due_at)),
                      "complaints_late": _count(and_(decided, k.decided_at > k.due_at)),
                      "complaints_open": _count(complaint_open),
                      "complaints_overdue": _count(and_(complaint_open, k.due_at < now)),
                      "complaints_upheld": _count(k.outcome == "upheld"),
                      "complaints_satisfied": _count(k.satisfied.is_(True)),
                      "complaints_unsatisfied": _count(k.satisfied.is_(False))}),
    ]
    units: dict[int, UnitTimeliness] = {}
    for query in queries:
        for row in db.session.execute(query).mappings():
            unit = units.setdefault(row["procuring_unit_id"], UnitTimeliness(row["procuring_unit_id"], row["name"]))
            for name, value in row.items():
                if name not in ("procuring_unit_id", "name"):
                    setattr(unit, name, int(value))
    return sorted(units.values(), key=lambda unit: unit.unit)
