"""Bidders register for sections and download tender documents (every download recorded); questions,
answers to all registered bidders, and addenda that move the deadline."""
from datetime import datetime, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from accounts.organisations import member_ids
from core import clock, journal, notifications, settings, storage, uploads
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import guarantees, rooms
from tender.models import Clarification, Download, Notice, NoticeDocument, Registration, Section


def _open_for_bidders(section: Section, now: datetime) -> None:
    if section.status != "published" or section.deadline <= now:
        raise DomainError("section_not_open", _("This section is not open: its bid deadline has passed or it is "
                                                "not published."), 409)


def registration(section: Section, organisation_id: int) -> Registration | None:
    return db.session.scalar(select(Registration).where(Registration.section_id == section.id,
                                                        Registration.organisation_id == organisation_id))


def register(actor: User, section: Section, now: datetime) -> Registration:
    if actor.role != Role.BIDDER:
        raise DomainError("not_bidder", _("Only bidders register for sections."), 403)
    _open_for_bidders(section, now)
    if registration(section, actor.organisation_id) is not None:
        raise DomainError("already_registered", _("Your organisation is registered for this section already."), 409)
    entry = Registration(section=section, organisation_id=actor.organisation_id, user_id=actor.id,
                         registered_at=now)
    db.session.add(entry)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # a colleague registered the organisation at the same moment
        raise DomainError("already_registered",
                          _("Your organisation is registered for this section already."), 409) from None
    journal.record("tender.section.registered", "section", section.id, {"bidder": actor.organisation_id},
                   actor=actor, now=now)
    return entry


def may_download(user: User, section: Section) -> bool:
    """Registered bidders, and the people running or watching the section."""
    if user.role == Role.BIDDER:
        return registration(section, user.organisation_id) is not None
    return section.project.can_view(user)


def download(actor: User, document: NoticeDocument, now: datetime, ip: str, user_agent: str) -> bytes:
    section = document.notice.section
    if not may_download(actor, section):
        raise DomainError("not_registered", _("Register for the section to download its tender documents."), 403)
    data = storage.get(document.sha256)
    db.session.add(Download(document_id=document.id, section_id=section.id, organisation_id=actor.organisation_id,
                            user_id=actor.id, at=now, ip_address=(ip or "")[:64], user_agent=(user_agent or "")[:300]))
    journal.record("tender.document.downloaded", "section", section.id,
                   {"document": document.id, "sha256": document.sha256}, actor=actor, now=now)
    return data


def _bidder_users(section: Section) -> list[int]:
    orgs = db.session.scalars(select(Registration.organisation_id).where(Registration.section_id == section.id))
    return member_ids(list(orgs), Role.BIDDER)


def _text(value, code: str, message: str, maximum: int = 5000) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > maximum:
        raise DomainError(code, message)
    return value


def ask(actor: User, section: Section, question, now: datetime) -> Clarification:
    _open_for_bidders(section, now)
    if actor.role != Role.BIDDER or registration(section, actor.organisation_id) is None:
        raise DomainError("not_registered", _("Register for the section before asking a question."), 403)
    clarification = Clarification(section=section, asked_by_org_id=actor.organisation_id, asked_by_id=actor.id,
                                  question=_text(question, "question_invalid",
                                                 _("Write your question (at most 5000 characters).")),
                                  asked_at=now)
    db.session.add(clarification)
    db.session.flush()
    journal.record("tender.clarification.asked", "section", section.id, {"clarification": clarification.id},
                   actor=actor, now=now)
    users = member_ids(section.project.procuring_unit_id, Role.PROCURING)
    if users:
        notifications.notify(users, "clarification_asked", _l("A question on %(code)s", code=section.code),
                             _l("A bidder asked a question on %(name)s; answer it for all bidders.", name=section.name),
                             f"/tender/sections/{section.id}/clarifications", now)
    return clarification


def answer(actor: User, clarification: Clarification, text, now: datetime) -> Clarification:
    """The answer goes to every registered bidder, without the asker's name."""
    section = clarification.section
    if clarification.answered_at is not None:
        raise DomainError("already_answered", _("This question has been answered already."), 409)
    if section.status != "published":
        raise DomainError("section_not_open", _("This section is not open: its bid deadline has passed or it is "
                                                "not published."), 409)
    clarification.answer = _text(text, "answer_invalid", _("Write the answer (at most 5000 characters)."))
    clarification.answered_at, clarification.answered_by_id = now, actor.id
    journal.record("tender.clarification.answered", "section", section.id, {"clarification": clarification.id},
                   actor=actor, now=now)
    users = _bidder_users(section)
    if users:
        notifications.notify(users, "clarification_answered", _l("Clarification on %(code)s", code=section.code),
                             _l("A question on %(name)s has been answered for all bidders.", name=section.name),
                             f"/tender/sections/{section.id}/clarifications", now)
    return clarification


def moved_deadline(deadline: datetime, now: datetime, days: int) -> datetime:
    """The deadline an addendum issued ``now`` leaves: unchanged when ``days`` days remain, else the first
    moment at the same Beijing clock time that leaves them (openings keep their usual hour)."""
    earliest = now + timedelta(days=days)
    if deadline >= earliest:
        return deadline
    local_time = clock.local(deadline).timetz()
    candidate = datetime.combine(clock.local(earliest).date(), local_time).astimezone(deadline.tzinfo)
    return candidate if candidate >= earliest else candidate + timedelta(days=1)


def addendum(actor: User, section: Section, *, title, body, documents: list[tuple[str, bytes]],
             now: datetime) -> Notice:
    _open_for_bidders(section, now)
    title = _text(title, "title_invalid", _("Give the notice a title of at most 300 characters."), 300)
    body = _text(body, "body_invalid", _("Write the text of the notice."), 20000)
    stored = [uploads.store(name, data) for name, data in documents]
    days = settings.value("tender.addendum_min_days", now)
    before = section.deadline
    section.deadline = moved_deadline(before, now, days)
    notice = Notice(section=section, kind="addendum", title=title, body=body, published_at=now,
                    published_by_id=actor.id, deadline_before=before,
                    deadline_after=section.deadline if section.deadline != before else None)
    db.session.add(notice)
    for upload in stored:
        db.session.add(NoticeDocument(notice=notice, filename=upload.filename, content_type=upload.content_type,
                                      size=upload.size, sha256=upload.sha256))
    db.session.flush()
    if notice.deadline_after:
        rooms.follow_deadline(actor, section, before, section.deadline, now)
        guarantees.warn_of_moved_deadline(section, now)
    journal.record("tender.section.addendum", "section", section.id,
                   {"notice": notice.id, "title": title, "deadline_before": before, "deadline": section.deadline,
                    "documents": [{"filename": u.filename, "sha256": u.sha256} for u in stored]}, actor=actor, now=now)
    users = _bidder_users(section)
    if users:
        moved = _(" The bid deadline moves to %(when)s Beijing time.",
                  when=clock.local(section.deadline).strftime("%Y-%m-%d %H:%M")) if notice.deadline_after else ""
        notifications.notify(users, "addendum", _l("Addendum to %(code)s", code=section.code),
                             _l("An addendum to %(name)s was published.", name=section.name) + moved,
                             f"/tender/notices/{section.id}", now)
    return notice


def visible_clarifications(user: User, section: Section) -> list[Clarification]:
    """Bidders see every answered question and their own unanswered ones; the unit and staff see all."""
    rows = db.session.scalars(select(Clarification).where(Clarification.section_id == section.id)
                              .order_by(Clarification.id)).all()
    if user.role == Role.BIDDER:
        return [c for c in rows if c.answered_at is not None or c.asked_by_org_id == user.organisation_id]
    return rows
