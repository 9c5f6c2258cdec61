"""Challenges (质疑): a bidder registered for a section challenges its documents, its opening or its result
within 7 working days of the event; the procuring unit answers within 7 working days, extended at most
twice (the first time by at most 5 working days on the unit's word, the second by at most 10 only when a
supervisor approves the unit's request). Working days follow the Chinese calendar (core.workdays).

A warning goes to the unit one day before every due date (core.notifications' deadline warnings); an
unanswered challenge past its due date is overdue: the beat (tender.challenge_tasks) tells the challenger
once that it may now complain (tender.complaints), and overdue challenges count against the unit.

The answer reaches the challenger as an in-app notification and is seen by the challenger, the unit, the
centre and supervisors; other bidders never see a challenge. Where an answer changes the documents or the
result, the unit says so to everyone through an addendum or a new result notice, as for any change.

For the award and evaluation services: ``holds_award(section)`` / ``require_no_pending(section)`` (a pending
challenge holds the award), and ``procedure_suspended(section)`` / ``require_not_suspended(section)`` (a
supervisor suspended the procedure while deciding a complaint).
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Select, exists, select

from accounts.organisations import member_ids
from core import clock, journal, lifecycle, notifications, workdays
from core.directory import active_ids_with_role
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import participation, states
from tender.models import CHALLENGE_SUBJECTS, Challenge, ChallengeExtension, Complaint, Notice, Project, Section

FILING_DAYS = 7  # working days after the event
ANSWER_DAYS = 7  # working days after filing
EXTENSION_MAX = {1: 5, 2: 10}  # working days, per extension
MAX_TEXT = 5000


@dataclass(frozen=True)
class Window:
    event_at: datetime  # the event the working days count from
    closes_at: datetime  # the end of the last working day to file


def local_day(moment: datetime) -> str:
    return clock.local(moment).strftime("%Y-%m-%d")


def clean_text(value, code: str, message: str, maximum: int = MAX_TEXT) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > maximum:
        raise DomainError(code, message)
    return value


def _documents_event(section: Section) -> datetime | None:
    """The tender notice's publication, or the latest addendum's."""
    latest = db.session.scalar(select(Notice.published_at).where(Notice.section_id == section.id)
                               .order_by(Notice.published_at.desc()).limit(1))
    candidates = [moment for moment in (section.published_at, latest) if moment is not None]
    return max(candidates) if candidates else None


def challenge_window(section: Section, subject: str) -> Window:
    """When a challenge of ``subject`` may be filed: 7 working days from the event, found from what exists
    (documents: the notice or latest addendum; opening: the deadline, which is the opening; result: the
    candidates' publicity)."""
    if not isinstance(subject, str) or subject not in CHALLENGE_SUBJECTS:
        raise DomainError("challenge_subject_invalid",
                          _("Say what you challenge: the documents, the opening or the result."), 400)
    if subject == "documents":
        event = _documents_event(section)
        if event is None:
            raise DomainError("challenge_not_published", _("The section's documents are not published yet."), 409)
    elif subject == "opening":
        event = section.deadline
        if event is None:
            raise DomainError("challenge_not_opened", _("The section has no opening yet."), 409)
    else:
        event = getattr(section, "publicised_at", None)
        if event is None:
            raise DomainError("challenge_not_publicised",
                              _("The candidates of this section are not publicised yet: the result can be "
                                "challenged once they are."), 409)
    return Window(event, workdays.deadline(event, FILING_DAYS))


# Who hears of what.

def _unit_users(challenge: Challenge) -> list[int]:
    return member_ids(challenge.section.project.procuring_unit_id, Role.PROCURING)


def _challenger_users(challenge: Challenge) -> list[int]:
    return member_ids(challenge.organisation_id, Role.BIDDER)


def link(challenge: Challenge) -> str:
    return f"/tender/challenges/{challenge.id}"


def _warn_unit(challenge: Challenge, now: datetime, allowed_from: datetime | None = None) -> None:
    """The unit is warned one day before the answer's due date (again whenever it moves)."""
    users = _unit_users(challenge)
    if not users or challenge.due_at <= now:
        return
    notifications.schedule_deadline_warning(
        f"challenge:{challenge.id}:answer", users,
        _l("Challenge on %(code)s: answer due tomorrow", code=challenge.section.code),
        _l("The answer to challenge no. %(id)s on %(name)s is due by %(due)s (end of day, Beijing time).",
          id=challenge.id, name=challenge.section.name, due=local_day(challenge.due_at)),
        link(challenge), challenge.due_at, now, allowed_from=allowed_from)


def _move(actor, challenge: Challenge, action: str, now: datetime, payload: dict | None = None) -> Challenge:
    """One journaled step along states.CHALLENGE: the only way a challenge's status changes."""
    lifecycle.move(states.CHALLENGE, challenge, action, "challenge", states.CHALLENGE_LABELS,
                   states.CHALLENGE_ACTIONS, journal_as="tender.challenge", actor=actor, now=now,
                   payload={"section": challenge.section_id, **(payload or {})})
    return challenge


def _require(table_action: str, challenge: Challenge) -> None:
    lifecycle.require(states.CHALLENGE, challenge, table_action, "challenge", states.CHALLENGE_LABELS,
                      states.CHALLENGE_ACTIONS)


# The challenger.

def file(actor, section: Section, subject, grounds, now: datetime) -> Challenge:
    """A registered bidder challenges ``subject`` (documents, opening, result) of ``section``."""
    if actor.role != Role.BIDDER or participation.registration(section, actor.organisation_id) is None:
        raise DomainError("not_registered", _("Only bidders registered for the section may challenge it."), 403)
    window = challenge_window(section, subject)
    if now < window.event_at:
        raise DomainError("challenge_too_early", _("The event you challenge has not happened yet."), 409)
    if now > window.closes_at:
        raise DomainError("challenge_window_closed",
                          _("The time to challenge this has passed: it ended on %(day)s, %(n)s working days "
                            "after the event.", day=local_day(window.closes_at), n=FILING_DAYS), 409)
    grounds = clean_text(grounds, "grounds_invalid",
                    _("Write the grounds of your challenge (at most %(n)s characters).", n=MAX_TEXT))
    due = workdays.deadline(now, ANSWER_DAYS)
    challenge = Challenge(section=section, organisation_id=actor.organisation_id, filed_by_id=actor.id,
                          subject=subject, grounds=grounds, event_at=window.event_at, filed_at=now,
                          status="pending", first_due_at=due, due_at=due)
    db.session.add(challenge)
    db.session.flush()
    journal.record("tender.challenge.filed", "challenge", challenge.id,
                   {"section": section.id, "subject": subject, "event_at": window.event_at, "due_at": due},
                   actor=actor, now=now)
    users = _unit_users(challenge)
    if users:
        notifications.notify(users, "challenge_filed", _l("A challenge on %(code)s", code=section.code),
                             _l("A bidder challenged %(subject)s of %(name)s. Answer by %(due)s.",
                               subject=str(CHALLENGE_SUBJECTS[subject]).lower(), name=section.name, due=local_day(due)),
                             link(challenge), now)
    _warn_unit(challenge, now)
    return challenge


def _challenger(actor, challenge: Challenge) -> None:
    if not challenge.can_file(actor):
        raise DomainError("not_challenger", _("Only the bidder who filed the challenge may do this."), 403)


def withdraw(actor, challenge: Challenge, now: datetime) -> Challenge:
    _challenger(actor, challenge)
    _require("withdraw", challenge)
    challenge.withdrawn_at = now
    notifications.cancel_deadline_warning(f"challenge:{challenge.id}:answer", now)
    return _move(actor, challenge, "withdraw", now)


def rate(actor, challenge: Challenge, satisfied, now: datetime) -> Challenge:
    """The challenger says whether the answer satisfies it (once); the timeliness report counts it."""
    _challenger(actor, challenge)
    if not isinstance(satisfied, bool):
        raise DomainError("satisfied_invalid", _("Say whether the answer satisfies you."), 400)
    if challenge.answered_at is None:
        raise DomainError("challenge_not_answered", _("The challenge has not been answered yet."), 409)
    if challenge.rated_at is not None:
        raise DomainError("already_rated", _("You have rated this answer already."), 409)
    challenge.satisfied, challenge.rated_at = satisfied, now
    db.session.flush()
    journal.record("tender.challenge.rated", "challenge", challenge.id, {"satisfied": satisfied},
                   actor=actor, now=now)
    return challenge


# The procuring unit.

def _unit(actor, challenge: Challenge) -> None:
    if not challenge.can_answer(actor):
        raise DomainError("not_responsible", _("Only the section's procuring unit answers its challenges."), 403)


def answer(actor, challenge: Challenge, text, now: datetime) -> Challenge:
    """The unit's answer; after the due date it is still taken, and counted late."""
    _unit(actor, challenge)
    _require("answer", challenge)
    challenge.answer = clean_text(text, "answer_invalid", _("Write the answer (at most %(n)s characters).", n=MAX_TEXT))
    challenge.answered_at, challenge.answered_by_id = now, actor.id
    notifications.cancel_deadline_warning(f"challenge:{challenge.id}:answer", now)
    _move(actor, challenge, "answer", now, {"on_time": now <= challenge.due_at, "due_at": challenge.due_at})
    users = _challenger_users(challenge)
    if users:
        notifications.notify(users, "challenge_answered",
                             _l("Your challenge on %(code)s is answered", code=challenge.section.code),
                             _l("The procuring unit answered your challenge no. %(id)s on %(name)s. Read the answer "
                               "and say whether it satisfies you; if not, you may complain to the supervisor "
                               "within 15 working days.", id=challenge.id, name=challenge.section.name),
                             link(challenge), now)
    return challenge


def _days(days, number: int) -> int:
    maximum = EXTENSION_MAX[number]
    if isinstance(days, str) and days.strip().isdigit():
        days = int(days.strip())
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= maximum:
        raise DomainError("extension_days_invalid",
                          _("This extension is of 1 to %(n)s working days.", n=maximum), 400)
    return days


def _before_due(challenge: Challenge, now: datetime) -> None:
    if now > challenge.due_at:
        raise DomainError("challenge_overdue", _("The answer was due by %(day)s: an extension is asked for before "
                                                 "the due date.", day=local_day(challenge.due_at)), 409)


def _extension(actor, challenge: Challenge, number: int, days, reason, now: datetime, status: str):
    days = _days(days, number)
    _before_due(challenge, now)
    reason = clean_text(reason, "reason_invalid", _("Say why the answer needs more time (at most %(n)s characters).",
                                                n=MAX_TEXT))
    row = ChallengeExtension(challenge=challenge, number=number, days=days, reason=reason, requested_at=now,
                             requested_by_id=actor.id, status=status, decision_reason="",
                             due_before=challenge.due_at)
    db.session.add(row)
    return row


def extend(actor, challenge: Challenge, days, reason, now: datetime) -> Challenge:
    """The first extension, by the unit itself: at most 5 working days after the current due date."""
    _unit(actor, challenge)
    _require("extend", challenge)
    row = _extension(actor, challenge, 1, days, reason, now, "granted")
    row.due_after = challenge.due_at = workdays.deadline(challenge.due_at, row.days)
    _move(actor, challenge, "extend", now, {"days": row.days, "reason": row.reason, "due_before": row.due_before,
                                            "due_at": challenge.due_at})
    _warn_unit(challenge, now, allowed_from=now)
    _tell_challenger_of_new_due(challenge, now)
    return challenge


def _tell_challenger_of_new_due(challenge: Challenge, now: datetime) -> None:
    users = _challenger_users(challenge)
    if users:
        notifications.notify(users, "challenge_extended",
                             _l("The answer to your challenge on %(code)s is extended", code=challenge.section.code),
                             _l("The answer to your challenge no. %(id)s is now due by %(due)s.", id=challenge.id,
                               due=local_day(challenge.due_at)), link(challenge), now)


def request_extension(actor, challenge: Challenge, days, reason, now: datetime) -> Challenge:
    """The unit asks a supervisor for the second extension (at most 10 working days)."""
    _unit(actor, challenge)
    _require("request_extension", challenge)
    row = _extension(actor, challenge, 2, days, reason, now, "requested")
    _move(actor, challenge, "request_extension", now, {"days": row.days, "reason": row.reason})
    supervisors = active_ids_with_role(Role.SUPERVISOR)
    if supervisors:
        notifications.notify(supervisors, "challenge_extension_requested",
                             _l("Second extension asked on %(code)s", code=challenge.section.code),
                             _l("The procuring unit asks %(days)s more working days to answer challenge no. %(id)s "
                               "(due by %(due)s).", days=row.days, id=challenge.id, due=local_day(challenge.due_at)),
                             link(challenge), now)
    return challenge


def decide_extension(actor, challenge: Challenge, approve, reason, now: datetime) -> Challenge:
    """A supervisor approves or refuses the unit's request for a second extension, before the due date."""
    if actor.role != Role.SUPERVISOR:
        raise DomainError("not_supervisor", _("Only a supervisor approves a second extension."), 403)
    if not isinstance(approve, bool):
        raise DomainError("decision_invalid", _("Approve or refuse the request."), 400)
    action = "approve_extension" if approve else "refuse_extension"
    _require(action, challenge)
    _before_due(challenge, now)
    row = challenge.extensions[-1]
    reason = reason.strip()[:MAX_TEXT] if isinstance(reason, str) else ""
    if not approve and not reason:
        raise DomainError("reason_invalid", _("Say why the second extension is refused."))
    row.status, row.decided_at, row.decided_by_id, row.decision_reason = \
        ("approved" if approve else "refused"), now, actor.id, reason
    if approve:
        row.due_after = challenge.due_at = workdays.deadline(challenge.due_at, row.days)
    _move(actor, challenge, action, now, {"days": row.days, "reason": reason, "due_at": challenge.due_at})
    users = _unit_users(challenge)
    if users:
        notifications.notify(users, "challenge_extension_decided",
                             _l("Second extension on %(code)s: %(verdict)s", code=challenge.section.code,
                               verdict=_l("approved") if approve else _l("refused")),
                             _l("The answer to challenge no. %(id)s is due by %(due)s.", id=challenge.id,
                               due=local_day(challenge.due_at)), link(challenge), now)
    if approve:
        _warn_unit(challenge, now, allowed_from=now)
        _tell_challenger_of_new_due(challenge, now)
    return challenge


# What other services ask.

def holds_award(section: Section) -> bool:
    """Whether an unanswered challenge of the section holds its award."""
    return bool(db.session.scalar(select(exists().where(Challenge.section_id == section.id,
                                                        Challenge.status.in_(states.CHALLENGE_OPEN)))))


def require_no_pending(section: Section) -> None:
    """For the award service: refuse while a challenge is unanswered."""
    if holds_award(section):
        raise DomainError("challenge_pending",
                          _("A challenge of this section is not answered yet: the award waits for the answer."), 409)


def procedure_suspended(section: Section) -> bool:
    """Whether a supervisor has suspended the section's procedure while deciding a complaint."""
    return bool(db.session.scalar(select(exists().where(Complaint.section_id == section.id,
                                                        Complaint.status == "suspended"))))


def require_not_suspended(section: Section) -> None:
    """For the evaluation and award services: refuse while the procedure is suspended."""
    if procedure_suspended(section):
        raise DomainError("procedure_suspended",
                          _("The supervisor has suspended this section's procedure while deciding a complaint."), 409)


# Lists.

def visible(user) -> Select:
    """The challenges a user may see, newest first: a bidder its own, a unit those of its sections, the
    centre and supervisors all."""
    query = select(Challenge).order_by(Challenge.filed_at.desc(), Challenge.id.desc())
    if user.role == Role.BIDDER:
        return query.where(Challenge.organisation_id == user.organisation_id)
    if user.role == Role.PROCURING:
        return query.join(Section, Section.id == Challenge.section_id).join(Project).where(
            Project.procuring_unit_id == user.organisation_id)
    if user.role in (Role.CENTRE, Role.SUPERVISOR):
        return query
    return query.where(Challenge.id.is_(None))


def overdue(query: Select, now: datetime) -> Select:
    return query.where(Challenge.status.in_(states.CHALLENGE_OPEN), Challenge.due_at < now)


def note_overdue(now: datetime) -> list[int]:
    """Once for each challenge that has become overdue: journal it, tell the challenger it may complain
    to the supervisor, and tell the unit. The beat runs this."""
    rows = db.session.scalars(overdue(select(Challenge), now).where(Challenge.overdue_noted_at.is_(None))
                              .order_by(Challenge.id).with_for_update(skip_locked=True)).all()
    for challenge in rows:
        challenge.overdue_noted_at = now
        journal.record("tender.challenge.overdue", "challenge", challenge.id,
                       {"section": challenge.section_id, "due_at": challenge.due_at}, now=now,
                       organisation_id=challenge.section.project.procuring_unit_id)
        users = _challenger_users(challenge)
        if users:
            notifications.notify(users, "challenge_overdue",
                                 _l("Your challenge on %(code)s is unanswered", code=challenge.section.code),
                                 _l("The answer to challenge no. %(id)s was due by %(due)s. You may complain to the "
                                   "supervisor within 15 working days.", id=challenge.id,
                                   due=local_day(challenge.due_at)), link(challenge), now)
        users = _unit_users(challenge)
        if users:
            notifications.notify(users, "challenge_overdue",
                                 _l("Challenge on %(code)s is overdue", code=challenge.section.code),
                                 _l("The answer to challenge no. %(id)s was due by %(due)s; it counts as late.",
                                   id=challenge.id, due=local_day(challenge.due_at)), link(challenge), now)
    db.session.flush()
    return [c.id for c in rows]
