"""/api/v1/mall with personal tokens: search, listing, deciding, ordering with an Idempotency-Key, moving an
order along, and errors that say what is wrong."""
import pytest
from sqlalchemy import func, select

from accounts import tokens
from core import clock
from core.extensions import db
from mall.models import Order


@pytest.fixture
def api(app, mall):
    def client_for(username):
        _token, secret = tokens.create(mall[username], "test", 30, clock.now())
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        client = app.test_client()

        class Api:
            def get(self, path, **kw):
                return client.get(f"/api/v1/mall{path}", headers=headers, **kw)

            def post(self, path, json=None, extra=None):
                return client.post(f"/api/v1/mall{path}", headers={**headers, **(extra or {})}, json=json or {})
        return Api()
    return client_for


def test_search_over_the_api_caps_nothing_small_and_finds_a_one_character_term(api):
    found = api("procuring").get("/listings", query_string={"q": "笔", "sort": "price_asc"}).get_json()
    assert [l["brand"] for l in found["listings"]] == ["得力", "Lenovo"]  # 中性笔, 笔记本电脑
    assert found["count"] == 2 and found["count_capped"] is False
    assert api("bidder1").get("/listings").status_code == 403


def test_a_retried_order_submission_returns_the_first_orders(api, mall):
    buyer = api("procuring")
    body = {"budget_line_id": mall.budget_line().id, "delivery_region": "320102", "delivery_address": "北京东路41号",
            "lines": [{"listing_id": mall.listing("得力").id, "quantity": 2},
                      {"listing_id": mall.listing("Lenovo").id, "quantity": 1}]}
    first = buyer.post("/orders", body, {"Idempotency-Key": "order-7-a"})
    again = buyer.post("/orders", body, {"Idempotency-Key": "order-7-a"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json() == again.get_json()
    assert len(first.get_json()["orders"]) == 2
    assert db.session.scalar(select(func.count(Order.id))) == 2


def test_an_order_goes_from_placed_to_rated_over_the_api(api, mall):
    buyer, seller = api("procuring"), api("supplier")
    made = buyer.post("/orders", {"budget_line_id": mall.budget_line().id, "delivery_region": "320102",
                                  "delivery_address": "北京东路41号",
                                  "lines": [{"listing_id": mall.listing("得力").id, "quantity": 4}]}).get_json()
    order_id = made["orders"][0]["id"]
    line_id = made["orders"][0]["lines"][0]["id"]
    assert seller.post(f"/orders/{order_id}/confirm").status_code == 200
    assert seller.post(f"/orders/{order_id}/ship", {"note": "SF1"}).status_code == 200
    assert buyer.post(f"/orders/{order_id}/receive").status_code == 200
    refused = buyer.post(f"/orders/{order_id}/accept", {"rejected_lines": [{"line_id": line_id, "reason": "坏"}]})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "all_lines_rejected"
    assert buyer.post(f"/orders/{order_id}/accept").get_json()["accepted_total"] == "58.00"
    early = buyer.post(f"/orders/{order_id}/settle", {"payment_reference": "PAY1"})
    assert early.get_json()["error"]["code"] == "invoice_missing"
    assert seller.post(f"/orders/{order_id}/invoice", {"invoice_number": "32000012345678"}).status_code == 200
    assert buyer.post(f"/orders/{order_id}/settle", {"payment_reference": "PAY1"}).get_json()["status"] == "settled"
    assert buyer.post(f"/orders/{order_id}/rate", {"score": "good"}).get_json()["status"] == "half_rated"
    assert seller.post(f"/orders/{order_id}/rate", {"score": "good"}).get_json()["status"] == "rated"
    other = api("procuring2").get(f"/orders/{order_id}")
    assert other.status_code == 404


def test_listing_over_the_api_is_refused_above_the_reference_and_approved_by_the_centre(api, mall):
    seller = api("supplier")
    seller.post("/market-prices", {"brand": "齐心", "model": "B3061", "source": "京东自营", "price": "23.90",
                                   "captured_at": clock.now().isoformat()})
    body = {"category": "office_supplies", "name": "齐心订书机", "brand": "齐心", "model": "B3061", "unit": "个",
            "price": "25.00", "stock": 10, "regions": ["320100"]}
    refused = seller.post("/listings", body)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "price_above_reference"
    made = seller.post("/listings", {**body, "price": "23.50"}).get_json()
    decided = api("centre").post(f"/listings/{made['id']}/decision", {"action": "approve"})
    assert decided.get_json()["status"] == "approved"
    assert api("supplier2").post(f"/listings/{made['id']}/decision", {"action": "approve"}).status_code == 403
