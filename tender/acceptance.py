"""The centre's acceptance (项目受理): a queue, and one decision per submission against the checklist.

The reviewer judges every checklist item at once, so that a returned application lists everything that
is missing or defective in one notice (一次性告知), never one item per round trip.
"""
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from accounts.organisations import member_ids
from core import clock, journal, notifications
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import checklists, states
from tender.models import Finding, Project, Review
from tender.projects import move_with_sections

OUTCOMES = ("accept", "return", "accept_with_gaps")
MAX_GAP_PERIOD = timedelta(days=365)
VERDICTS = ("ok", "missing", "defective")


def queue():
    """Submitted projects waiting for a decision: green channel first, then first come, first served."""
    return (select(Project).where(Project.status == "submitted")
            .order_by(Project.green_channel.desc(), Project.submitted_at, Project.id))


def gaps_deadline(due: date) -> datetime:
    """Gaps are due by the end of the due day, Beijing time."""
    return datetime.combine(due + timedelta(days=1), time(0), clock.SHANGHAI).astimezone(timezone.utc)


def _unit_users(project: Project) -> list[int]:
    return member_ids(project.procuring_unit_id, Role.PROCURING)


def _link(project: Project) -> str:
    return f"/tender/projects/{project.id}"


def decide(actor: User, project: Project, *, outcome: str, verdicts: dict, comment: str = "",
           gaps_due: date | None = None, now: datetime) -> Review:
    """Record the decision. ``verdicts`` maps every checklist item to (verdict, note), verdict being ok,
    missing or defective. Accept needs no findings; return needs at least one; accept with gaps needs
    findings on non-critical items only and a due date after today."""
    if outcome not in OUTCOMES:
        raise DomainError("outcome_invalid", _("Choose to accept, return, or accept with gaps."))
    states.require(states.PROJECT, project, outcome, "project")
    if not isinstance(verdicts, dict) or not all(isinstance(v, tuple | list) and len(v) == 2 for v in verdicts.values()):
        raise DomainError("verdict_invalid", _("Mark each item as present, missing or defective."))
    comment = comment if isinstance(comment, str) else ""
    items = checklists.checklist(project.category)
    unjudged = [str(i.label) for i in items if i.key not in verdicts]
    if unjudged:
        raise DomainError("review_incomplete", _("Judge every item of the checklist; not yet judged: %(items)s.",
                                                 items="; ".join(unjudged)))
    findings = []
    for item in items:
        verdict, note = verdicts[item.key]
        if verdict not in VERDICTS:
            raise DomainError("verdict_invalid", _("Mark each item as present, missing or defective."))
        note = (note or "").strip()[:1000]
        if verdict == "defective" and not note:
            raise DomainError("note_required", _("Say what is wrong with: %(item)s.", item=item.label))
        if verdict != "ok":
            findings.append((item, verdict, note))
    if outcome == "accept" and findings:
        raise DomainError("findings_present", _("%(n)s items are marked missing or defective: return the application "
                                                "or accept it with gaps.", n=len(findings)))
    if outcome != "accept" and not findings:
        raise DomainError("no_findings", _("Mark the items that are missing or defective; with none, accept."))
    if outcome == "accept_with_gaps":
        critical = [str(item.label) for item, _v, _n in findings if item.critical]
        if critical:
            raise DomainError("critical_gap", _("Critical items cannot be accepted with a gap (容缺受理): %(items)s. "
                                                "Return the application instead.", items="; ".join(critical)))
        today = now.astimezone(clock.SHANGHAI).date()
        if not isinstance(gaps_due, date) or not today < gaps_due <= today + MAX_GAP_PERIOD:
            raise DomainError("gaps_due_invalid", _("Give a date after today, and within a year, by which the gaps "
                                                    "must be supplied."))
    else:
        gaps_due = None

    review = Review(project=project, reviewer_id=actor.id, outcome={"accept": "accepted", "return": "returned",
                                                                    "accept_with_gaps": "accepted_with_gaps"}[outcome],
                    comment=(comment or "").strip()[:2000], decided_at=now, gaps_due=gaps_due)
    db.session.add(review)
    for item, verdict, note in findings:
        db.session.add(Finding(review=review, item=item.key, problem=verdict, note=note))
    db.session.flush()
    move_with_sections(actor, project, outcome, now, {"review": review.id, "gaps_due": gaps_due.isoformat() if gaps_due else None,
                                         "findings": [{"item": i.key, "problem": v, "note": n} for i, v, n in findings]})
    _tell_unit(project, review, now)
    return review


def _tell_unit(project: Project, review: Review, now: datetime) -> None:
    users = _unit_users(project)
    if not users:
        return
    listed = "\n".join(f"- {checklists.item(project.category, f.item).label}: "
                       f"{_('missing') if f.problem == 'missing' else _('defective')}{' — ' + f.note if f.note else ''}"
                       for f in review.findings)
    if review.outcome == "accepted":
        notifications.notify(users, "project_accepted", _l("Project %(code)s accepted", code=project.code),
                             _l("The centre accepted the project %(name)s.", name=project.name), _link(project), now)
    elif review.outcome == "returned":
        notifications.notify(users, "project_returned", _l("Project %(code)s returned", code=project.code),
                             _l("The centre returned the project %(name)s. Everything to put right:\n%(items)s\n%(comment)s",
                               name=project.name, items=listed, comment=review.comment), _link(project), now)
    else:
        notifications.notify(users, "project_accepted_with_gaps",
                             _l("Project %(code)s accepted with gaps", code=project.code),
                             _l("The centre accepted the project %(name)s with gaps (容缺受理). Supply by %(due)s:\n%(items)s",
                               name=project.name, due=review.gaps_due.isoformat(), items=listed), _link(project), now)
        notifications.schedule_deadline_warning(
            f"project:{project.id}:gaps", users, _l("Gaps of project %(code)s are due", code=project.code),
            _l("Supply the missing materials of %(name)s by %(due)s; the project cannot be published before.",
              name=project.name, due=review.gaps_due.isoformat()),
            _link(project), gaps_deadline(review.gaps_due), now)


def supplied(project: Project, finding: Finding) -> bool:
    """Whether the unit has uploaded a document for the gap since the decision named it."""
    return any(d.item == finding.item and d.uploaded_at >= finding.review.decided_at for d in project.documents)


def clear_gap(actor: User, project: Project, finding: Finding, now: datetime) -> Finding:
    """The reviewer confirms a supplied gap; the last one cleared makes the project accepted."""
    if finding not in project.open_gaps():
        raise DomainError("gap_not_open", _("This item is not an open gap of the project."), 409)
    if not supplied(project, finding):
        raise DomainError("gap_not_supplied", _("The procuring unit has not yet uploaded a document for this item."), 409)
    finding.cleared_at, finding.cleared_by_id = now, actor.id
    journal.record("tender.project.gap_cleared", "project", project.id, {"item": finding.item}, actor=actor, now=now)
    db.session.flush()
    if not project.open_gaps():
        move_with_sections(actor, project, "clear_gaps", now)
        notifications.cancel_deadline_warning(f"project:{project.id}:gaps", now)
        users = _unit_users(project)
        if users:
            notifications.notify(users, "project_accepted", _l("Project %(code)s accepted", code=project.code),
                                 _l("Every gap of %(name)s is supplied: the project is accepted.", name=project.name),
                                 _link(project), now)
    return finding
