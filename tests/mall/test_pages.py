"""The mall's pages, as each role uses them: what a person sees and what their forms do."""
import re

from sqlalchemy import select

from core.extensions import db
from mall.models import BudgetLine, Listing, MarketPrice, Order


def test_every_mall_page_renders_for_the_roles_that_use_it(mall, login):
    listing = mall.listing("Lenovo")
    pages = {
        "procuring": ["/mall/", "/mall/catalogue?q=笔记本", "/mall/compare", "/mall/cart", "/mall/orders",
                      "/mall/budget", "/mall/auctions", "/mall/auctions/new", f"/mall/listings/{listing.id}"],
        "supplier": ["/mall/", "/mall/supplier/listings", "/mall/supplier/listings/new", "/mall/market-prices",
                     "/mall/orders", "/mall/auctions", "/mall/supplier/standing", "/mall/catalogue"],
        "centre": ["/mall/", "/mall/review", "/mall/price-report", "/mall/market-prices", "/mall/suppliers",
                   "/mall/orders", f"/mall/listings/{listing.id}"],
        "supervisor": ["/mall/", "/mall/price-report", "/mall/suppliers", "/mall/orders"],
    }
    for username, paths in pages.items():
        client = login(username)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, f"{username} {path}: {response.status_code}"
            assert "<main" in response.text


def test_search_finds_one_and_two_character_chinese_terms_and_latin_words(mall, login):
    client = login("procuring")
    for term, expected in [("笔", "得力中性笔"), ("中性笔", "得力中性笔"), ("复印纸", "晨光 A4 复印纸"),
                           ("thinkpad", "ThinkPad E14"), ("ThinkPad E14", "ThinkPad E14"), ("硒鼓", "CF259A")]:
        page = client.get("/mall/catalogue", query_string={"q": term}).text
        assert expected in page, term
    assert "no-results" in client.get("/mall/catalogue", query_string={"q": "冰箱"}).text


def test_search_filters_and_sorts_by_price(mall, login):
    client = login("procuring")
    page = client.get("/mall/catalogue", query_string={"category": "computers", "sort": "price_desc"}).text
    names = re.findall(r'listing_id=\d+|/mall/listings/(\d+)"', page)
    prices = [db.session.get(Listing, int(n)).price for n in names if n]
    assert prices == sorted(prices, reverse=True) and len(prices) == 2
    page = client.get("/mall/catalogue", query_string={"max_price": "200"}).text
    assert "ThinkPad" not in page and "中性笔" in page


def test_a_supplier_lists_a_product_and_one_too_dear_is_refused_with_the_reason(mall, login):
    client = login("supplier")
    form = {"category": "office_supplies", "name": "齐心 订书机", "brand": "齐心", "model": "B3061", "unit": "个",
            "price": "25.00", "stock": "50", "regions": ["320100"], "reference_source": "京东自营",
            "reference_price": "23.90"}
    response = client.post("/mall/supplier/listings/new", data=form)
    assert response.status_code == 422
    assert "above the lowest market reference" in response.text
    assert db.session.scalar(select(Listing).where(Listing.brand == "齐心")) is None
    assert db.session.scalar(select(MarketPrice).where(MarketPrice.brand == "齐心")) is not None  # the reference stays
    form.update(price="22.00", reference_price="")
    response = client.post("/mall/supplier/listings/new", data=form)
    assert response.status_code == 302
    made = db.session.scalar(select(Listing).where(Listing.brand == "齐心"))
    assert made.status == "submitted"
    centre = login("centre")
    assert "齐心 订书机" in centre.get("/mall/review").text
    centre.post(f"/mall/listings/{made.id}/decision", data={"action": "approve"})
    db.session.expire_all()
    assert db.session.get(Listing, made.id).status == "approved"


def test_cart_splits_by_supplier_and_checkout_reserves_the_budget(mall, login):
    client = login("procuring")
    pen, laptop = mall.listing("得力"), mall.listing("Lenovo")
    client.post("/mall/cart", data={"listing_id": pen.id, "quantity": "3"})
    client.post("/mall/cart", data={"listing_id": laptop.id, "quantity": "1"})
    page = client.get("/mall/cart").text
    assert page.count("cart-group") == 2
    line = mall.budget_line()
    response = client.post("/mall/cart/checkout", data={"budget_line_id": line.id, "delivery_region": "320102",
                                                        "delivery_address": "南京市玄武区北京东路41号"})
    assert response.status_code == 302
    placed = db.session.scalars(select(Order)).all()
    assert sorted(o.supplier.name for o in placed) == sorted([pen.supplier.name, laptop.supplier.name])
    db.session.expire_all()
    assert db.session.get(BudgetLine, line.id).reserved == sum(o.total for o in placed)
    assert "cart-empty" in client.get("/mall/cart").text


def test_a_budget_csv_with_a_bad_row_imports_nothing_and_names_the_row(mall, login):
    client = login("procuring")
    year = mall.budget_line().fiscal_year
    csv = f"fiscal_year,code,name,amount\n{year},9001,设备,1000.00\n{year},9002,家具,abc\n".encode()
    response = client.post("/mall/budget/import", data={"file": (__import__("io").BytesIO(csv), "lines.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Line 3" in response.text and "is not an amount of money" in response.text
    assert db.session.scalar(select(BudgetLine).where(BudgetLine.code == "9001")) is None
