"""Supplier misconduct: points for a price above the market reference, a late or refused confirmation and
rejected deliveries; when a supplier's points (over the last year, since its last suspension was lifted)
reach the threshold setting, its listings are suspended until the centre lifts the suspension."""
from datetime import datetime, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from accounts.models import Organisation, User
from core import journal, notifications, settings
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall import states
from mall.models import Listing, Misconduct, Suspension

POINTS = {"price_above_reference": 2, "declined_order": 2, "late_confirmation": 3, "rejected_delivery": 1}
KIND_LABELS = {"price_above_reference": _l("Price above the market reference"),
               "declined_order": _l("Order declined"), "late_confirmation": _l("Order not confirmed in time"),
               "rejected_delivery": _l("Delivery rejected at acceptance")}
WINDOW = timedelta(days=365)


def supplier_recipients(supplier_id: int) -> dict[int, str | None]:
    return org_recipients(supplier_id, Role.SUPPLIER)


def org_recipients(organisation_id: int, role: str) -> dict[int, str | None]:
    """Whom a notification to an organisation goes to: its active users with the role, as {id: language}
    (``notifications.notify`` takes them so, and reads no languages itself)."""
    return dict(db.session.execute(select(User.id, User.language).where(
        User.organisation_id == organisation_id, User.role == role, User.status == "active").order_by(User.id)).all())


def active_suspension(supplier_id: int) -> Suspension | None:
    return db.session.scalar(select(Suspension).where(Suspension.supplier_id == supplier_id,
                                                      Suspension.lifted_at.is_(None)))


def points(supplier_id: int, now: datetime) -> int:
    since = now - WINDOW
    lifted = db.session.scalar(select(func.max(Suspension.lifted_at)).where(Suspension.supplier_id == supplier_id))
    if lifted is not None and lifted > since:
        since = lifted
    return db.session.scalar(select(func.coalesce(func.sum(Misconduct.points), 0))
                             .where(Misconduct.supplier_id == supplier_id, Misconduct.recorded_at > since)) or 0


def record(supplier_id: int, kind: str, subject: str, detail: str, now: datetime, actor=None) -> Misconduct:
    row = Misconduct(supplier_id=supplier_id, kind=kind, points=POINTS[kind], subject=subject, detail=detail,
                     recorded_at=now)
    db.session.add(row)
    db.session.flush()
    journal.record("mall.misconduct.recorded", "organisation", supplier_id,
                   {"kind": kind, "points": row.points, "subject": subject, "detail": detail},
                   actor=actor, now=now, organisation_id=supplier_id)
    total = points(supplier_id, now)
    if total >= settings.value("mall.misconduct_threshold", now) and active_suspension(supplier_id) is None:
        suspend(supplier_id, total, now)
    return row


def suspend(supplier_id: int, total: int, now: datetime) -> Suspension:
    suspension = Suspension(supplier_id=supplier_id, points=total, started_at=now)
    db.session.add(suspension)
    listings = db.session.scalars(select(Listing).where(Listing.supplier_id == supplier_id,
                                                        Listing.status.in_(("submitted", "approved", "frozen"))))
    for listing in listings:
        suspend_listing(listing, total, now)
    db.session.flush()
    journal.record("mall.supplier.suspended", "organisation", supplier_id, {"points": total}, now=now,
                   organisation_id=supplier_id)
    notifications.notify(supplier_recipients(supplier_id), "mall_suspension",
                         _l("Your mall listings are suspended: %(points)s misconduct points.", points=total),
                         _l("The trading centre reviews the suspension; your misconduct record is on the mall page."),
                         "/mall/supplier/standing", now)
    return suspension


def suspend_listing(listing: Listing, total: int, now: datetime) -> None:
    states.advance(states.LISTING, listing, "suspend", "listing")
    listing.status_reason = _("The supplier is suspended for misconduct (%(points)s points).", points=total)
    listing.updated_at = now
    journal.record("mall.listing.suspend", "mall_listing", listing.id, {"status": listing.status, "points": total},
                   now=now, organisation_id=listing.supplier_id)


def reinstate_listing(actor, listing: Listing, now: datetime) -> None:
    """Back to the centre's review, which checks the price afresh."""
    states.advance(states.LISTING, listing, "reinstate", "listing")
    listing.status_reason, listing.updated_at = "", now
    journal.record("mall.listing.reinstate", "mall_listing", listing.id, {"status": listing.status},
                   actor=actor, now=now, organisation_id=listing.supplier_id)


def lift(actor, supplier: Organisation, reason: str, now: datetime) -> Suspension:
    """The centre lifts a suspension; the supplier's listings go back to the centre's review."""
    suspension = active_suspension(supplier.id)
    if suspension is None:
        raise DomainError("not_suspended", _("%(name)s is not suspended.", name=supplier.name), 409)
    if not reason.strip():
        raise DomainError("reason_required", _("Give the reason; the supplier is told it."))
    suspension.lifted_at, suspension.lifted_by_id, suspension.lift_reason = now, actor.id, reason.strip()
    for listing in db.session.scalars(select(Listing).where(Listing.supplier_id == supplier.id,
                                                            Listing.status == "suspended")):
        reinstate_listing(actor, listing, now)
    journal.record("mall.supplier.suspension_lifted", "organisation", supplier.id, {"reason": reason.strip()},
                   actor=actor, now=now, organisation_id=supplier.id)
    db.session.flush()
    notifications.notify(supplier_recipients(supplier.id), "mall_suspension",
                         _l("Your suspension from the mall is lifted."),
                         _l("Reason: %(reason)s", reason=reason.strip()), "/mall/supplier/standing", now)
    return suspension


def history(supplier_id: int) -> list[Misconduct]:
    return list(db.session.scalars(select(Misconduct).where(Misconduct.supplier_id == supplier_id)
                                   .order_by(Misconduct.recorded_at.desc())))


def standings(now: datetime) -> list[dict]:
    """Every supplier with points or a suspension, for the centre."""
    ids = set(db.session.scalars(select(Misconduct.supplier_id).distinct())) | \
        set(db.session.scalars(select(Suspension.supplier_id).where(Suspension.lifted_at.is_(None))))
    rows = []
    for supplier in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)):
        rows.append({"supplier": supplier, "points": points(supplier.id, now),
                     "suspension": active_suspension(supplier.id)})
    return rows


def centre_user_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role == Role.CENTRE, User.status == "active")))
