"""The government online mall: listings and their market reference prices, budget lines, carts, orders,
reverse auctions, ratings, disputes and supplier misconduct.

Search: ``Listing.search_text`` holds the listing's words as tokens (Chinese as overlapping character
bigrams plus single characters, Latin as whole lower-case words; mall/search.py). Migration 0007 indexes
it as a generated ``tsvector`` column with a GIN index on PostgreSQL, and as an FTS5 table kept in step by
triggers on SQLite; neither is mapped here, since only the search queries read them.
"""
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Organisation
from core.db import Money, UTCDateTime
from core.extensions import db
from core.permissions import Role
from mall import schema_hooks  # noqa: F401  (autogenerate leaves migration 0007's search objects alone)

# Categories of the mall catalogue (the direct-purchase limit counts per unit, category and year).
CATEGORIES = {
    "office_supplies": _l("Office supplies"),
    "computers": _l("Computers and peripherals"),
    "furniture": _l("Office furniture"),
    "appliances": _l("Electrical appliances"),
    "consumables": _l("Printing consumables"),
    "cleaning": _l("Cleaning and daily necessities"),
}

CROSS_ORGANISATION_ROLES = (Role.CENTRE, Role.SUPERVISOR)


def product_key(brand: str, model: str) -> str:
    """Market references belong to a product (brand + model), whoever lists it."""
    return f"{' '.join(brand.split()).lower()}|{' '.join(model.split()).lower()}"


class Listing(db.Model):
    __tablename__ = "mall_listing"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),
                      CheckConstraint("price > 0", name="price_positive"),
                      Index("ix_mall_listing_status_category_price", "status", "category", "price"),
                      # The catalogue's two orders among what is on sale, walked (backwards too) when the
                      # words searched are common (mall.search): no sort of every match.
                      Index("ix_mall_listing_approved_recent", "updated_at", "id",
                            postgresql_where=text("status = 'approved'"), sqlite_where=text("status = 'approved'")),
                      Index("ix_mall_listing_approved_price", "price", "id",
                            postgresql_where=text("status = 'approved'"), sqlite_where=text("status = 'approved'")))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    product_key: Mapped[str] = mapped_column(String(202), index=True)
    specifications: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(Money())
    stock: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    status_reason: Mapped[str] = mapped_column(String(500), default="")

    supplier: Mapped[Organisation] = relationship()
    regions: Mapped[list["ListingRegion"]] = relationship(cascade="all, delete-orphan", order_by="ListingRegion.region_code")
    pictures: Mapped[list["ListingPicture"]] = relationship(cascade="all, delete-orphan", order_by="ListingPicture.id")

    @property
    def region_codes(self) -> list[str]:
        return [r.region_code for r in self.regions]

    @property
    def orderable(self) -> bool:
        return self.status == "approved" and self.stock > 0

    def can_view(self, user) -> bool:
        """Approved listings are the catalogue (units and suppliers); the rest only for their supplier, the centre
        and supervisors."""
        return (self.status == "approved" and user.role in (Role.PROCURING, Role.SUPPLIER)) \
            or user.role in CROSS_ORGANISATION_ROLES or user.organisation_id == self.supplier_id

    def can_manage(self, user) -> bool:
        return user.role == Role.SUPPLIER and user.organisation_id == self.supplier_id


class ListingRegion(db.Model):
    """A region (行政区划代码) the listing delivers to; a province or city covers what lies inside it."""

    __tablename__ = "mall_listing_region"
    listing_id: Mapped[int] = mapped_column(ForeignKey("mall_listing.id", ondelete="CASCADE"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True, index=True)


class ListingPicture(db.Model):
    __tablename__ = "mall_listing_picture"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("mall_listing.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # core.storage
    content_type: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))


class MarketPrice(db.Model):
    """A market reference price of a product (brand + model) at a large e-commerce self-operated store."""

    __tablename__ = "mall_market_price"
    __table_args__ = (Index("ix_mall_market_price_product_captured", "product_key", "captured_at"),
                      CheckConstraint("price > 0", name="price_positive"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_key: Mapped[str] = mapped_column(String(202))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500), default="")
    price: Mapped[Decimal] = mapped_column(Money())
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BudgetLine(db.Model):
    """A procuring unit's budget for a fiscal year: an order reserves, cancellation releases, settlement
    consumes. The CHECK and the guarded UPDATEs of mall/budget.py keep it from being overdrawn."""

    __tablename__ = "mall_budget_line"
    __table_args__ = (UniqueConstraint("unit_id", "fiscal_year", "code"),
                      CheckConstraint("reserved >= 0 AND consumed >= 0 AND reserved + consumed <= amount",
                                      name="not_overdrawn"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    reserved: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    consumed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    unit: Mapped[Organisation] = relationship()

    @property
    def available(self) -> Decimal:
        return self.amount - self.reserved - self.consumed

    def can_view(self, user) -> bool:
        return user.role in CROSS_ORGANISATION_ROLES or user.organisation_id == self.unit_id

    def can_manage(self, user) -> bool:
        return user.role == Role.PROCURING and user.organisation_id == self.unit_id


class DirectSpend(db.Model):
    """What a unit has bought directly in a category in a fiscal year, counted against the limit by a
    guarded UPDATE, so that concurrent orders cannot both slip under it."""

    __tablename__ = "mall_direct_spend"
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))


class CartItem(db.Model):
    __tablename__ = "mall_cart_item"
    __table_args__ = (UniqueConstraint("user_id", "listing_id"), CheckConstraint("quantity > 0", name="quantity_positive"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("mall_listing.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    listing: Mapped[Listing] = relationship()


class Order(db.Model):
    __tablename__ = "mall_order"
    __table_args__ = (CheckConstraint("reserved >= 0", name="reserved_not_negative"),
                      Index("ix_mall_order_status_confirm_by", "status", "confirm_by"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("mall_budget_line.id"), index=True)
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("mall_auction.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money())
    reserved: Mapped[Decimal] = mapped_column(Money())  # what the order holds on its budget line now
    accepted_total: Mapped[Decimal | None] = mapped_column(Money())
    reference_total: Mapped[Decimal | None] = mapped_column(Money())  # lowest market references × quantities
    savings: Mapped[Decimal | None] = mapped_column(Money())
    delivery_region: Mapped[str] = mapped_column(String(6))
    delivery_address: Mapped[str] = mapped_column(String(300))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    confirm_by: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipping_note: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invoice_number: Mapped[str] = mapped_column(String(60), default="")
    invoiced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_reference: Mapped[str] = mapped_column(String(100), default="")
    paid_amount: Mapped[Decimal | None] = mapped_column(Money())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")

    unit: Mapped[Organisation] = relationship(foreign_keys=[unit_id])
    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_id])
    budget_line: Mapped[BudgetLine] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                     order_by="OrderLine.id")
    ratings: Mapped[list["Rating"]] = relationship(cascade="all, delete-orphan", order_by="Rating.id")
    disputes: Mapped[list["Dispute"]] = relationship(cascade="all, delete-orphan", order_by="Dispute.id")

    def party(self, user) -> str | None:
        if user.organisation_id == self.unit_id and user.role == Role.PROCURING:
            return "unit"
        if user.organisation_id == self.supplier_id and user.role == Role.SUPPLIER:
            return "supplier"
        return None

    def can_view(self, user) -> bool:
        return user.role in CROSS_ORGANISATION_ROLES or self.party(user) is not None

    def can_manage(self, user) -> bool:
        return self.party(user) is not None or user.role == Role.CENTRE

    def rating_by(self, party: str):
        return next((r for r in self.ratings if r.by_party == party), None)


class OrderLine(db.Model):
    __tablename__ = "mall_order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("mall_order.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("mall_listing.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    reference_price: Mapped[Decimal | None] = mapped_column(Money())
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reason: Mapped[str] = mapped_column(String(500), default="")

    order: Mapped[Order] = relationship(back_populates="lines")


class Rating(db.Model):
    """好差评: each party rates the other once the order is settled."""

    __tablename__ = "mall_rating"
    __table_args__ = (UniqueConstraint("order_id", "by_party"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("mall_order.id", ondelete="CASCADE"))
    by_party: Mapped[str] = mapped_column(String(10))  # unit or supplier
    score: Mapped[str] = mapped_column(String(10))  # good, neutral, poor
    comment: Mapped[str] = mapped_column(String(500), default="")
    rated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Dispute(db.Model):
    __tablename__ = "mall_dispute"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("mall_order.id", ondelete="CASCADE"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(String(1000))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution: Mapped[str] = mapped_column(String(1000), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Auction(db.Model):
    """竞价: a requirement above the direct-purchase limit; listing suppliers quote within the window."""

    __tablename__ = "mall_auction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("mall_budget_line.id"))
    category: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    requirement: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    ceiling: Mapped[Decimal] = mapped_column(Money())  # the most the unit will pay in all: reserved meanwhile
    reserved: Mapped[Decimal] = mapped_column(Money())
    delivery_region: Mapped[str] = mapped_column(String(6))
    delivery_address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(500), default="")
    order_id: Mapped[int | None] = mapped_column(Integer)

    unit: Mapped[Organisation] = relationship()
    budget_line: Mapped[BudgetLine] = relationship()
    quotes: Mapped[list["Quote"]] = relationship(back_populates="auction", cascade="all, delete-orphan",
                                                 order_by="Quote.total")

    def can_view(self, user) -> bool:
        """Open auctions are visible to every supplier (they may quote); the rest to the unit and centre."""
        return user.role in CROSS_ORGANISATION_ROLES or user.role == Role.SUPPLIER \
            or (user.role == Role.PROCURING and user.organisation_id == self.unit_id)

    def can_manage(self, user) -> bool:
        return user.role == Role.PROCURING and user.organisation_id == self.unit_id


class Quote(db.Model):
    __tablename__ = "mall_auction_quote"
    __table_args__ = (UniqueConstraint("auction_id", "supplier_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("mall_auction.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("mall_listing.id"))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    auction: Mapped[Auction] = relationship(back_populates="quotes")
    supplier: Mapped[Organisation] = relationship()
    listing: Mapped[Listing] = relationship()


class Misconduct(db.Model):
    """Points against a supplier; past the threshold its listings are suspended."""

    __tablename__ = "mall_misconduct"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(60))  # e.g. "order:17", "listing:3"
    detail: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Suspension(db.Model):
    """A supplier suspended from the mall (misconduct points past the threshold) until the centre lifts it."""

    __tablename__ = "mall_suspension"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lift_reason: Mapped[str] = mapped_column(String(500), default="")

