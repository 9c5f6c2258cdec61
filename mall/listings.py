"""Listings and market reference prices.

A listing's agreement price may not be above the lowest *current* market reference of its product
(brand + model; references older than ``mall.reference_valid_days`` are not current) plus the tolerance
setting: such a listing is refused at entry, and the periodic re-check freezes an approved listing that
has become so and tells the supplier why. The centre approves or refuses listings and reads the
price-monitoring report.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from accounts.models import Region
from core import journal, money, notifications, settings, storage
from core.clock import SHANGHAI
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall import misconduct, search, states
from mall.budget import read_csv
from mall.models import CATEGORIES, Listing, ListingPicture, ListingRegion, MarketPrice, product_key

MAX_PICTURES = 5
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PICTURE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
PRICE_CSV_COLUMNS = ("brand", "model", "source", "price", "captured_at")
MAX_PRICE_ROWS = 20000
MAX_STOCK = 10_000_000


# Market reference prices.

def _current(key, valid_days: int, now: datetime):
    """The conditions of a product's current references (``key`` a value or a correlated column)."""
    return (MarketPrice.product_key == key, MarketPrice.captured_at >= now - timedelta(days=valid_days),
            MarketPrice.captured_at <= now)


def lowest_reference(key: str, now: datetime) -> MarketPrice | None:
    """The lowest current reference of a product (cheapest, then the most recent)."""
    valid_days = settings.value("mall.reference_valid_days", now)
    return db.session.scalar(select(MarketPrice).where(*_current(key, valid_days, now))
                             .order_by(MarketPrice.price, MarketPrice.captured_at.desc()).limit(1))


def lowest_reference_price(valid_days: int, now: datetime):
    """The lowest current reference price of each listing's product, as a column to select with listings
    (None where there is none)."""
    return select(func.min(MarketPrice.price)).where(*_current(Listing.product_key, valid_days, now)) \
        .correlate(Listing).scalar_subquery()


def ceiling(reference: Decimal, now: datetime) -> Decimal:
    tolerance = settings.value("mall.price_tolerance_percent", now)
    return (reference * (1 + tolerance / 100)).quantize(money.CENT, rounding=ROUND_DOWN)


def check_price(key: str, price: Decimal, now: datetime) -> MarketPrice:
    reference = lowest_reference(key, now)
    if reference is None:
        raise DomainError("reference_missing",
                          _("Enter at least one current market reference price for this brand and model first."))
    if price > ceiling(reference.price, now):
        raise DomainError("price_above_reference",
                          _("The agreement price %(price)s is above the lowest market reference %(reference)s "
                            "(%(source)s): lower it.", price=money.format_exact(price),
                            reference=money.format_exact(reference.price), source=reference.source))
    return reference


def _check_entrant(actor) -> None:
    if actor.role not in (Role.SUPPLIER, Role.CENTRE):
        raise DomainError("not_allowed", _("Only suppliers and the centre enter market reference prices."), 403)


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        raw = str(value or "").strip().replace("/", "-")
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise DomainError("captured_at_invalid",
                              _("Give the time captured as 2026-05-01 or 2026-05-01 14:30 (Beijing time).")) from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def add_market_price(actor, *, brand, model, source, price, captured_at, url="", now: datetime) -> MarketPrice:
    _check_entrant(actor)
    brand, model = " ".join(str(brand or "").split()), " ".join(str(model or "").split())
    source, url = str(source or "").strip(), str(url or "").strip()
    if not brand or not model or len(brand) > 100 or len(model) > 100:
        raise DomainError("product_invalid", _("Give the brand and model (at most 100 characters each)."))
    if not source or len(source) > 100:
        raise DomainError("source_invalid", _("Name the store the price comes from (at most 100 characters)."))
    if len(url) > 500 or (url and not url.startswith(("https://", "http://"))):
        raise DomainError("url_invalid", _("The link must be a web address starting with https://."))
    price = money.parse(price)
    if price <= 0 or price >= Decimal("1e12"):
        raise DomainError("amount_out_of_range", _("The price must be above zero."))
    captured = _parse_time(captured_at)
    if captured > now + timedelta(minutes=5):
        raise DomainError("captured_in_future", _("A price cannot be captured in the future."))
    if captured < now - timedelta(days=settings.value("mall.reference_valid_days", now)):
        raise DomainError("captured_too_old", _("This price is too old to count as a current reference."))
    row = MarketPrice(product_key=product_key(brand, model), brand=brand, model=model, source=source, url=url,
                      price=price, captured_at=captured, entered_by_id=actor.id, entered_at=now)
    db.session.add(row)
    db.session.flush()
    journal.record("mall.market_price.entered", "mall_market_price", row.id,
                   {"brand": brand, "model": model, "source": source, "price": money.to_json(price),
                    "captured_at": captured.isoformat()}, actor=actor, now=now)
    return row


def import_market_prices(actor, data: bytes | str, now: datetime) -> list[MarketPrice]:
    """All or nothing: a bad row refuses the file, and the refusal names every bad row."""
    from mall.budget import ImportRefused
    _check_entrant(actor)
    rows = read_csv(data, PRICE_CSV_COLUMNS, MAX_PRICE_ROWS)
    problems, made = [], []
    for line_number, row in rows:
        try:
            made.append(add_market_price(actor, brand=row["brand"], model=row["model"], source=row["source"],
                                         price=row["price"], captured_at=row["captured_at"], now=now))
        except DomainError as error:
            problems.append((line_number, error.message))
    if problems:
        raise ImportRefused(_("Nothing was imported: %(count)s rows are wrong.", count=len(problems)), problems)
    return made


def references_of(listing: Listing, now: datetime) -> list[MarketPrice]:
    since = now - timedelta(days=settings.value("mall.reference_valid_days", now))
    return list(db.session.scalars(select(MarketPrice).where(MarketPrice.product_key == listing.product_key,
                                                             MarketPrice.captured_at >= since)
                                   .order_by(MarketPrice.price, MarketPrice.captured_at.desc()).limit(20)))


# Listings.

@dataclass
class ListingData:
    category: str
    name: str
    brand: str
    model: str
    specifications: str
    unit: str
    price: object
    stock: object
    regions: list


def _validated(data: ListingData) -> dict:
    if data.category not in CATEGORIES:
        raise DomainError("category_unknown", _("Choose a category from the list."))
    fields = {"name": " ".join(str(data.name or "").split()), "brand": " ".join(str(data.brand or "").split()),
              "model": " ".join(str(data.model or "").split()), "unit": str(data.unit or "").strip(),
              "specifications": str(data.specifications or "").strip()}
    limits = {"name": 200, "brand": 100, "model": 100, "unit": 20}
    for key, limit in limits.items():
        if not fields[key] or len(fields[key]) > limit:
            raise DomainError(f"{key}_invalid", _("Fill in %(field)s (at most %(limit)s characters).",
                                                  field=key, limit=limit))
    if len(fields["specifications"]) > 5000:
        raise DomainError("specifications_invalid", _("Specifications have at most 5,000 characters."))
    price = money.parse(data.price)
    if price <= 0 or price >= Decimal("1e12"):
        raise DomainError("amount_out_of_range", _("The price must be above zero."))
    try:
        stock = int(str(data.stock).strip())
    except ValueError:
        raise DomainError("stock_invalid", _("Stock is a whole number.")) from None
    if not 0 <= stock <= MAX_STOCK:
        raise DomainError("stock_invalid", _("Stock is a whole number from 0 to 10,000,000."))
    codes = sorted({str(c).strip() for c in data.regions if str(c).strip()})
    if not codes:
        raise DomainError("regions_missing", _("Choose at least one delivery region."))
    if len(codes) > 100 or len(db.session.scalars(select(Region.code).where(Region.code.in_(codes))).all()) != len(codes):
        raise DomainError("region_unknown", _("Choose the delivery regions from the list."))
    return {**fields, "category": data.category, "price": price, "stock": stock, "regions": codes}


def _supplier_may_list(actor, now: datetime) -> None:
    if actor.role != Role.SUPPLIER:
        raise DomainError("not_supplier", _("Only suppliers list products."), 403)
    if misconduct.active_suspension(actor.organisation_id):
        raise DomainError("supplier_suspended",
                          _("Your organisation is suspended from the mall for misconduct; the centre reviews it."), 409)


def create(actor, data: ListingData, now: datetime) -> Listing:
    _supplier_may_list(actor, now)
    fields = _validated(data)
    key = product_key(fields["brand"], fields["model"])
    reference = check_price(key, fields["price"], now)
    codes = fields.pop("regions")
    listing = Listing(supplier_id=actor.organisation_id, product_key=key, status="submitted",
                      created_by_id=actor.id, created_at=now, updated_at=now, status_reason="", **fields)
    listing.regions = [ListingRegion(region_code=code) for code in codes]
    listing.search_text = search.index_text(listing)
    db.session.add(listing)
    db.session.flush()
    journal.record("mall.listing.submitted", "mall_listing", listing.id,
                   {"name": listing.name, "brand": listing.brand, "model": listing.model, "category": listing.category,
                    "price": money.to_json(listing.price), "stock": listing.stock, "regions": codes,
                    "reference": money.to_json(reference.price)}, actor=actor, now=now)
    centre = misconduct.centre_user_ids()
    if centre:
        notifications.notify(centre, "mall_listing_review", _l("A mall listing waits for review: %(name)s", name=listing.name),
                             "", f"/mall/listings/{listing.id}", now)
    return listing


def update(actor, listing: Listing, *, price=None, stock=None, now: datetime) -> Listing:
    """The supplier changes the price or stock. A frozen or refused listing with a price fixed goes back to
    the centre; any price is checked against the reference."""
    if listing.status in ("withdrawn", "suspended"):
        raise DomainError("listing_transition_refused", _("This listing cannot be changed: it is %(status)s.",
                                                          status=states.STATE_LABELS[listing.status]), 409)
    changes = {}
    if price is not None and str(price).strip() != "":
        new_price = money.parse(price)
        if new_price <= 0 or new_price >= Decimal("1e12"):
            raise DomainError("amount_out_of_range", _("The price must be above zero."))
        check_price(listing.product_key, new_price, now)
        if new_price != listing.price:
            listing.price = new_price
            changes["price"] = money.to_json(new_price)
    if stock is not None and str(stock).strip() != "":
        try:
            new_stock = int(str(stock).strip())
        except ValueError:
            raise DomainError("stock_invalid", _("Stock is a whole number.")) from None
        if not 0 <= new_stock <= MAX_STOCK:
            raise DomainError("stock_invalid", _("Stock is a whole number from 0 to 10,000,000."))
        if new_stock != listing.stock:
            listing.stock = new_stock
            changes["stock"] = new_stock
    if not changes:
        return listing
    listing.updated_at = now
    journal.record("mall.listing.changed", "mall_listing", listing.id, changes, actor=actor, now=now)
    if "price" in changes and listing.status in ("frozen", "refused"):
        states.advance(states.LISTING, listing, "resubmit", "listing")
        listing.status_reason = ""
        journal.record("mall.listing.resubmit", "mall_listing", listing.id, {"status": listing.status},
                       actor=actor, now=now)
    db.session.flush()
    return listing


def resubmit(actor, listing: Listing, now: datetime, price=None) -> Listing:
    """Back to the centre's review, at a new price if one is given (checked against the reference)."""
    if price is not None:
        listing.price = money.parse(price)
    check_price(listing.product_key, listing.price, now)
    states.advance(states.LISTING, listing, "resubmit", "listing")
    listing.status_reason, listing.updated_at = "", now
    journal.record("mall.listing.resubmit", "mall_listing", listing.id,
                   {"status": listing.status, "price": money.to_json(listing.price)}, actor=actor, now=now)
    db.session.flush()
    return listing


def decide(actor, listing: Listing, action: str, reason: str, now: datetime) -> Listing:
    """The centre approves (the price is checked again) or refuses (with a reason the supplier reads)."""
    if actor.role != Role.CENTRE:
        raise DomainError("not_centre", _("Only the trading centre reviews listings."), 403)
    if action not in ("approve", "refuse"):
        raise DomainError("action_unknown", _("Approve or refuse."), 400)
    reason = (reason or "").strip()
    if action == "refuse" and not reason:
        raise DomainError("reason_required", _("Give the reason; the supplier is told it."))
    if len(reason) > 500:
        raise DomainError("reason_too_long", _("A reason has at most 500 characters."))
    if action == "approve" and listing.status == "submitted":
        check_price(listing.product_key, listing.price, now)
    states.advance(states.LISTING, listing, action, "listing")
    listing.decided_at, listing.decided_by_id, listing.status_reason, listing.updated_at = now, actor.id, reason, now
    journal.record(f"mall.listing.{action}", "mall_listing", listing.id, {"status": listing.status, "reason": reason},
                   actor=actor, now=now, organisation_id=listing.supplier_id)
    db.session.flush()
    title = (_l("Your listing %(name)s is approved.", name=listing.name) if action == "approve"
             else _l("Your listing %(name)s was refused.", name=listing.name))
    notifications.notify(misconduct.supplier_recipients(listing.supplier_id), "mall_listing_decision", title,
                         _l("Reason: %(reason)s", reason=reason) if reason else "", f"/mall/listings/{listing.id}", now)
    return listing


def withdraw(actor, listing: Listing, now: datetime) -> Listing:
    states.advance(states.LISTING, listing, "withdraw", "listing")
    listing.updated_at = now
    journal.record("mall.listing.withdraw", "mall_listing", listing.id, {"status": listing.status}, actor=actor, now=now)
    db.session.flush()
    return listing


def freeze(listing: Listing, reference: MarketPrice, now: datetime) -> Listing:
    states.advance(states.LISTING, listing, "freeze", "listing")
    why = _l("The agreement price %(price)s is above the lowest current market reference %(reference)s (%(source)s, "
            "captured %(captured)s). Lower the price to put it back on sale.",
            price=money.format_exact(listing.price), reference=money.format_exact(reference.price),
            source=reference.source, captured=reference.captured_at.astimezone(SHANGHAI).strftime("%Y-%m-%d"))
    listing.status_reason, listing.updated_at = str(why)[:500], now
    journal.record("mall.listing.freeze", "mall_listing", listing.id,
                   {"status": listing.status, "price": money.to_json(listing.price),
                    "reference": money.to_json(reference.price), "reference_id": reference.id},
                   now=now, organisation_id=listing.supplier_id)
    db.session.flush()
    notifications.notify(misconduct.supplier_recipients(listing.supplier_id), "mall_listing_frozen",
                         _l("Your listing %(name)s is frozen: its price is above the market reference.", name=listing.name),
                         why, f"/mall/listings/{listing.id}", now)
    misconduct.record(listing.supplier_id, "price_above_reference", f"listing:{listing.id}", listing.name, now)
    return listing


def recheck_prices(now: datetime, batch: int = 1000) -> list[int]:
    """The periodic check: freeze every approved listing now above its lowest current reference (plus
    tolerance). One query finds them; returns the ids frozen."""
    since = now - timedelta(days=settings.value("mall.reference_valid_days", now))
    lowest = (select(MarketPrice.product_key, func.min(MarketPrice.price).label("low"))
              .where(MarketPrice.captured_at >= since, MarketPrice.captured_at <= now)
              .group_by(MarketPrice.product_key).subquery())
    tolerance = settings.value("mall.price_tolerance_percent", now)
    too_dear = db.session.scalars(
        select(Listing).join(lowest, lowest.c.product_key == Listing.product_key)
        .where(Listing.status == "approved", Listing.price > lowest.c.low * (1 + tolerance / 100))
        .order_by(Listing.id).limit(batch))
    frozen = []
    for listing in list(too_dear):
        reference = lowest_reference(listing.product_key, now)
        if reference is not None and listing.price > ceiling(reference.price, now):
            freeze(listing, reference, now)
            frozen.append(listing.id)
    return frozen


def price_report(now: datetime, limit: int = 500) -> list[dict]:
    """The centre's price monitoring: listings on sale or frozen, their lowest current reference and how
    far the price is from it; a listing with no current reference is shown as such."""
    rows = []
    listings = db.session.scalars(select(Listing).where(Listing.status.in_(("approved", "frozen", "submitted")))
                                  .order_by(Listing.status.desc(), Listing.id).limit(limit))
    for listing in listings:
        reference = lowest_reference(listing.product_key, now)
        gap = None
        if reference is not None:
            gap = ((listing.price - reference.price) / reference.price * 100).quantize(Decimal("0.1"))
        rows.append({"listing": listing, "reference": reference, "gap_percent": gap})
    return rows


def add_picture(actor, listing: Listing, data: bytes, filename: str, now: datetime) -> ListingPicture:
    if len(listing.pictures) >= MAX_PICTURES:
        raise DomainError("too_many_pictures", _("A listing has at most %(count)s pictures.", count=MAX_PICTURES))
    if not data or len(data) > MAX_PICTURE_BYTES:
        raise DomainError("picture_size", _("A picture is at most 2 MB."))
    content_type = next((t for magic, t in PICTURE_TYPES.items() if data.startswith(magic)), None)
    if content_type is None or (content_type == "image/webp" and data[8:12] != b"WEBP"):
        raise DomainError("picture_type", _("Upload a JPEG, PNG or WebP picture."))
    picture = ListingPicture(listing_id=listing.id, digest=storage.put(data), content_type=content_type,
                             filename=(filename or "picture")[:200])
    db.session.add(picture)
    db.session.flush()
    db.session.refresh(listing, ["pictures"])
    journal.record("mall.listing.picture_added", "mall_listing", listing.id,
                   {"sha256": picture.digest, "content_type": content_type}, actor=actor, now=now)
    return picture
