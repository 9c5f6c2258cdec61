"""64 buyers racing on PostgreSQL, each with a connection of its own, for the last units of a listing and the
last of a budget line: nothing is oversold, nothing overdrawn, and every refusal says why."""
import threading
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts.models import User
from core import clock
from core.errors import DomainError
from core.extensions import db
from mall import budget, orders
from mall.models import BudgetLine, Listing, Order
from tests.conftest import require_service

BUYERS = 64


@pytest.mark.services
@pytest.mark.parametrize("stock, orders_the_budget_covers", [(10, 100), (100, 7), (10, 7)])
def test_racing_buyers_neither_oversell_nor_overdraw(app, mall, stock, orders_the_budget_covers):
    require_service("PostgreSQL", db.engine.dialect.name == "postgresql", "set TEST_DATABASE_URL")
    listing = mall.new_listing(price="100.00", reference="120.00", stock=stock)
    line = budget.create_line(mall["procuring"], fiscal_year_=budget.fiscal_year(clock.now()), code="RACE",
                              name="竞争测试", amount=str(Decimal("100.00") * orders_the_budget_covers + Decimal("50")),
                              now=clock.now())
    buyer_id, listing_id, line_id = mall["procuring"].id, listing.id, line.id
    db.session.commit()

    start = threading.Barrier(BUYERS)
    outcomes, lock = [], threading.Lock()

    def buy():
        with app.app_context():
            actor = db.session.get(User, buyer_id)
            db.session.commit()
            start.wait()
            try:
                orders.place(actor, [(listing_id, 1)], budget_line_id=line_id, delivery_region="320102",
                             delivery_address="南京市", now=clock.now())
                db.session.commit()
                result = ("placed", "")
            except DomainError as refusal:
                db.session.rollback()
                result = (refusal.code, refusal.message)
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    expected = min(stock, orders_the_budget_covers)
    codes = Counter(code for code, _message in outcomes)
    assert len(outcomes) == BUYERS
    assert codes["placed"] == expected, codes
    refusals = [(code, message) for code, message in outcomes if code != "placed"]
    assert {code for code, _ in refusals} <= {"out_of_stock", "budget_insufficient"}, codes
    assert all(message.strip() for _code, message in refusals)  # every refusal says why
    db.session.expire_all()
    assert db.session.get(Listing, listing_id).stock == stock - expected
    line = db.session.get(BudgetLine, line_id)
    assert line.reserved == Decimal("100.00") * expected <= line.amount
    assert len(db.session.scalars(select(Order).where(Order.budget_line_id == line_id)).all()) == expected
