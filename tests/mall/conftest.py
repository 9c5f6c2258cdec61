"""Fixtures of the mall tests: the demo users with the mall's demo data (a second supplier, approved
listings of both suppliers with market references, budget lines of both procuring units)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.extensions import db
from core.models import JournalEntry
from mall import demo as mall_demo, listings
from mall.models import BudgetLine, Listing


class Mall:
    """The demo world of a test: users by username, and helpers to find and make things."""

    def __init__(self, users: dict):
        self.users = users

    def __getitem__(self, username: str):
        return self.users[username]

    def listing(self, brand: str) -> Listing:
        return db.session.scalar(select(Listing).where(Listing.brand == brand).order_by(Listing.id))

    def budget_line(self, username: str = "procuring") -> BudgetLine:
        user = self.users[username]
        return db.session.scalar(select(BudgetLine).where(BudgetLine.unit_id == user.organisation_id)
                                 .order_by(BudgetLine.id))

    def new_listing(self, username="supplier", *, brand="Acme", model="X1", price="100.00", reference="110.00",
                    stock=10, category="office_supplies", name="测试产品 办公椅", approve=True, regions=("320000",)):
        now = clock.now()
        supplier = self.users[username]
        if reference:
            listings.add_market_price(supplier, brand=brand, model=model, source="京东自营", price=reference,
                                      captured_at=now - timedelta(minutes=5), now=now)
        listing = listings.create(supplier, listings.ListingData(
            category=category, name=name, brand=brand, model=model, specifications="规格 spec", unit="件",
            price=price, stock=stock, regions=list(regions)), now)
        if approve:
            listings.decide(self.users["centre"], listing, "approve", "", now)
        db.session.flush()
        return listing


@pytest.fixture
def mall(demo):
    users = dict(demo)
    mall_demo.load(clock.now())
    db.session.commit()
    from accounts.models import User
    users["supplier2"] = db.session.scalar(select(User).where(User.username == "supplier2"))
    return Mall(users)


def journal_actions(subject_type: str, subject_id) -> list[str]:
    """The journal's actions about one subject, oldest first (after the commit that chains them)."""
    db.session.commit()
    return list(db.session.scalars(select(JournalEntry.action).where(JournalEntry.subject_type == subject_type,
                                                                     JournalEntry.subject_id == str(subject_id))
                                   .order_by(JournalEntry.seq)))


def money(value: str) -> Decimal:
    return Decimal(value)
