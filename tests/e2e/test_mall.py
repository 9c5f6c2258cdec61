"""The online mall in a real browser, as the issue's "done when" tells it: a supplier lists two products (one
refused as too dear), the centre approves, a procuring unit searches, compares, orders from two suppliers;
one supplier confirms and ships, the unit accepts and settles, both rate; the other order is not confirmed
in time, is cancelled, and its budget comes back."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import clock
from core.extensions import db
from mall import demo as mall_demo, orders
from mall.models import Order
from tests.conftest import totp_now
from tests.e2e.conftest import TIMEOUT_MS

PASSWORD = "demo-pass-2026"


def sign_in(browser, base_url, username):
    context = browser.new_context(base_url=base_url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    if username == "centre":
        page.get_by_label("6-digit code").fill(totp_now(username))
        page.locator("#code-form").get_by_role("button", name="Continue").click()
    expect(page.locator("#logout")).to_be_visible()
    return page


def order_action(page, action, **fields):
    for name, value in fields.items():
        page.locator(f"#{action}-{name}").fill(value)
    page.locator(f"#{action}").click()


@pytest.mark.e2e
def test_from_listing_to_settlement_and_a_timeout(app, demo_users, browser, live_server):
    mall_demo.load(clock.now())
    db.session.commit()

    # The supplier lists two products: the first is dearer than its market reference and refused.
    supplier = sign_in(browser, live_server, "supplier")
    supplier.goto("/mall/supplier/listings/new")
    form = {"#name": "齐心 订书机 50页", "#brand": "齐心", "#model": "B3061", "#unit": "个", "#stock": "30",
            "#reference_source": "京东自营"}
    for selector, value in {**form, "#price": "25.00", "#reference_price": "23.90"}.items():
        supplier.locator(selector).fill(value)
    supplier.locator("#regions").select_option("320000")
    supplier.locator("#listing-form button[type=submit]").click()
    expect(supplier.locator("#refusal")).to_contain_text("above the lowest market reference")
    supplier.locator("#price").fill("22.00")
    supplier.locator("#reference_price").fill("")
    supplier.locator("#regions").select_option("320000")
    supplier.locator("#listing-form button[type=submit]").click()
    expect(supplier.locator("main h1")).to_contain_text("齐心 订书机 50页")
    expect(supplier.locator("[data-status=submitted]")).to_be_visible()

    # The centre approves it.
    centre = sign_in(browser, live_server, "centre")
    centre.goto("/mall/review")
    card = centre.locator(".review-card", has_text="齐心 订书机 50页")
    card.get_by_role("button", name="Approve").click()
    expect(centre.locator(".alert-success")).to_contain_text("approved")

    # The procuring unit searches (a two-character term), compares, and orders from two suppliers.
    buyer = sign_in(browser, live_server, "procuring")
    buyer.goto("/mall/catalogue")
    buyer.locator("#q").fill("订书")
    buyer.locator("#search-button").click()
    stapler = buyer.locator(".listing-card", has_text="齐心 订书机")
    expect(stapler).to_have_count(1)
    stapler.locator(".compare-toggle").click()
    buyer.locator("#q").fill("笔记本")
    buyer.locator("#search-button").click()
    buyer.locator(".listing-card", has_text="ThinkPad").locator(".compare-toggle").click()
    buyer.locator("#compare-link").click()
    table = buyer.locator("#compare-table")
    expect(table).to_contain_text("齐心 订书机 50页")
    expect(table).to_contain_text("ThinkPad E14")
    forms = table.locator(".add-to-cart")
    forms.nth(0).locator("input[name=quantity]").fill("2")
    forms.nth(0).get_by_role("button", name="Add to cart").click()
    buyer.goto("/mall/compare")
    buyer.locator("#compare-table .add-to-cart").nth(1).get_by_role("button", name="Add to cart").click()
    expect(buyer.locator(".cart-group")).to_have_count(2)
    line = buyer.locator("#budget_line_id option", has_text="2050201").get_attribute("value")
    buyer.locator("#budget_line_id").select_option(line)
    buyer.locator("#delivery_address").fill("南京市玄武区北京东路41号")
    buyer.locator("#checkout-form button[type=submit]").click()
    expect(buyer.locator(".alert-success")).to_contain_text("2 orders placed")
    rows = buyer.locator("#orders tbody tr")
    expect(rows).to_have_count(2)

    # The stapler's supplier confirms and ships.
    supplier.goto("/mall/orders")
    supplier.locator("#orders tbody tr a").first.click()
    order_action(supplier, "confirm")
    expect(supplier.locator("#order-status")).to_contain_text("confirmed")
    order_action(supplier, "ship", note="顺丰 SF1234567890")
    expect(supplier.locator("#order-status")).to_contain_text("shipped")
    stapler_order = supplier.url

    # The unit receives, accepts; the supplier invoices; the unit settles; both rate.
    buyer.goto(stapler_order)
    order_action(buyer, "receive")
    expect(buyer.locator("#order-status")).to_contain_text("received")
    buyer.locator("#accept").click()
    expect(buyer.locator("#order-status")).to_contain_text("accepted")
    supplier.goto(stapler_order)
    order_action(supplier, "invoice", invoice_number="3200261130")
    expect(supplier.locator("#invoice-number")).to_have_text("3200261130")
    buyer.goto(stapler_order)
    order_action(buyer, "settle", payment_reference="国库集中支付 2026-0815")
    expect(buyer.locator("#order-status")).to_contain_text("settled")
    buyer.locator("#rate").click()
    expect(buyer.locator("#order-status")).to_contain_text("rated by one party")
    supplier.goto(stapler_order)
    supplier.locator("#rate").click()
    expect(supplier.locator("#order-status")).to_contain_text("rated by both parties")

    # The laptop's supplier never confirms: past the deadline the order is cancelled and its budget released.
    db.session.expire_all()
    late = db.session.scalar(select(Order).where(Order.status == "placed"))
    deadline = late.confirm_by
    db.session.commit()
    assert orders.expire_overdue(deadline + timedelta(minutes=1)) == [late.id]
    db.session.commit()
    buyer.goto("/mall/orders")
    expect(buyer.locator("#orders [data-status=cancelled]")).to_have_count(1)
    buyer.goto("/mall/budget")
    row = buyer.locator("#budget-lines tr[data-code='2050201']")
    expect(row.locator(".reserved .money")).to_have_attribute("title", "0.00 元")
    expect(row.locator(".consumed .money")).to_have_attribute("title", "44.00 元")

    for page in (supplier, centre, buyer):
        assert page.errors == []
        page.context.close()
