"""Publishing a section's tender notice, the public notice board, closing at the deadline, failure and
a new round."""
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from accounts import regions
from accounts.models import User
from core import clock, journal, lifecycle, settings, uploads
from core.errors import DomainError
from core.extensions import db
from tender import opening_keys, states
from tender.models import CATEGORIES, METHODS, Notice, NoticeDocument, Project, Section

PUBLIC_STATES = ("published", "closed", "opening", "opened", "evaluated", "publicised", "awarded", "contracted",
                 "failed", "cancelled")


def move(actor, section: Section, action: str, now: datetime, payload: dict | None = None) -> Section:
    """One journaled step of a section along its lifecycle: the only way a section's status changes."""
    lifecycle.move(states.SECTION, section, action, "section", states.STATE_LABELS, states.ACTION_LABELS,
                   journal_as="tender.section", actor=actor, now=now, payload=payload)
    return section


def min_days(section: Section, at: datetime) -> int:
    """The statutory minimum from publication to deadline for this category and method, as in force at ``at``."""
    return settings.value(f"tender.min_days.{section.category}.{section.method}", at)


def publish(actor: User, section: Section, *, title, body, deadline: datetime,
            documents: list[tuple[str, bytes]], now: datetime) -> Notice:
    """Publish the tender notice and documents. The deadline is the opening time."""
    gaps = section.project.open_gaps()
    if gaps:
        raise DomainError("gaps_open", _("The project has %(n)s open gaps (容缺): publication waits until they are "
                                         "supplied and cleared.", n=len(gaps)), 409)
    states.require(states.SECTION, section, "publish", "section")
    title = (title or "").strip() if isinstance(title, str) else ""
    body = (body or "").strip() if isinstance(body, str) else ""
    if not title or len(title) > 300:
        raise DomainError("title_invalid", _("Give the notice a title of at most 300 characters."))
    if not body:
        raise DomainError("body_invalid", _("Write the text of the notice."))
    if deadline is None or deadline.tzinfo is None:
        raise DomainError("deadline_invalid", _("Give the bid deadline (the opening time)."))
    days = min_days(section, now)
    earliest = now + timedelta(days=days)
    if deadline < earliest:
        raise DomainError("period_too_short",
                          _("The bid deadline must be at least %(days)s calendar days after publication: "
                            "%(earliest)s Beijing time or later.", days=days,
                            earliest=clock.local(earliest).strftime("%Y-%m-%d %H:%M")))
    if not documents:
        raise DomainError("tender_documents_missing", _("Attach the tender documents (招标文件)."))
    stored = [uploads.store(name, data) for name, data in documents]
    opening_keys.make(section, actor, now)
    notice = Notice(section=section, kind="tender", title=title, body=body, published_at=now,
                    published_by_id=actor.id)
    db.session.add(notice)
    for upload in stored:
        db.session.add(NoticeDocument(notice=notice, filename=upload.filename, content_type=upload.content_type,
                                      size=upload.size, sha256=upload.sha256))
    section.published_at, section.deadline, section.min_days = now, deadline, days
    move(actor, section, "publish", now, {"deadline": deadline, "min_days": days, "title": title,
                                          "documents": [{"filename": u.filename, "sha256": u.sha256} for u in stored]})
    db.session.flush()
    return notice


def close_due(now: datetime) -> list[int]:
    """Close to bids every published section whose deadline has come (the beat runs this each minute)."""
    due = db.session.scalars(select(Section).where(Section.status == "published", Section.deadline <= now)
                             .order_by(Section.id).with_for_update(skip_locked=True)).all()
    for section in due:
        move(None, section, "close", now, {"deadline": section.deadline})
    return [s.id for s in due]


def _reason(reason, message) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError("reason_required", message)
    return reason[:2000]


def fail(actor: User, section: Section, reason: str, now: datetime) -> Section:
    section.failure_reason = _reason(reason, _("Say why the section failed (流标)."))
    if section.award_date is None:  # the day the outcome was decided, which dates it in the statistics
        section.award_date = clock.local(now).date()
    return move(actor, section, "fail", now, {"reason": section.failure_reason})


def cancel(actor: User, section: Section, reason: str, now: datetime) -> Section:
    """Terminate one section (终止), with the reason made public on its notice page."""
    section.failure_reason = _reason(reason, _("Say why the section is cancelled."))
    return move(actor, section, "cancel", now, {"reason": section.failure_reason})


def retender(actor: User, section: Section, now: datetime, method: str | None = None) -> Section:
    """A new round of a failed section, linked to it, accepted already (the project was) and ready to be
    published anew; where the law allows, with another method."""
    if section.status != "failed":
        raise DomainError("not_failed", _("Only a failed section can be tendered again."), 409)
    if db.session.scalar(select(Section.id).where(Section.previous_id == section.id)):
        raise DomainError("already_retendered", _("This section has been tendered again already."), 409)
    if method is not None and method not in METHODS:
        raise DomainError("method_invalid", _("Choose one of the offered values for %(field)s.", field=_("method")))
    base_code = section.code.rsplit("-R", 1)[0]
    new = Section(project=section.project, code=f"{base_code}-R{section.round + 1}", name=section.name,
                  category=section.category, region_code=section.region_code, method=method or section.method,
                  base_amount=section.base_amount, guarantee_amount=section.guarantee_amount,
                  bid_validity_days=section.bid_validity_days, evaluation_method=section.evaluation_method,
                  price_weight=section.price_weight, technical_weight=section.technical_weight,
                  commercial_weight=section.commercial_weight, status="accepted", round=section.round + 1, previous=section)
    db.session.add(new)
    db.session.flush()
    journal.record("tender.section.retendered", "section", new.id,
                   {"previous": section.id, "round": new.round, "code": new.code, "method": new.method},
                   actor=actor, now=now)
    return new


def notice_board(*, q: str = "", region: str = "", category: str = "", method: str = "", status: str = ""):
    """Published sections for the public notice board, newest first, with search and filters."""
    query = (select(Section).join(Project).where(Section.published_at.is_not(None))
             .order_by(Section.published_at.desc(), Section.id.desc()))
    q = (q or "").strip()[:100]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Section.name.ilike(pattern, escape="\\"), Section.code.ilike(pattern, escape="\\"),
                                Project.name.ilike(pattern, escape="\\")))
    if region:
        query = query.where(regions.within(Section.region_code, region[:6]))  # a city covers its districts
    if category in CATEGORIES:
        query = query.where(Section.category == category)
    if method in METHODS:
        query = query.where(Section.method == method)
    if status in PUBLIC_STATES:
        query = query.where(Section.status == status)
    return query
