"""Reverse auctions (竞价) above the direct-purchase limit: the unit publishes its requirement with a
ceiling (reserved on its budget line meanwhile) and a window; suppliers with a matching approved listing
quote; at the close the lowest compliant quote wins and becomes an order, and the rest of the ceiling goes
back to the budget line. No compliant quote: the auction fails and the whole ceiling is released."""
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from core import clock, journal, money, notifications
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall import budget, misconduct, orders, states
from mall.models import CATEGORIES, Auction, BudgetLine, Listing, Quote
from mall.search import region_and_parents

MIN_HOURS, MAX_HOURS = 1, 24 * 30


def _suppliers_in(category: str) -> list[int]:
    return sorted(set(db.session.scalars(select(Listing.supplier_id).where(Listing.category == category,
                                                                           Listing.status == "approved"))))


def publish(actor, *, category, title, requirement, quantity, ceiling, budget_line_id, delivery_region,
            delivery_address, hours, now: datetime) -> Auction:
    if actor.role != Role.PROCURING:
        raise DomainError("not_procuring_unit", _("Only procuring units publish reverse auctions."), 403)
    if category not in CATEGORIES:
        raise DomainError("category_unknown", _("Choose a category from the list."))
    title, requirement = " ".join(str(title or "").split()), str(requirement or "").strip()
    if not title or len(title) > 200:
        raise DomainError("title_invalid", _("Give a title (at most 200 characters)."))
    if not requirement or len(requirement) > 5000:
        raise DomainError("requirement_invalid", _("Describe the requirement (at most 5,000 characters)."))
    quantity = orders._quantity(quantity)
    ceiling = money.parse(ceiling)
    if ceiling <= 0 or ceiling >= Decimal("1e14"):
        raise DomainError("amount_out_of_range", _("The ceiling must be above zero."))
    try:
        hours = int(str(hours).strip())
    except ValueError:
        raise DomainError("window_invalid", _("The window is a whole number of hours.")) from None
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise DomainError("window_invalid", _("Quotes are taken for 1 hour to 30 days."))
    line = db.session.get(BudgetLine, budget_line_id) if isinstance(budget_line_id, int) and \
        0 < budget_line_id < 2**31 else None
    if line is None or line.unit_id != actor.organisation_id:
        raise DomainError("budget_line_unknown", _("Choose one of your unit's budget lines."), 422)
    if line.fiscal_year != budget.fiscal_year(now):
        raise DomainError("budget_line_other_year", _("Choose a budget line of the fiscal year %(year)s.",
                                                      year=budget.fiscal_year(now)))
    regions = region_and_parents(str(delivery_region or ""))
    address = " ".join(str(delivery_address or "").split())
    if not regions:
        raise DomainError("region_unknown", _("Choose the delivery region from the list."))
    if not address or len(address) > 300:
        raise DomainError("address_invalid", _("Give the delivery address (at most 300 characters)."))
    budget.reserve(line.id, ceiling)
    auction = Auction(unit_id=actor.organisation_id, created_by_id=actor.id, budget_line_id=line.id, category=category,
                      title=title, requirement=requirement, quantity=quantity, ceiling=ceiling, reserved=ceiling,
                      delivery_region=regions[0], delivery_address=address, status="open", opens_at=now,
                      closes_at=now + timedelta(hours=hours), outcome="")
    db.session.add(auction)
    db.session.flush()
    journal.record("mall.auction.published", "mall_auction", auction.id,
                   {"category": category, "title": title, "quantity": quantity, "ceiling": money.to_json(ceiling),
                    "closes_at": auction.closes_at.isoformat(), "budget_line": line.id}, actor=actor, now=now)
    suppliers = {uid: language for sid in _suppliers_in(category)
                 for uid, language in misconduct.supplier_recipients(sid).items()}
    if suppliers:
        closes = f"{clock.local(auction.closes_at):%Y-%m-%d %H:%M}"
        link = f"/mall/auctions/{auction.id}"
        notifications.notify(suppliers, "mall_auction", _l("Reverse auction: %(title)s; quotes until %(closes)s.",
                                                          title=title, closes=closes), requirement[:500], link, now)
        notifications.schedule_deadline_warning(f"mall-auction:{auction.id}:close", suppliers,
                                                _l("Reverse auction %(title)s closes at %(closes)s.", title=title,
                                                  closes=closes), "", link, auction.closes_at, now)
    return auction


def _compliance(auction: Auction, listing: Listing | None, supplier_id: int, unit_price: Decimal) -> str | None:
    """Why a quote does not comply, or None."""
    if listing is None or listing.supplier_id != supplier_id:
        return _("Quote with one of your own listings.")
    if listing.status != "approved" or listing.category != auction.category:
        return _("The listing must be approved and in the auction's category.")
    if not set(listing.region_codes) & set(region_and_parents(auction.delivery_region)):
        return _("The listing does not deliver to the auction's region.")
    if listing.stock < auction.quantity:
        return _("The listing has less stock than the quantity asked for.")
    if unit_price > listing.price:
        return _("A quote may not be above the listing's agreement price.")
    if (unit_price * auction.quantity).quantize(money.CENT) > auction.ceiling:
        return _("The quote comes to more than the auction's ceiling.")
    if misconduct.active_suspension(supplier_id):
        return _("The supplier is suspended from the mall.")
    return None


def quote(actor, auction: Auction, listing_id, unit_price, now: datetime) -> Quote:
    if actor.role != Role.SUPPLIER:
        raise DomainError("not_supplier", _("Only suppliers quote."), 403)
    if auction.status != "open" or now >= auction.closes_at:
        raise DomainError("auction_closed", _("This auction takes no more quotes."), 409)
    unit_price = money.parse(unit_price)
    if unit_price <= 0:
        raise DomainError("amount_out_of_range", _("The price must be above zero."))
    listing = db.session.get(Listing, listing_id) if isinstance(listing_id, int) and 0 < listing_id < 2**31 else None
    problem = _compliance(auction, listing, actor.organisation_id, unit_price)
    if problem:
        raise DomainError("quote_not_compliant", problem)
    row = db.session.scalar(select(Quote).where(Quote.auction_id == auction.id,
                                                Quote.supplier_id == actor.organisation_id))
    if row is None:
        row = Quote(auction_id=auction.id, supplier_id=actor.organisation_id)
        db.session.add(row)
    row.listing_id, row.unit_price = listing.id, unit_price
    row.total = (unit_price * auction.quantity).quantize(money.CENT)
    row.submitted_at, row.submitted_by_id = now, actor.id
    db.session.flush()
    journal.record("mall.auction.quoted", "mall_auction", auction.id,
                   {"listing": listing.id, "unit_price": money.to_json(unit_price), "total": money.to_json(row.total)},
                   actor=actor, now=now)
    return row


def close(actor, auction: Auction, now: datetime) -> Auction:
    """At or after the close: the lowest compliant quote (earliest on a tie) wins and becomes an order."""
    if actor is not None and not auction.can_manage(actor):
        raise DomainError("not_your_part", _("Only the procuring unit closes its auction."), 403)
    states.require(states.AUCTION, auction, "award", "auction")
    if now < auction.closes_at:
        raise DomainError("auction_not_closed", _("Quotes are taken until %(closes)s.",
                                                  closes=f"{clock.local(auction.closes_at):%Y-%m-%d %H:%M}"), 409)
    winner = None
    for candidate in sorted(auction.quotes, key=lambda q: (q.total, q.submitted_at, q.id)):
        if _compliance(auction, candidate.listing, candidate.supplier_id, candidate.unit_price) is None:
            winner = candidate
            break
    released = auction.reserved
    budget.release(auction.budget_line_id, released)
    auction.reserved, auction.closed_at = Decimal("0"), now
    notifications.cancel_deadline_warning(f"mall-auction:{auction.id}:close", now)
    if winner is None:
        states.advance(states.AUCTION, auction, "fail", "auction")
        auction.outcome = _("No compliant quote.")
        journal.record("mall.auction.fail", "mall_auction", auction.id,
                       {"status": auction.status, "quotes": len(auction.quotes), "released": money.to_json(released)},
                       actor=actor, now=now, organisation_id=auction.unit_id)
        db.session.flush()
        return auction
    buyer = db.session.get(User, auction.created_by_id)
    [order] = orders.place(buyer, [(winner.listing_id, auction.quantity)], budget_line_id=auction.budget_line_id,
                           delivery_region=auction.delivery_region, delivery_address=auction.delivery_address,
                           now=now, auction=auction, unit_prices={winner.listing_id: winner.unit_price})
    states.advance(states.AUCTION, auction, "award", "auction")
    auction.order_id = order.id
    auction.outcome = _("Won by %(supplier)s at %(total)s.", supplier=winner.supplier.name,
                        total=money.format_exact(winner.total))
    journal.record("mall.auction.award", "mall_auction", auction.id,
                   {"status": auction.status, "quote": winner.id, "supplier": winner.supplier_id,
                    "total": money.to_json(winner.total), "order": order.id}, actor=actor, now=now,
                   organisation_id=auction.unit_id)
    db.session.flush()
    return auction


def cancel(actor, auction: Auction, reason: str, now: datetime) -> Auction:
    if not auction.can_manage(actor):
        raise DomainError("not_your_part", _("Only the procuring unit cancels its auction."), 403)
    reason = orders._reason(reason)
    states.advance(states.AUCTION, auction, "cancel", "auction")
    budget.release(auction.budget_line_id, auction.reserved)
    journal.record("mall.auction.cancel", "mall_auction", auction.id,
                   {"status": auction.status, "reason": reason, "released": money.to_json(auction.reserved)},
                   actor=actor, now=now)
    auction.reserved, auction.closed_at, auction.outcome = Decimal("0"), now, reason
    notifications.cancel_deadline_warning(f"mall-auction:{auction.id}:close", now)
    db.session.flush()
    return auction


def due_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(select(Auction.id).where(Auction.status == "open", Auction.closes_at <= now)
                                   .order_by(Auction.closes_at).limit(200)))


def visible_to(user, limit: int = 200) -> list[Auction]:
    stmt = select(Auction).order_by(Auction.opens_at.desc()).limit(limit)
    if user.role == Role.PROCURING:
        stmt = stmt.where(Auction.unit_id == user.organisation_id)
    elif user.role not in (Role.CENTRE, Role.SUPERVISOR, Role.SUPPLIER):
        return []
    return list(db.session.scalars(stmt))
