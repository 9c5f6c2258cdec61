"""The mall's lifecycles (mall/states.py), as DESIGN.md asks: every (state, action) pair of each table is
driven through its service and leaves its journal entry; every pair not in the table is refused with its
code and changes nothing."""
from datetime import timedelta

import pytest

from core import clock
from core.errors import DomainError
from core.extensions import db
from mall import auctions, listings, misconduct, orders, states
from mall.models import Auction, Listing, MarketPrice, Order
from tests.mall.conftest import journal_actions

ADDRESS = "南京市玄武区北京东路41号"


# Orders -------------------------------------------------------------------------------------------

def place(mall) -> Order:
    listing = mall.listing("得力")
    [order] = orders.place(mall["procuring"], [(listing.id, 2)], budget_line_id=mall.budget_line().id,
                           delivery_region="320102", delivery_address=ADDRESS, now=clock.now())
    return order


def _rate(mall, order):
    party = "supplier" if order.rating_by("unit") else "unit"
    return orders.rate(mall["procuring" if party == "unit" else "supplier"], order, "good", "", clock.now())


def _expire(mall, order):
    return orders.expire(order, order.confirm_by + timedelta(minutes=1))


def _settle(mall, order):
    if order.status == "accepted" and not order.invoice_number:
        orders.invoice(mall["supplier"], order, "INV-0001", clock.now())
    return orders.settle(mall["procuring"], order, "PAY-2026-0001", clock.now())


ORDER_ACTIONS = {
    "confirm": lambda m, o: orders.confirm(m["supplier"], o, clock.now()),
    "decline": lambda m, o: orders.decline(m["supplier"], o, "无货", clock.now()),
    "expire": _expire,
    "cancel": lambda m, o: orders.cancel(m["procuring"], o, "需求取消", clock.now()),
    "ship": lambda m, o: orders.ship(m["supplier"], o, "顺丰 SF123", clock.now()),
    "receive": lambda m, o: orders.receive(m["procuring"], o, clock.now()),
    "accept": lambda m, o: orders.accept(m["procuring"], o, {}, clock.now()),
    "return": lambda m, o: orders.return_all(m["procuring"], o, "全部破损", clock.now()),
    "dispute": lambda m, o: orders.dispute(m["procuring"], o, "数量不符", clock.now()),
    "resolve": lambda m, o: orders.resolve(m["centre"], o, "供应商补发", clock.now()),
    "settle": _settle,
    "rate": _rate,
}
assert {action for _state, action in states.ORDER} == set(ORDER_ACTIONS)

# How to reach each state from a new order, through the services.
ORDER_PATHS = {
    "placed": [], "confirmed": ["confirm"], "shipped": ["confirm", "ship"],
    "received": ["confirm", "ship", "receive"], "disputed": ["confirm", "ship", "receive", "dispute"],
    "accepted": ["confirm", "ship", "receive", "accept"], "returned": ["confirm", "ship", "receive", "return"],
    "settled": ["confirm", "ship", "receive", "accept", "settle"],
    "half_rated": ["confirm", "ship", "receive", "accept", "settle", "rate"],
    "rated": ["confirm", "ship", "receive", "accept", "settle", "rate", "rate"],
    "cancelled": ["cancel"],
}
assert {s for s, _a in states.ORDER} | set(states.ORDER.values()) == set(ORDER_PATHS)


def order_in(mall, state: str) -> Order:
    order = place(mall)
    for action in ORDER_PATHS[state]:
        ORDER_ACTIONS[action](mall, order)
    assert order.status == state
    db.session.commit()
    return order


@pytest.mark.parametrize("state, action", list(states.ORDER))
def test_each_order_transition_goes_through_its_service_and_is_journaled(mall, state, action):
    order = order_in(mall, state)
    ORDER_ACTIONS[action](mall, order)
    assert order.status == states.ORDER[(state, action)]
    assert journal_actions("mall_order", order.id)[-1] == f"mall.order.{action}"


@pytest.mark.parametrize("state", list(ORDER_PATHS))
def test_every_other_order_action_is_refused_with_its_code(mall, state):
    order = order_in(mall, state)
    before = len(journal_actions("mall_order", order.id))
    refused = [a for a in ORDER_ACTIONS if (state, a) not in states.ORDER]
    assert refused
    for action in refused:
        with pytest.raises(DomainError) as caught:
            with db.session.begin_nested():
                ORDER_ACTIONS[action](mall, order)
        assert (caught.value.code, caught.value.status) == ("order_transition_refused", 409), action
        assert order.status == state
    assert len(journal_actions("mall_order", order.id)) == before


# Listings -----------------------------------------------------------------------------------------

def _freeze(mall, listing):
    cheaper = MarketPrice(product_key=listing.product_key, brand=listing.brand, model=listing.model, source="拼多多",
                          price=listing.price - 1, captured_at=clock.now(), entered_at=clock.now())
    db.session.add(cheaper)
    db.session.flush()
    return listings.freeze(listing, cheaper, clock.now())


def _resubmit(mall, listing):
    reference = listings.lowest_reference(listing.product_key, clock.now())
    return listings.resubmit(mall["supplier"], listing, clock.now(), price=reference.price)


LISTING_ACTIONS = {
    "approve": lambda m, l: listings.decide(m["centre"], l, "approve", "", clock.now()),
    "refuse": lambda m, l: listings.decide(m["centre"], l, "refuse", "图片不清", clock.now()),
    "resubmit": _resubmit,
    "freeze": _freeze,
    "suspend": lambda m, l: misconduct.suspend_listing(l, 12, clock.now()),
    "reinstate": lambda m, l: misconduct.reinstate_listing(m["centre"], l, clock.now()),
    "withdraw": lambda m, l: listings.withdraw(m["supplier"], l, clock.now()),
}
assert {action for _state, action in states.LISTING} == set(LISTING_ACTIONS)
LISTING_PATHS = {"submitted": [], "approved": ["approve"], "refused": ["refuse"], "frozen": ["approve", "freeze"],
                 "suspended": ["suspend"], "withdrawn": ["withdraw"]}
assert {s for s, _a in states.LISTING} | set(states.LISTING.values()) == set(LISTING_PATHS)


def listing_in(mall, state: str) -> Listing:
    listing = mall.new_listing(approve=False)
    for action in LISTING_PATHS[state]:
        LISTING_ACTIONS[action](mall, listing)
    assert listing.status == state
    db.session.commit()
    return listing


@pytest.mark.parametrize("state, action", list(states.LISTING))
def test_each_listing_transition_goes_through_its_service_and_is_journaled(mall, state, action):
    listing = listing_in(mall, state)
    LISTING_ACTIONS[action](mall, listing)
    assert listing.status == states.LISTING[(state, action)]
    assert journal_actions("mall_listing", listing.id)[-1] == f"mall.listing.{action}"


@pytest.mark.parametrize("state", list(LISTING_PATHS))
def test_every_other_listing_action_is_refused_with_its_code(mall, state):
    listing = listing_in(mall, state)
    before = len(journal_actions("mall_listing", listing.id))
    for action in [a for a in LISTING_ACTIONS if (state, a) not in states.LISTING]:
        with pytest.raises(DomainError) as caught:
            with db.session.begin_nested():
                LISTING_ACTIONS[action](mall, listing)
        assert (caught.value.code, caught.value.status) == ("listing_transition_refused", 409), action
        assert listing.status == state
    assert len(journal_actions("mall_listing", listing.id)) == before


# Reverse auctions ---------------------------------------------------------------------------------

def publish(mall, with_quote: bool) -> Auction:
    auction = auctions.publish(mall["procuring"], category="computers", title="笔记本电脑 80台",
                               requirement="i5 16GB 512GB", quantity=2, ceiling="12000.00",
                               budget_line_id=mall.budget_line().id, delivery_region="320102",
                               delivery_address=ADDRESS, hours=2, now=clock.now())
    if with_quote:
        auctions.quote(mall["supplier2"], auction, mall.listing("Lenovo").id, "4800.00", clock.now())
    db.session.commit()
    return auction


def _close(mall, auction):
    return auctions.close(mall["procuring"], auction, auction.closes_at + timedelta(minutes=1))


AUCTION_ACTIONS = {"award": _close, "fail": _close,
                   "cancel": lambda m, a: auctions.cancel(m["procuring"], a, "需求变更", clock.now())}
assert {action for _state, action in states.AUCTION} == set(AUCTION_ACTIONS)


@pytest.mark.parametrize("state, action", list(states.AUCTION))
def test_each_auction_transition_goes_through_its_service_and_is_journaled(mall, state, action):
    auction = publish(mall, with_quote=action == "award")
    AUCTION_ACTIONS[action](mall, auction)
    assert auction.status == states.AUCTION[(state, action)]
    assert journal_actions("mall_auction", auction.id)[-1] == f"mall.auction.{action}"


@pytest.mark.parametrize("state", ["awarded", "failed", "cancelled"])
def test_a_closed_auction_refuses_every_action(mall, state):
    auction = publish(mall, with_quote=state == "awarded")
    AUCTION_ACTIONS[{"awarded": "award", "failed": "fail", "cancelled": "cancel"}[state]](mall, auction)
    assert auction.status == state
    db.session.commit()
    for action in AUCTION_ACTIONS:
        with pytest.raises(DomainError) as caught:
            with db.session.begin_nested():
                AUCTION_ACTIONS[action](mall, auction)
        assert (caught.value.code, caught.value.status) == ("auction_transition_refused", 409), action

