"""The mall's rules, through its services: market references and freezing, budget lines, the direct-purchase
limit, the confirmation deadline, acceptance, settlement, misconduct, reverse auctions, savings."""
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from core import clock, settings
from core.errors import DomainError
from core.extensions import db
from core.models import DeadlineWarning, Notification
from mall import auctions, budget, listings, misconduct, orders, tasks
from mall.models import BudgetLine, Listing, MarketPrice, Misconduct, Order

ADDRESS = "南京市玄武区北京东路41号"


def place(mall, listing, quantity=1, username="procuring", line=None):
    return orders.place(mall[username], [(listing.id, quantity)], budget_line_id=(line or mall.budget_line(username)).id,
                        delivery_region="320102", delivery_address=ADDRESS, now=clock.now())


def test_a_listing_above_the_lowest_current_reference_is_refused_and_the_tolerance_lets_it_in(mall):
    with pytest.raises(DomainError) as caught:
        mall.new_listing(price="111.00", reference="110.00")
    assert caught.value.code == "price_above_reference" and "110.00" in caught.value.message
    settings.change(mall["admin"], "mall.price_tolerance_percent", "1", None, "test", clock.now())
    assert mall.new_listing(model="X2", price="111.00", reference="110.00").status == "approved"


def test_a_listing_needs_a_current_reference(mall):
    old = clock.now() - timedelta(days=31)
    db.session.add(MarketPrice(product_key="acme|x9", brand="Acme", model="X9", source="京东自营", price=Decimal("50"),
                               captured_at=old, entered_at=old))
    with pytest.raises(DomainError) as caught:
        mall.new_listing(model="X9", price="40.00", reference=None)
    assert caught.value.code == "reference_missing"


def test_the_periodic_check_freezes_a_listing_that_became_too_dear_and_tells_the_supplier(mall):
    listing = mall.new_listing(price="100.00", reference="110.00")
    listings.add_market_price(mall["centre"], brand="Acme", model="X1", source="天猫超市", price="95.00",
                              captured_at=clock.now(), now=clock.now())
    db.session.commit()
    assert tasks.recheck_listing_prices() == [listing.id]
    db.session.expire_all()
    frozen = db.session.get(Listing, listing.id)
    assert frozen.status == "frozen" and "95.00" in frozen.status_reason and "天猫超市" in frozen.status_reason
    told = db.session.scalars(select(Notification).where(Notification.user_id == mall["supplier"].id,
                                                         Notification.kind == "mall_listing_frozen")).all()
    assert len(told) == 1 and "95.00" in told[0].body
    assert misconduct.points(mall["supplier"].organisation_id, clock.now()) == 2
    # Lowering the price sends it back to the centre.
    listings.update(mall["supplier"], frozen, price="95.00", now=clock.now())
    assert frozen.status == "submitted"


def test_a_market_price_csv_with_bad_rows_imports_nothing_and_names_every_bad_row(mall):
    now = clock.now()
    good = f"{clock.local(now):%Y-%m-%d %H:%M}"
    data = ("brand,model,source,price,captured_at\n"
            f"得力,S02,京东自营,12.50,{good}\n"
            f"得力,S03,京东自营,-1,{good}\n"
            f"得力,S04,,3.00,{good}\n"
            f"得力,S05,京东自营,3.00,2099-01-01\n")
    with pytest.raises(budget.ImportRefused) as caught:
        listings.import_market_prices(mall["supplier"], data.encode(), now)
    assert [line for line, _message in caught.value.problems] == [3, 4, 5]
    db.session.rollback()
    assert db.session.scalar(select(MarketPrice).where(MarketPrice.model == "S02")) is None
    made = listings.import_market_prices(mall["supplier"], data.splitlines()[0] + "\n" + data.splitlines()[1], now)
    assert len(made) == 1


def test_budget_lines_reserve_release_and_consume_and_never_overdraw(mall):
    line = budget.create_line(mall["procuring"], fiscal_year_=budget.fiscal_year(clock.now()), code="T1", name="测试",
                              amount="5000.00", now=clock.now())
    laptop = mall.listing("Lenovo")
    [order] = place(mall, laptop, 1, line=line)
    db.session.commit()
    assert (line.reserved, line.available) == (Decimal("4899.00"), Decimal("101.00"))
    with pytest.raises(DomainError) as caught:
        place(mall, laptop, 1, line=line)
    assert caught.value.code == "budget_insufficient" and "101.00" in caught.value.message
    db.session.rollback()
    orders.cancel(mall["procuring"], order, "不需要了", clock.now())
    assert (line.reserved, line.available) == (0, Decimal("5000.00"))
    assert db.session.get(Listing, laptop.id).stock == 60


def test_a_budget_line_is_made_once_per_code_and_year(mall):
    year = budget.fiscal_year(clock.now())
    with pytest.raises(DomainError) as caught:
        budget.create_line(mall["procuring"], fiscal_year_=year, code="2050201", name="重复", amount="1", now=clock.now())
    assert caught.value.code == "budget_line_exists"
    with pytest.raises(DomainError):
        budget.create_line(mall["supplier"], fiscal_year_=year, code="X", name="X", amount="1", now=clock.now())


def test_the_direct_purchase_limit_holds_per_order_and_per_unit_category_and_year(mall):
    settings.change(mall["admin"], "mall.direct_purchase_limit", "10000", None, "test", clock.now())
    db.session.commit()
    laptop = mall.listing("Lenovo")
    with pytest.raises(DomainError) as caught:
        place(mall, laptop, 3)  # 14,697 in one order
    assert caught.value.code == "direct_limit_exceeded" and "10,000.00" in caught.value.message
    db.session.rollback()
    place(mall, laptop, 2)  # 9,798 this year in computers
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        place(mall, mall.listing("HP"), 1)  # 2,350 more in computers: over the limit for the year
    assert caught.value.code == "direct_limit_exceeded"
    db.session.rollback()
    place(mall, mall.listing("得力"), 10)  # another category is counted apart


def test_an_order_checks_the_region_around_the_address_and_uses_the_settings_in_force_when_placed(mall):
    city = mall.new_listing(model="C1", regions=("320100",))  # Nanjing covers its district 320102
    elsewhere = mall.new_listing(model="W1", regions=("320200",))  # Wuxi does not
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        place(mall, elsewhere)
    assert caught.value.code == "region_not_served" and elsewhere.name in caught.value.message
    db.session.rollback()
    now = clock.now()
    settings.change(mall["admin"], "mall.confirm_hours", "12", now, "test", now)
    settings.change(mall["admin"], "mall.confirm_hours", "48", now + timedelta(days=1), "later", now)
    db.session.commit()
    [order] = place(mall, city, 2)
    assert order.confirm_by - order.placed_at == timedelta(hours=12)  # the change in force, not the later one
    assert order.delivery_region == "320102" and order.lines[0].reference_price == Decimal("110.00")
    assert order.savings == Decimal("20.00")  # (110 - 100) x 2 against the lowest current reference
    told = db.session.scalars(select(Notification.user_id).where(Notification.link == f"/mall/orders/{order.id}"))
    assert sorted(told) == sorted(misconduct.supplier_recipients(order.supplier_id)) != []


def test_an_unconfirmed_order_is_warned_then_cancelled_and_its_budget_comes_back(mall):
    line = mall.budget_line()
    [order] = place(mall, mall.listing("得力"), 4)
    db.session.commit()
    warning = db.session.scalar(select(DeadlineWarning).where(DeadlineWarning.key == f"mall-order:{order.id}:confirm"))
    assert warning.warn_at == order.placed_at + timedelta(hours=18)  # three quarters of 24 hours
    order_id, overdue = order.id, order.confirm_by + timedelta(minutes=1)
    db.session.commit()  # no transaction of the test may hold SQLite's write lock while the task runs
    with time_machine.travel(overdue):
        assert tasks.expire_unconfirmed_orders() == [order_id]
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.status == "cancelled" and order.reserved == 0
    assert db.session.get(BudgetLine, line.id).reserved == 0
    assert db.session.scalar(select(Misconduct.kind).where(Misconduct.supplier_id == order.supplier_id)) == \
        "late_confirmation"


def test_acceptance_with_a_rejected_line_returns_its_amount_and_settlement_consumes_the_rest(mall):
    line = mall.budget_line()
    [order] = orders.place(mall["procuring"], [(mall.listing("得力").id, 2), (mall.listing("晨光").id, 1)],
                           budget_line_id=line.id, delivery_region="320102", delivery_address=ADDRESS, now=clock.now())
    now = clock.now()
    orders.confirm(mall["supplier"], order, now)
    orders.ship(mall["supplier"], order, "", now)
    orders.receive(mall["procuring"], order, now)
    paper = next(l for l in order.lines if l.brand == "晨光")
    orders.accept(mall["procuring"], order, {paper.id: "受潮"}, now)
    assert order.accepted_total == Decimal("29.00") and line.reserved == Decimal("29.00")
    orders.invoice(mall["supplier"], order, "3200123456", now)
    orders.settle(mall["procuring"], order, "国库支付 2026-001", now)
    assert (line.reserved, line.consumed) == (0, Decimal("29.00"))
    assert order.savings == (Decimal("15.90") - Decimal("14.50")) * 2  # against the lowest reference, accepted lines


def test_misconduct_past_the_threshold_suspends_the_suppliers_listings_until_the_centre_lifts_it(mall):
    settings.change(mall["admin"], "mall.misconduct_threshold", "4", None, "test", clock.now())
    supplier = mall["supplier"]
    for _ in range(2):
        [order] = place(mall, mall.listing("得力"))
        orders.decline(supplier, order, "缺货", clock.now())
    assert misconduct.active_suspension(supplier.organisation_id) is not None
    assert {l.status for l in db.session.scalars(select(Listing).where(Listing.supplier_id == supplier.organisation_id))} \
        == {"suspended"}
    with pytest.raises(DomainError) as caught:
        mall.new_listing(model="X5")
    assert caught.value.code == "supplier_suspended"
    misconduct.lift(mall["centre"], supplier.organisation, "整改完成", clock.now())
    assert misconduct.points(supplier.organisation_id, clock.now()) == 0
    assert {l.status for l in db.session.scalars(select(Listing).where(Listing.supplier_id == supplier.organisation_id))} \
        == {"submitted"}


def test_a_reverse_auction_goes_to_the_lowest_compliant_quote_and_becomes_an_order(mall):
    cheaper = mall.new_listing("supplier", brand="Lenovo", model="ThinkPad E14 Gen 5", price="4890.00",
                               reference=None, category="computers", name="联想 ThinkPad 笔记本", stock=2)
    line = mall.budget_line()
    auction = auctions.publish(mall["procuring"], category="computers", title="笔记本 2台", requirement="i5",
                               quantity=2, ceiling="10000.00", budget_line_id=line.id, delivery_region="320102",
                               delivery_address=ADDRESS, hours=24, now=clock.now())
    assert line.reserved == Decimal("10000.00")
    auctions.quote(mall["supplier2"], auction, mall.listing("Lenovo").id, "4850.00", clock.now())
    auctions.quote(mall["supplier"], auction, cheaper.id, "4800.00", clock.now())  # lowest, but then
    listings.update(mall["supplier"], cheaper, stock=1, now=clock.now())  # it no longer has the stock
    with pytest.raises(DomainError) as caught:
        auctions.close(mall["procuring"], auction, clock.now())
    assert caught.value.code == "auction_not_closed"
    auctions.close(mall["procuring"], auction, auction.closes_at)
    order = db.session.get(Order, auction.order_id)
    assert auction.status == "awarded" and order.supplier_id == mall["supplier2"].organisation_id
    assert order.total == Decimal("9700.00") and line.reserved == Decimal("9700.00")


def test_year_end_carries_reservations_over_to_next_years_line_of_the_same_code(mall):
    now = clock.now()
    year = budget.fiscal_year(now)
    old = mall.budget_line()
    [order] = place(mall, mall.listing("得力"), 2, line=old)
    new = budget.create_line(mall["procuring"], fiscal_year_=year + 1, code=old.code, name=old.name, amount="1000.00",
                             now=now)
    [other] = place(mall, mall.listing("晨光"), 1, line=budget.usable_lines(mall["procuring"].organisation_id, now)[1])
    report = budget.carry_over(None, year, now)
    assert report["carried"] == [order.number] and report["cancelled"] == [other.number]
    assert order.budget_line_id == new.id and new.reserved == Decimal("29.00") and old.reserved == 0
    assert other.status == "cancelled"


def test_the_supplier_is_told_of_an_order_and_its_steps_in_its_own_language(mall):
    from core.models import DeadlineWarning
    from flask_babel import force_locale
    mall["supplier"].language, mall["procuring"].language = "zh", "en"
    db.session.commit()
    with force_locale("en"):  # the unit works in English
        [order] = place(mall, mall.listing("得力"))
        orders.cancel(mall["procuring"], order, "不再需要", clock.now())
    db.session.commit()
    told = db.session.scalars(select(Notification).where(Notification.user_id == mall["supplier"].id,
                                                         Notification.link == f"/mall/orders/{order.id}")
                              .order_by(Notification.id)).all()
    assert told[0].title.startswith(f"新的商城订单 {order.number}")
    assert told[1].title == f"商城订单 {order.number} 已取消。"
    warning = db.session.scalars(select(DeadlineWarning).where(DeadlineWarning.key == f"mall-order:{order.id}:confirm")).one()
    assert warning.title.startswith(f"商城订单 {order.number}")  # the platform's default; each language kept beside
