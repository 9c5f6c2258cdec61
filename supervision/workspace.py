"""The supervisor's workspace: what lies in the supervisor's region (openings live and past), and the
supervisors' annotations and flags on sections and mall orders.

The region rule lives here and nowhere else: a supervisor sees what belongs to the region of the supervisor's
organisation or lies within it (a city's code, 320100, covers its districts, 3201xx; a province's, 320000,
its cities), as the public notice board filters by region. Admins, who run the whole platform, see every region.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, false, func, or_, select, true

from accounts import regions
from accounts.models import Organisation, User
from core import journal
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall.models import Order
from supervision.models import Annotation, RedFlag
from tender.models import Opening, Section

SUBJECTS = ("section", "order")
TEXT_LIMIT = 4000
PAST_DAYS = 30


def region_clause(user: User, column):
    """A WHERE clause on a region-code column: true for what lies in the user's region."""
    if user.role == Role.ADMIN:
        return true()
    if user.role != Role.SUPERVISOR or user.organisation is None:
        return false()
    return regions.within(column, user.organisation.region_code)


def covers(user: User, region_code: str) -> bool:
    """Does ``region_code`` lie in the user's region (the same rule as ``region_clause``)?"""
    if user.role == Role.ADMIN:
        return True
    return (user.role == Role.SUPERVISOR and user.organisation is not None
            and regions.contains(user.organisation.region_code, region_code))


def section_in_scope(user: User, section_id: int) -> Section | None:
    section = db.session.get(Section, section_id)
    return section if section is not None and covers(user, section.region_code) else None


def order_in_scope(user: User, order_id: int) -> Order | None:
    """An order belongs to the region of its procuring unit."""
    order = db.session.get(Order, order_id)
    return order if order is not None and covers(user, order.unit.region_code) else None


def red_flags_in_region(query, user: User):
    """Red flags of the sections, and of the procuring units, in the user's region."""
    sections = select(Section.id).where(region_clause(user, Section.region_code))
    units = select(Organisation.credit_code).where(region_clause(user, Organisation.region_code))
    return query.where(or_(RedFlag.section_id.in_(sections),
                           and_(RedFlag.section_id.is_(None), RedFlag.unit_code.in_(units))))


@dataclass
class Attention:
    """What waits for a supervisor, counted for the supervision home page."""
    live_openings: int
    open_red_flags: int
    open_complaints: int | None  # None: not the user's to handle (admins)
    extension_requests: int | None
    overdue_challenges: int | None


def attention(user: User, now: datetime) -> Attention:
    from tender import challenges, complaints  # tender's services; supervision's models are imported by tender
    from tender.models import Challenge, Complaint
    from tender.states import COMPLAINT_OPEN

    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))

    supervisor = user.role == Role.SUPERVISOR
    return Attention(
        live_openings=len(live_openings(user)),
        open_red_flags=count(red_flags_in_region(select(RedFlag.id).where(RedFlag.status == "open"), user)),
        open_complaints=count(complaints.visible(user).where(Complaint.status.in_(COMPLAINT_OPEN)))
        if supervisor else None,
        extension_requests=count(challenges.visible(user).where(Challenge.status == "extension_requested"))
        if supervisor else None,
        overdue_challenges=count(challenges.overdue(challenges.visible(user), now)) if supervisor else None)


def live_openings(user: User) -> list[Section]:
    """Sections whose opening is in progress now (suspending an attempt takes the section out of "opening")."""
    return list(db.session.scalars(select(Section).where(Section.status == "opening",
                                                         region_clause(user, Section.region_code))
                                   .order_by(Section.deadline, Section.id)))


def past_openings(user: User, now: datetime, days: int = PAST_DAYS) -> list[Opening]:
    """Attempts sealed or suspended in the last ``days`` days, latest first."""
    since = now - timedelta(days=days)
    ended = func.coalesce(Opening.sealed_at, Opening.suspended_at)
    return list(db.session.scalars(
        select(Opening).join(Section, Opening.section_id == Section.id)
        .where(or_(Opening.sealed_at >= since, Opening.suspended_at >= since),
               region_clause(user, Section.region_code))
        .order_by(ended.desc(), Opening.id.desc())))


def _subject(user: User, subject_type: str, reference: str):
    """The section (by code or id) or order (by number or id) a supervisor names, within the region."""
    reference = (reference or "").strip()[:50] if isinstance(reference, str) else ""
    if subject_type == "section":
        model, column, in_scope = Section, Section.code, section_in_scope
    elif subject_type == "order":
        model, column, in_scope = Order, Order.number, order_in_scope
    else:
        raise DomainError("subject_invalid", _("Annotate a section or a mall order."))
    found = db.session.scalar(select(model.id).where(column == reference)) if reference else None
    if found is None and reference.isdigit():
        found = int(reference)
    obj = in_scope(user, found) if found is not None else None
    if obj is None:
        raise DomainError("subject_unknown", _("No such section or order in your region."), 404)
    return obj


def annotate(actor: User, subject_type: str, reference: str, text: str, flagged: bool, now: datetime) -> Annotation:
    """A supervisor's note on a section or order in the supervisor's region, flagged or not; journaled."""
    if actor.role != Role.SUPERVISOR:
        raise DomainError("not_supervisor", _("Only supervisors annotate."), 403)
    obj = _subject(actor, subject_type, reference)
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise DomainError("text_required", _("Write the annotation."))
    if len(text) > TEXT_LIMIT:
        raise DomainError("text_too_long", _("An annotation has at most %(n)s characters.", n=TEXT_LIMIT))
    row = Annotation(subject_type=subject_type, subject_id=obj.id, author_id=actor.id, text=text,
                     flagged=bool(flagged), created_at=now)
    db.session.add(row)
    db.session.flush()
    journal.record("supervision.annotation.added", subject_type, obj.id,
                   {"annotation": row.id, "text": text, "flagged": row.flagged}, actor=actor, now=now)
    return row


def annotations(user: User, subject_type: str | None = None, subject_id: int | None = None,
                limit: int = 100) -> list[Annotation]:
    """Annotations on what lies in the user's region (of one subject, when given), flagged first, latest first."""
    in_sections = select(Section.id).where(region_clause(user, Section.region_code))
    in_orders = (select(Order.id).join(Organisation, Order.unit_id == Organisation.id)
                 .where(region_clause(user, Organisation.region_code)))
    query = select(Annotation).where(or_(
        and_(Annotation.subject_type == "section", Annotation.subject_id.in_(in_sections)),
        and_(Annotation.subject_type == "order", Annotation.subject_id.in_(in_orders))))
    if subject_type is not None:
        query = query.where(Annotation.subject_type == subject_type, Annotation.subject_id == subject_id)
    return list(db.session.scalars(query.order_by(Annotation.flagged.desc(), Annotation.created_at.desc(),
                                                  Annotation.id.desc()).limit(limit)))


def subject_labels(rows: list[Annotation]) -> dict[tuple[str, int], str]:
    """What each annotation is about, in words: the section's code or the order's number."""
    labels = {}
    section_ids = {r.subject_id for r in rows if r.subject_type == "section"}
    order_ids = {r.subject_id for r in rows if r.subject_type == "order"}
    if section_ids:
        for ident, code in db.session.execute(select(Section.id, Section.code).where(Section.id.in_(section_ids))):
            labels[("section", ident)] = code
    if order_ids:
        for ident, number in db.session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))):
            labels[("order", ident)] = number
    return labels
