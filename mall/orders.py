"""Carts and orders: the cart splits by supplier into one order each; the direct-purchase limit (per order,
and per unit per category per fiscal year) holds; stock and budget lines are taken by guarded UPDATEs so
that nothing is oversold or overdrawn whatever the concurrency; the supplier confirms within the
confirmation period or the order is cancelled automatically and its budget released; acceptance may
reject lines, whose amount goes back to the budget; settlement records the invoice and the payment and
consumes the budget; both parties rate; disputes after receipt go to the centre.

Locks are always taken in one order — listings by id, then direct-purchase counters by category, then
the budget line — so two orders never wait for each other in a circle.
"""
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accounts.models import User
from core import clock, journal, money, notifications, settings
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall import budget, misconduct, states
from mall.listings import lowest_reference_price
from mall.models import BudgetLine, CartItem, Dispute, DirectSpend, Listing, ListingRegion, Order, OrderLine, Rating
from mall.search import region_chain

MAX_QUANTITY = 100_000
MAX_CART_ITEMS = 100
SCORES = ("good", "neutral", "poor")


def _require_procuring(actor) -> None:
    if actor.role != Role.PROCURING:
        raise DomainError("not_procuring_unit", _("Only procuring units buy in the mall."), 403)


def _quantity(value) -> int:
    try:
        quantity = int(str(value).strip())
    except ValueError:
        raise DomainError("quantity_invalid", _("The quantity is a whole number.")) from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError("quantity_invalid", _("The quantity is a whole number from 1 to 100,000."))
    return quantity


# The cart.

def cart_of(user) -> list[CartItem]:
    return list(db.session.scalars(select(CartItem).where(CartItem.user_id == user.id).order_by(CartItem.id)))


def cart_by_supplier(user) -> dict:
    groups = defaultdict(list)
    for item in cart_of(user):
        groups[item.listing.supplier].append(item)
    return dict(groups)


def add_to_cart(actor, listing: Listing, quantity, now: datetime) -> CartItem:
    _require_procuring(actor)
    quantity = _quantity(quantity)
    if not listing.orderable:
        raise DomainError("listing_unavailable", _("%(name)s is not on sale now.", name=listing.name), 409)
    item = db.session.scalar(select(CartItem).where(CartItem.user_id == actor.id, CartItem.listing_id == listing.id))
    if item is None:
        if len(cart_of(actor)) >= MAX_CART_ITEMS:
            raise DomainError("cart_full", _("A cart holds at most 100 products."), 409)
        item = CartItem(user_id=actor.id, listing_id=listing.id, quantity=0, added_at=now)
        db.session.add(item)
    item.quantity = min(item.quantity + quantity, MAX_QUANTITY)
    db.session.flush()
    return item


def set_cart_quantity(actor, item_listing_id: int, quantity, now: datetime) -> None:
    item = db.session.scalar(select(CartItem).where(CartItem.user_id == actor.id, CartItem.listing_id == item_listing_id))
    if item is None:
        return
    if str(quantity).strip() in ("0", ""):
        db.session.delete(item)
    else:
        item.quantity = _quantity(quantity)
    db.session.flush()


def clear_cart(actor, listing_ids=None) -> None:
    for item in cart_of(actor):
        if listing_ids is None or item.listing_id in listing_ids:
            db.session.delete(item)
    db.session.flush()


# Taking stock, counting direct purchases.

def _take_stock(listing: Listing, quantity: int) -> None:
    done = db.session.execute(
        update(Listing).where(Listing.id == listing.id, Listing.status == "approved", Listing.stock >= quantity)
        .values(stock=Listing.stock - quantity).execution_options(synchronize_session=False)).rowcount
    db.session.expire(listing, ["stock", "status"])
    if done != 1:
        if listing.status != "approved":
            raise DomainError("listing_unavailable", _("%(name)s is not on sale now.", name=listing.name), 409)
        raise DomainError("out_of_stock", _("Only %(stock)s of %(name)s are left; you asked for %(quantity)s.",
                                            stock=listing.stock, name=listing.name, quantity=quantity), 409)


def _return_stock(listing_id: int, quantity: int) -> None:
    db.session.execute(update(Listing).where(Listing.id == listing_id).values(stock=Listing.stock + quantity)
                       .execution_options(synchronize_session=False))
    listing = db.session.identity_map.get(db.session.identity_key(Listing, listing_id))
    if listing is not None:
        db.session.expire(listing, ["stock"])


def _count_direct(unit_id: int, year: int, category: str, amount: Decimal, limit: Decimal) -> None:
    """Add ``amount`` to the unit's yearly direct purchases in ``category`` unless that passes ``limit``: one
    guarded upsert (the row is made on the unit's first order of the year)."""
    counted = None
    if amount <= limit:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(DirectSpend).values(unit_id=unit_id, fiscal_year=year, category=category, amount=amount)
        total = DirectSpend.amount + statement.excluded.amount
        counted = db.session.connection().execute(statement.on_conflict_do_update(
            index_elements=[DirectSpend.unit_id, DirectSpend.fiscal_year, DirectSpend.category],
            set_={"amount": total}, where=total <= limit).returning(DirectSpend.amount)).first()
    if counted is None:
        spent = db.session.scalar(select(DirectSpend.amount).where(
            DirectSpend.unit_id == unit_id, DirectSpend.fiscal_year == year, DirectSpend.category == category))
        raise DomainError("direct_limit_exceeded",
                          _("Your unit has bought %(spent)s directly in this category this year; %(amount)s more "
                            "would pass the direct-purchase limit of %(limit)s. Publish a reverse auction instead.",
                            spent=money.format_exact(spent or 0), amount=money.format_exact(amount),
                            limit=money.format_exact(limit)), 409)


def _uncount_direct(order: Order, amounts: dict) -> None:
    if order.auction_id is not None:
        return
    for category, amount in sorted(amounts.items()):
        if amount > 0:
            db.session.execute(update(DirectSpend).where(
                DirectSpend.unit_id == order.unit_id, DirectSpend.fiscal_year == order.fiscal_year,
                DirectSpend.category == category).values(amount=DirectSpend.amount - amount)
                .execution_options(synchronize_session=False))


def _by_category(lines) -> dict:
    amounts = defaultdict(Decimal)
    for line in lines:
        amounts[line.category] += line.amount
    return amounts


# Placing orders.

def place(actor, lines: list[tuple[int, object]], *, budget_line_id, delivery_region: str, delivery_address: str,
          now: datetime, auction=None, unit_prices: dict | None = None) -> list[Order]:
    """One order per supplier of ``lines`` [(listing id, quantity)], all or none."""
    _require_procuring(actor)
    if not lines:
        raise DomainError("cart_empty", _("Choose at least one product."))
    if len(lines) > MAX_CART_ITEMS:
        raise DomainError("cart_full", _("An order holds at most 100 products."))
    line = db.session.get(BudgetLine, budget_line_id) if isinstance(budget_line_id, int) and \
        0 < budget_line_id < 2**31 else None
    if line is None or line.unit_id != actor.organisation_id:
        raise DomainError("budget_line_unknown", _("Choose one of your unit's budget lines."), 422)
    year = budget.fiscal_year(now)
    if line.fiscal_year != year:
        raise DomainError("budget_line_other_year", _("Choose a budget line of the fiscal year %(year)s.", year=year))
    address = " ".join(str(delivery_address or "").split())
    if not address or len(address) > 300:
        raise DomainError("address_invalid", _("Give the delivery address (at most 300 characters)."))
    region = str(delivery_region or "")
    if not region:
        raise DomainError("region_unknown", _("Choose the delivery region from the list."))
    quantities = defaultdict(int)
    for listing_id, quantity in lines:
        if not isinstance(listing_id, int) or not 0 < listing_id < 2**31:
            raise DomainError("listing_unknown", _("A product in the order does not exist."), 422)
        quantities[listing_id] += _quantity(quantity)
    limits = settings.values(("mall.direct_purchase_limit", "mall.confirm_hours", "mall.reference_valid_days"), now)
    # One query: the listings, whether each delivers to the region (or a region around it), its product's
    # lowest current reference, and the supplier's users (whom the order is told to) with their languages.
    served = select(ListingRegion.listing_id).where(
        ListingRegion.listing_id == Listing.id,
        ListingRegion.region_code.in_(select(region_chain(region).c.code))).exists()
    users = select(func.aggregate_strings(cast(User.id, String) + ":" + func.coalesce(User.language, ""), ",")).where(
        User.organisation_id == Listing.supplier_id, User.role == Role.SUPPLIER, User.status == "active") \
        .scalar_subquery()
    listings, references, supplier_users = {}, {}, {}
    for listing, reference, delivers, user_ids in db.session.execute(
            select(Listing, lowest_reference_price(limits["mall.reference_valid_days"], now), served, users)
            .where(Listing.id.in_(quantities))):
        if listing.status != "approved" and auction is None:
            raise DomainError("listing_unavailable", _("A product in the order is not on sale now."), 409)
        if not delivers:
            raise DomainError("region_not_served", _("%(name)s is not delivered to that region.", name=listing.name))
        listings[listing.id], references[listing.id] = listing, reference
        pairs = (pair.split(":") for pair in (user_ids or "").split(",") if pair)
        supplier_users[listing.supplier_id] = {int(user_id): language or None for user_id, language in pairs}
    if len(listings) != len(quantities):
        raise DomainError("listing_unavailable", _("A product in the order is not on sale now."), 409)

    # Build the orders, one per supplier.
    by_supplier = defaultdict(list)
    for listing_id in sorted(quantities):
        by_supplier[listings[listing_id].supplier_id].append(listings[listing_id])
    limit = limits["mall.direct_purchase_limit"]
    confirm_by = now + timedelta(hours=limits["mall.confirm_hours"])
    orders = []
    for supplier_id, supplier_listings in sorted(by_supplier.items()):
        order = Order(number=uuid.uuid4().hex, unit_id=actor.organisation_id, supplier_id=supplier_id,
                      placed_by_id=actor.id, budget_line_id=line.id, auction_id=auction.id if auction else None,
                      status="placed", fiscal_year=year, delivery_region=region, delivery_address=address,
                      placed_at=now, confirm_by=confirm_by, cancel_reason="", invoice_number="",
                      payment_reference="", shipping_note="")
        reference_total, total = Decimal("0"), Decimal("0")
        for listing in supplier_listings:
            quantity = quantities[listing.id]
            price = (unit_prices or {}).get(listing.id, listing.price)
            reference = references[listing.id]
            ref_price = reference if reference is not None else price
            amount = (price * quantity).quantize(money.CENT)
            order.lines.append(OrderLine(listing_id=listing.id, category=listing.category, name=listing.name,
                                         brand=listing.brand, model=listing.model, unit=listing.unit,
                                         quantity=quantity, unit_price=price, amount=amount,
                                         reference_price=reference,
                                         rejected=False, reject_reason=""))
            total += amount
            reference_total += (ref_price * quantity).quantize(money.CENT)
        if auction is None and total > limit:
            raise DomainError("direct_limit_exceeded",
                              _("The order from one supplier comes to %(total)s, above the direct-purchase limit of "
                                "%(limit)s. Publish a reverse auction instead.", total=money.format_exact(total),
                                limit=money.format_exact(limit)), 409)
        order.total, order.reserved = total, total
        order.reference_total, order.savings = reference_total, reference_total - total
        orders.append(order)

    for order in orders:
        db.session.add(order)
    db.session.flush()
    for order in orders:
        order.number = f"MO{clock.local(now):%Y%m%d}{order.id:07d}"
        journal.record("mall.order.placed", "mall_order", order.id,
                       {"number": order.number, "supplier": order.supplier_id, "budget_line": line.id,
                        "total": money.to_json(order.total), "auction": order.auction_id,
                        "lines": [{"listing": l.listing_id, "quantity": l.quantity,
                                   "unit_price": money.to_json(l.unit_price)} for l in order.lines]},
                       actor=actor, now=now)
        link = f"/mall/orders/{order.id}"
        if supplier_users[order.supplier_id]:
            notifications.notify(supplier_users[order.supplier_id], "mall_order_placed",
                                 _l("New mall order %(number)s: confirm it by %(deadline)s.", number=order.number,
                                   deadline=f"{clock.local(order.confirm_by):%Y-%m-%d %H:%M}"), "", link, now)
            notifications.schedule_deadline_warning(
                f"mall-order:{order.id}:confirm", supplier_users[order.supplier_id],
                _l("Mall order %(number)s must be confirmed by %(deadline)s or it is cancelled.", number=order.number,
                  deadline=f"{clock.local(order.confirm_by):%Y-%m-%d %H:%M}"), "", link, order.confirm_by, now,
                fresh=True)
    # Last, take what is needed, so that the rows every buyer contends for stay locked only from here to the
    # commit; always in the same order: listings by id, counters by category, the budget line.
    for listing_id in sorted(quantities):
        _take_stock(listings[listing_id], quantities[listing_id])
    if auction is None:
        per_category = defaultdict(Decimal)
        for order in orders:
            for category, amount in _by_category(order.lines).items():
                per_category[category] += amount
        for category in sorted(per_category):
            _count_direct(actor.organisation_id, year, category, per_category[category], limit)
    budget.reserve(line.id, sum((o.total for o in orders), Decimal("0")))
    db.session.flush()
    return orders


def place_from_cart(actor, *, budget_line_id, delivery_region, delivery_address, now: datetime) -> list[Order]:
    items = cart_of(actor)
    orders = place(actor, [(i.listing_id, i.quantity) for i in items], budget_line_id=budget_line_id,
                   delivery_region=delivery_region, delivery_address=delivery_address, now=now)
    clear_cart(actor)
    return orders


# The lifecycle.

def _require_party(actor, order: Order, party: str) -> None:
    if order.party(actor) != party:
        raise DomainError("not_your_part", _("Only the supplier does this.") if party == "supplier"
                          else _("Only the procuring unit does this."), 403)


def _move(actor, order: Order, action: str, now: datetime, payload: dict | None = None) -> None:
    before = order.status
    states.advance(states.ORDER, order, action, "order")
    journal.record(f"mall.order.{action}", "mall_order", order.id, {"from": before, "status": order.status, **(payload or {})},
                   actor=actor, now=now, organisation_id=actor.organisation_id if actor else order.supplier_id)


def _tell(order: Order, party: str, title, body, now: datetime) -> None:
    ids = misconduct.org_recipients(*((order.unit_id, Role.PROCURING) if party == "unit"
                                      else (order.supplier_id, Role.SUPPLIER)))
    if ids:
        notifications.notify(ids, "mall_order", title, body, f"/mall/orders/{order.id}", now)


def _undo(order: Order) -> None:
    """A cancelled order gives back its stock, its budget and its count against the direct limit."""
    for line in order.lines:
        _return_stock(line.listing_id, line.quantity)
    _uncount_direct(order, _by_category(order.lines))
    budget.release(order.budget_line_id, order.reserved)
    order.reserved = Decimal("0")


def confirm(actor, order: Order, now: datetime) -> Order:
    _require_party(actor, order, "supplier")
    _move(actor, order, "confirm", now)
    order.confirmed_at = now
    notifications.cancel_deadline_warning(f"mall-order:{order.id}:confirm", now)
    _tell(order, "unit", _l("Mall order %(number)s is confirmed by the supplier.", number=order.number), "", now)
    db.session.flush()
    return order


def _reason(reason: str, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError("reason_required", _("Give the reason; the other party is told it."))
    if len(reason) > 500:
        raise DomainError("reason_too_long", _("A reason has at most 500 characters."))
    return reason


def decline(actor, order: Order, reason: str, now: datetime) -> Order:
    _require_party(actor, order, "supplier")
    reason = _reason(reason)
    _move(actor, order, "decline", now, {"reason": reason, "released": money.to_json(order.reserved)})
    order.cancelled_at, order.cancel_reason = now, reason
    _undo(order)
    notifications.cancel_deadline_warning(f"mall-order:{order.id}:confirm", now)
    misconduct.record(order.supplier_id, "declined_order", f"order:{order.id}", order.number, now, actor=actor)
    _tell(order, "unit", _l("The supplier declined mall order %(number)s; its budget is released.", number=order.number),
          _l("Reason: %(reason)s", reason=reason), now)
    db.session.flush()
    return order


def cancel(actor, order: Order, reason: str, now: datetime, system: bool = False) -> Order:
    """The unit cancels before shipping (or the year-end carry-over does, with ``system``)."""
    if not system:
        _require_party(actor, order, "unit")
    reason = _reason(reason)
    _move(None if system else actor, order, "cancel", now, {"reason": reason, "released": money.to_json(order.reserved)})
    order.cancelled_at, order.cancel_reason = now, reason
    _undo(order)
    notifications.cancel_deadline_warning(f"mall-order:{order.id}:confirm", now)
    _tell(order, "supplier", _l("Mall order %(number)s was cancelled.", number=order.number),
          _l("Reason: %(reason)s", reason=reason), now)
    db.session.flush()
    return order


def expire(order: Order, now: datetime) -> Order:
    """Not confirmed in time: cancelled automatically, its budget released, a misconduct point recorded."""
    if order.confirm_by > now:
        raise DomainError("not_overdue", _("The supplier still has time to confirm this order."), 409)
    released = order.reserved
    _move(None, order, "expire", now, {"released": money.to_json(released)})
    order.cancelled_at = now
    order.cancel_reason = _("Not confirmed by the supplier within the time allowed.")
    _undo(order)
    misconduct.record(order.supplier_id, "late_confirmation", f"order:{order.id}", order.number, now)
    _tell(order, "unit", _l("Mall order %(number)s was cancelled: the supplier did not confirm it in time.",
                           number=order.number),
          _l("%(amount)s is back on your budget line.", amount=money.format_exact(released)), now)
    _tell(order, "supplier", _l("Mall order %(number)s was cancelled: you did not confirm it in time.",
                               number=order.number), "", now)
    db.session.flush()
    return order


def overdue_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(select(Order.id).where(Order.status == "placed", Order.confirm_by <= now)
                                   .order_by(Order.confirm_by).limit(limit)))


def expire_overdue(now: datetime) -> list[int]:
    """The beat task: every order past its confirmation deadline (on PostgreSQL a row locked by a
    concurrent confirmation is skipped; the next tick sees how that ended)."""
    done = []
    for order_id in overdue_ids(now):
        stmt = select(Order).where(Order.id == order_id, Order.status == "placed").with_for_update(skip_locked=True)
        order = db.session.scalar(stmt.execution_options(populate_existing=True))
        if order is not None:
            expire(order, now)
            done.append(order.id)
    return done


def ship(actor, order: Order, note: str, now: datetime) -> Order:
    _require_party(actor, order, "supplier")
    note = _reason(note, required=False)[:300]
    _move(actor, order, "ship", now, {"note": note})
    order.shipped_at, order.shipping_note = now, note
    _tell(order, "unit", _l("Mall order %(number)s has been shipped.", number=order.number), note, now)
    db.session.flush()
    return order


def receive(actor, order: Order, now: datetime) -> Order:
    _require_party(actor, order, "unit")
    _move(actor, order, "receive", now)
    order.received_at = now
    db.session.flush()
    return order


def _recompute_savings(order: Order) -> None:
    kept = [l for l in order.lines if not l.rejected]
    order.reference_total = sum(((l.reference_price or l.unit_price) * l.quantity).quantize(money.CENT)
                                for l in kept) if kept else Decimal("0")
    order.savings = order.reference_total - sum((l.amount for l in kept), Decimal("0"))


def accept(actor, order: Order, rejected: dict[int, str], now: datetime) -> Order:
    """验收: ``rejected`` maps line ids to reasons; their amount goes back to the budget line."""
    _require_party(actor, order, "unit")
    line_ids = {l.id for l in order.lines}
    if set(rejected) - line_ids:
        raise DomainError("line_unknown", _("A rejected line is not a line of this order."))
    reasons = {line_id: _reason(reason) for line_id, reason in rejected.items()}
    if set(reasons) == line_ids:
        raise DomainError("all_lines_rejected", _("Every line is rejected: return the whole delivery instead."))
    released = Decimal("0")
    for line in order.lines:
        if line.id in reasons:
            line.rejected, line.reject_reason = True, reasons[line.id]
            released += line.amount
    _move(actor, order, "accept", now, {"rejected": {str(k): v for k, v in sorted(reasons.items())},
                                        "released": money.to_json(released)})
    order.accepted_at = now
    order.accepted_total = order.total - released
    if released:
        budget.release(order.budget_line_id, released)
        order.reserved -= released
        _uncount_direct(order, _by_category([l for l in order.lines if l.rejected]))
        misconduct.record(order.supplier_id, "rejected_delivery", f"order:{order.id}",
                          ", ".join(l.name for l in order.lines if l.rejected)[:500], now, actor=actor)
        _tell(order, "supplier", _l("Lines of mall order %(number)s were rejected at acceptance.", number=order.number),
              "; ".join(f"{l.name}: {l.reject_reason}" for l in order.lines if l.rejected), now)
    _recompute_savings(order)
    db.session.flush()
    return order


def return_all(actor, order: Order, reason: str, now: datetime) -> Order:
    _require_party(actor, order, "unit")
    reason = _reason(reason)
    for line in order.lines:
        line.rejected, line.reject_reason = True, reason
    _move(actor, order, "return", now, {"reason": reason, "released": money.to_json(order.reserved)})
    order.accepted_total = Decimal("0")
    budget.release(order.budget_line_id, order.reserved)
    order.reserved = Decimal("0")
    _uncount_direct(order, _by_category(order.lines))
    _recompute_savings(order)
    misconduct.record(order.supplier_id, "rejected_delivery", f"order:{order.id}", reason, now, actor=actor)
    _tell(order, "supplier", _l("Mall order %(number)s was returned whole.", number=order.number), reason, now)
    db.session.flush()
    return order


def dispute(actor, order: Order, reason: str, now: datetime) -> Dispute:
    if order.party(actor) is None:
        raise DomainError("not_your_part", _("Only the parties of the order raise a dispute."), 403)
    reason = _reason(reason)
    _move(actor, order, "dispute", now, {"reason": reason})
    row = Dispute(order_id=order.id, raised_by_id=actor.id, reason=reason, raised_at=now, resolution="")
    db.session.add(row)
    db.session.flush()
    centre = misconduct.centre_user_ids()
    if centre:
        notifications.notify(centre, "mall_dispute", _l("Dispute on mall order %(number)s", number=order.number),
                             reason, f"/mall/orders/{order.id}", now)
    _tell(order, "supplier" if order.party(actor) == "unit" else "unit",
          _l("Dispute on mall order %(number)s", number=order.number), reason, now)
    return row


def resolve(actor, order: Order, resolution: str, now: datetime) -> Order:
    if actor.role != Role.CENTRE:
        raise DomainError("not_centre", _("The trading centre resolves disputes."), 403)
    resolution = _reason(resolution)
    _move(actor, order, "resolve", now, {"resolution": resolution})
    row = next((d for d in reversed(order.disputes) if d.resolved_at is None), None)
    if row is not None:
        row.resolution, row.resolved_by_id, row.resolved_at = resolution, actor.id, now
    for party in ("unit", "supplier"):
        _tell(order, party, _l("The dispute on mall order %(number)s is resolved.", number=order.number), resolution, now)
    db.session.flush()
    return order


def invoice(actor, order: Order, invoice_number: str, now: datetime) -> Order:
    _require_party(actor, order, "supplier")
    number = (invoice_number or "").strip()
    if not number or len(number) > 60:
        raise DomainError("invoice_invalid", _("Give the invoice number (at most 60 characters)."))
    if order.status != "accepted":
        raise DomainError("order_transition_refused", _("An order is invoiced once it is accepted."), 409)
    order.invoice_number, order.invoiced_at = number, now
    journal.record("mall.order.invoiced", "mall_order", order.id, {"invoice_number": number,
                                                                   "amount": money.to_json(order.accepted_total)},
                   actor=actor, now=now)
    _tell(order, "unit", _l("Invoice %(invoice)s for mall order %(number)s.", invoice=number, number=order.number), "", now)
    db.session.flush()
    return order


def settle(actor, order: Order, payment_reference: str, now: datetime) -> Order:
    """The unit records the payment against the supplier's invoice: the budget is consumed."""
    _require_party(actor, order, "unit")
    reference = (payment_reference or "").strip()
    if not reference or len(reference) > 100:
        raise DomainError("payment_invalid", _("Give the payment record's reference (at most 100 characters)."))
    if order.status == "accepted" and not order.invoice_number:
        raise DomainError("invoice_missing", _("The supplier has not entered the invoice number yet."), 409)
    _move(actor, order, "settle", now, {"payment_reference": reference, "invoice_number": order.invoice_number,
                                        "amount": money.to_json(order.accepted_total or 0)})
    budget.consume(order.budget_line_id, order.reserved, order.accepted_total)
    order.reserved = Decimal("0")
    order.payment_reference, order.paid_amount, order.settled_at = reference, order.accepted_total, now
    _tell(order, "supplier", _l("Mall order %(number)s is settled: payment %(reference)s.", number=order.number,
                               reference=reference), "", now)
    db.session.flush()
    return order


def rate(actor, order: Order, score: str, comment: str, now: datetime) -> Rating:
    party = order.party(actor)
    if party is None:
        raise DomainError("not_your_part", _("Only the parties of the order rate it."), 403)
    if score not in SCORES:
        raise DomainError("score_invalid", _("Rate good, neutral or poor."))
    comment = _reason(comment, required=score == "poor")
    if order.status in ("settled", "half_rated") and order.rating_by(party) is not None:
        raise DomainError("already_rated", _("You have rated this order already."), 409)
    _move(actor, order, "rate", now, {"by": party, "score": score, "comment": comment})
    row = Rating(order_id=order.id, by_party=party, score=score, comment=comment, rated_by_id=actor.id, rated_at=now)
    order.ratings.append(row)
    db.session.flush()
    return row


def orders_for(user, status: str | None = None, limit: int = 200) -> list[Order]:
    stmt = select(Order).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if user.role == Role.PROCURING:
        stmt = stmt.where(Order.unit_id == user.organisation_id)
    elif user.role == Role.SUPPLIER:
        stmt = stmt.where(Order.supplier_id == user.organisation_id)
    elif user.role not in (Role.CENTRE, Role.SUPERVISOR):
        return []
    if status:
        stmt = stmt.where(Order.status == status)
    return list(db.session.scalars(stmt))


def savings_summary(unit_id: int | None = None) -> dict:
    """Mall savings for the statistics: the lowest market references minus the prices paid."""
    from sqlalchemy import func
    stmt = select(func.count(Order.id), func.coalesce(func.sum(Order.reference_total), 0),
                  func.coalesce(func.sum(Order.paid_amount), 0), func.coalesce(func.sum(Order.savings), 0)) \
        .where(Order.status.in_(("settled", "half_rated", "rated")))
    if unit_id:
        stmt = stmt.where(Order.unit_id == unit_id)
    count, reference, paid, saved = db.session.execute(stmt).one()
    return {"orders": count, "reference_total": Decimal(reference), "paid_total": Decimal(paid),
            "savings": Decimal(saved)}
