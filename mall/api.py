"""/api/v1/mall: the catalogue, listings and market prices, budget lines, orders (Idempotency-Key on
submission), reverse auction quotes. Bearer tokens only; every route is described with core.api.describe."""
from decimal import Decimal

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from core import clock, money
from core.api import api_blueprint, creating, describe, error_responses, json_body, ok
from core.api import IDEMPOTENCY_KEY as _idem, json_answer as _json, json_request as _body
from core.api import query_parameter as _query, schema_ref as _ref
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import AREA_ROLES, Role, check_object, roles_required
from mall import auctions, budget, listings, orders, search, states
from mall.models import CATEGORIES, Auction, BudgetLine, Listing, Order

mall_api = api_blueprint("mall_api", __name__)
MALL_ROLES = tuple(AREA_ROLES["mall"])
ORDER_ACTIONS = ("confirm", "decline", "cancel", "ship", "receive", "accept", "return", "dispute", "resolve",
                 "invoice", "settle", "rate")


def _amount(value) -> str:
    return money.to_json(value) if value is not None else None


def listing_json(item: Listing) -> dict:
    return {"id": item.id, "supplier": {"id": item.supplier_id, "name": item.supplier.name},
            "category": item.category, "name": item.name, "brand": item.brand, "model": item.model,
            "specifications": item.specifications, "unit": item.unit, "price": _amount(item.price),
            "stock": item.stock, "regions": item.region_codes, "status": item.status,
            "status_reason": item.status_reason}


def budget_line_json(line: BudgetLine) -> dict:
    return {"id": line.id, "fiscal_year": line.fiscal_year, "code": line.code, "name": line.name,
            "amount": _amount(line.amount), "reserved": _amount(line.reserved), "consumed": _amount(line.consumed),
            "available": _amount(line.available)}


def order_json(row: Order) -> dict:
    return {"id": row.id, "number": row.number, "status": row.status, "unit_id": row.unit_id,
            "supplier_id": row.supplier_id, "budget_line_id": row.budget_line_id, "total": _amount(row.total),
            "accepted_total": _amount(row.accepted_total), "savings": _amount(row.savings),
            "placed_at": row.placed_at.isoformat(), "confirm_by": row.confirm_by.isoformat(),
            "invoice_number": row.invoice_number, "payment_reference": row.payment_reference,
            "lines": [{"id": l.id, "listing_id": l.listing_id, "name": l.name, "quantity": l.quantity,
                       "unit_price": _amount(l.unit_price), "amount": _amount(l.amount), "rejected": l.rejected,
                       "reject_reason": l.reject_reason} for l in row.lines]}


def auction_json(row: Auction) -> dict:
    return {"id": row.id, "title": row.title, "category": row.category, "quantity": row.quantity,
            "ceiling": _amount(row.ceiling), "status": row.status, "closes_at": row.closes_at.isoformat(),
            "requirement": row.requirement}


def _text(body: dict, key: str, default: str = "") -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise DomainError("invalid_field", _("%(field)s must be text.", field=key), 400)
    return value


def _int(body: dict, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError("invalid_field", _("%(field)s must be a whole number.", field=key), 400)
    return value


def _query_decimal(name: str) -> Decimal | None:
    raw = request.args.get(name)
    return money.parse(raw) if raw not in (None, "") else None


@mall_api.get("/listings")
@roles_required(*MALL_ROLES)
def search_listings():
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", search.PER_PAGE))
    except ValueError:
        raise DomainError("invalid_field", _("page and per_page are whole numbers."), 400) from None
    category = request.args.get("category") or None
    sort = request.args.get("sort", "relevance")
    if category is not None and category not in CATEGORIES:
        raise DomainError("category_unknown", _("Choose a category from the list."), 400)
    if sort not in search.SORTS:
        raise DomainError("invalid_field", _("Unknown sort order."), 400)
    results = search.search(search.Query(q=request.args.get("q", "")[:200], category=category,
                                         region=request.args.get("region") or None,
                                         min_price=_query_decimal("min_price"), max_price=_query_decimal("max_price"),
                                         sort=sort, page=max(1, min(page, 10_000)), per_page=max(1, min(per_page, 100))))
    return ok({"listings": [listing_json(l) for l in results.listings], "count": results.count,
               "count_capped": results.capped, "page": results.page, "pages": results.pages})


@mall_api.get("/listings/<int:listing_id>")
@roles_required(*MALL_ROLES)
def get_listing(listing_id: int):
    return ok(listing_json(check_object(get_or_404(Listing, listing_id))))


@mall_api.post("/listings")
@roles_required(Role.SUPPLIER)
@creating
def create_listing():
    body = json_body()
    regions = body.get("regions")
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise DomainError("invalid_field", _("regions must be a list of region codes."), 400)
    made = listings.create(current_user, listings.ListingData(
        category=_text(body, "category"), name=_text(body, "name"), brand=_text(body, "brand"),
        model=_text(body, "model"), specifications=_text(body, "specifications"), unit=_text(body, "unit"),
        price=_text(body, "price"), stock=_int(body, "stock"), regions=regions), clock.now())
    return ok(listing_json(made), 201)


@mall_api.post("/listings/<int:listing_id>/decision")
@roles_required(Role.CENTRE)
def decide_listing(listing_id: int):
    item = get_or_404(Listing, listing_id)
    body = json_body()
    listings.decide(current_user, item, _text(body, "action"), _text(body, "reason"), clock.now())
    db.session.commit()
    return ok(listing_json(item))


@mall_api.post("/market-prices")
@roles_required(Role.SUPPLIER, Role.CENTRE)
@creating
def create_market_price():
    body = json_body()
    row = listings.add_market_price(current_user, brand=_text(body, "brand"), model=_text(body, "model"),
                                    source=_text(body, "source"), price=_text(body, "price"),
                                    captured_at=_text(body, "captured_at"), url=_text(body, "url"), now=clock.now())
    return ok({"id": row.id, "brand": row.brand, "model": row.model, "source": row.source,
               "price": _amount(row.price), "captured_at": row.captured_at.isoformat()}, 201)


@mall_api.get("/budget-lines")
@roles_required(Role.PROCURING)
def list_budget_lines():
    return ok({"budget_lines": [budget_line_json(l) for l in budget.lines_of(current_user.organisation_id)]})


@mall_api.post("/budget-lines")
@roles_required(Role.PROCURING)
@creating
def create_budget_line():
    body = json_body()
    line = budget.create_line(current_user, fiscal_year_=_int(body, "fiscal_year"), code=_text(body, "code"),
                              name=_text(body, "name"), amount=_text(body, "amount"), now=clock.now())
    return ok(budget_line_json(line), 201)


@mall_api.post("/orders")
@roles_required(Role.PROCURING)
@creating
def create_orders():
    """One order per supplier of the lines; a retry with the same Idempotency-Key returns the first answer."""
    body = json_body()
    lines = body.get("lines")
    if not isinstance(lines, list) or not all(isinstance(l, dict) for l in lines):
        raise DomainError("invalid_field", _("lines must be a list of {listing_id, quantity}."), 400)
    made = orders.place(current_user, [(_int(l, "listing_id"), _int(l, "quantity")) for l in lines],
                        budget_line_id=_int(body, "budget_line_id"), delivery_region=_text(body, "delivery_region"),
                        delivery_address=_text(body, "delivery_address"), now=clock.now())
    return ok({"orders": [order_json(o) for o in made]}, 201)


@mall_api.get("/orders")
@roles_required(*MALL_ROLES)
def list_orders():
    status = request.args.get("status") or None
    return ok({"orders": [order_json(o) for o in orders.orders_for(current_user, status)]})


@mall_api.get("/orders/<int:order_id>")
@roles_required(*MALL_ROLES)
def get_order(order_id: int):
    return ok(order_json(check_object(get_or_404(Order, order_id))))


@mall_api.post("/orders/<int:order_id>/<action>")
@roles_required(Role.PROCURING, Role.SUPPLIER, Role.CENTRE)
def order_action(order_id: int, action: str):
    if action not in ORDER_ACTIONS:  # checked here, after the token, so that a stranger learns nothing
        raise DomainError("not_found", _("The page or record you asked for does not exist."), 404)
    row = check_object(get_or_404(Order, order_id), action="manage")
    body = json_body()
    now, user = clock.now(), current_user
    if action == "confirm":
        orders.confirm(user, row, now)
    elif action in ("decline", "cancel", "return", "dispute"):
        service = {"decline": orders.decline, "cancel": orders.cancel, "return": orders.return_all,
                   "dispute": orders.dispute}[action]
        service(user, row, _text(body, "reason"), now)
    elif action == "ship":
        orders.ship(user, row, _text(body, "note"), now)
    elif action == "receive":
        orders.receive(user, row, now)
    elif action == "accept":
        rejected = body.get("rejected_lines", [])
        if not isinstance(rejected, list) or not all(isinstance(r, dict) for r in rejected):
            raise DomainError("invalid_field", _("rejected_lines must be a list of {line_id, reason}."), 400)
        orders.accept(user, row, {_int(r, "line_id"): _text(r, "reason") for r in rejected}, now)
    elif action == "resolve":
        orders.resolve(user, row, _text(body, "resolution"), now)
    elif action == "invoice":
        orders.invoice(user, row, _text(body, "invoice_number"), now)
    elif action == "settle":
        orders.settle(user, row, _text(body, "payment_reference"), now)
    else:
        orders.rate(user, row, _text(body, "score"), _text(body, "comment"), now)
    db.session.commit()
    return ok(order_json(row))


@mall_api.get("/auctions")
@roles_required(*MALL_ROLES)
def list_auctions():
    return ok({"auctions": [auction_json(a) for a in auctions.visible_to(current_user)]})


@mall_api.post("/auctions/<int:auction_id>/quotes")
@roles_required(Role.SUPPLIER)
@creating
def create_quote(auction_id: int):
    row = check_object(get_or_404(Auction, auction_id))
    body = json_body()
    made = auctions.quote(current_user, row, _int(body, "listing_id"), _text(body, "unit_price"), clock.now())
    return ok({"id": made.id, "auction_id": row.id, "listing_id": made.listing_id,
               "unit_price": _amount(made.unit_price), "total": _amount(made.total)}, 201)


# The OpenAPI description ----------------------------------------------------------------------------

_MONEY = {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "example": "1234.50"}
_MONEY_OUT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
_NULLABLE_MONEY = {**_MONEY_OUT, "nullable": True}
_TIME = {"type": "string", "format": "date-time"}








def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}






SCHEMAS = {
    "MallListing": {"type": "object", "required": ["id", "supplier", "category", "name", "brand", "model", "unit",
                                                   "price", "stock", "regions", "status"],
                    "properties": {"id": {"type": "integer"},
                                   "supplier": {"type": "object", "properties": {"id": {"type": "integer"},
                                                                                 "name": {"type": "string"}}},
                                   "category": {"type": "string", "enum": list(CATEGORIES)},
                                   "name": {"type": "string"}, "brand": {"type": "string"}, "model": {"type": "string"},
                                   "specifications": {"type": "string"}, "unit": {"type": "string"},
                                   "price": _MONEY_OUT, "stock": {"type": "integer", "minimum": 0},
                                   "regions": {"type": "array", "items": {"type": "string"}},
                                   "status": {"type": "string", "enum": ["submitted", "approved", "refused", "frozen",
                                                                         "suspended", "withdrawn"]},
                                   "status_reason": {"type": "string"}}},
    "MallListingPage": {"type": "object", "required": ["listings", "count", "count_capped", "page", "pages"],
                        "properties": {"listings": {"type": "array", "items": _ref("MallListing")},
                                       "count": {"type": "integer", "description": "Capped at 1000"},
                                       "count_capped": {"type": "boolean"}, "page": {"type": "integer"},
                                       "pages": {"type": "integer"}}},
    "MallNewListing": {"type": "object", "additionalProperties": False,
                       "required": ["category", "name", "brand", "model", "unit", "price", "stock", "regions"],
                       "properties": {"category": {"type": "string", "enum": list(CATEGORIES)},
                                      "name": {"type": "string", "minLength": 1, "maxLength": 200},
                                      "brand": {"type": "string", "minLength": 1, "maxLength": 100},
                                      "model": {"type": "string", "minLength": 1, "maxLength": 100},
                                      "specifications": {"type": "string", "maxLength": 5000},
                                      "unit": {"type": "string", "minLength": 1, "maxLength": 20},
                                      "price": _MONEY, "stock": {"type": "integer", "minimum": 0, "maximum": 10000000},
                                      "regions": {"type": "array", "minItems": 1, "maxItems": 100,
                                                  "items": {"type": "string", "pattern": "^[0-9]{6}$"}}}},
    "MallDecision": {"type": "object", "additionalProperties": False, "required": ["action"],
                     "properties": {"action": {"type": "string", "enum": ["approve", "refuse"]},
                                    "reason": {"type": "string", "maxLength": 500}}},
    "MallNewMarketPrice": {"type": "object", "additionalProperties": False,
                           "required": ["brand", "model", "source", "price", "captured_at"],
                           "properties": {"brand": {"type": "string", "minLength": 1, "maxLength": 100},
                                          "model": {"type": "string", "minLength": 1, "maxLength": 100},
                                          "source": {"type": "string", "minLength": 1, "maxLength": 100},
                                          "price": _MONEY, "captured_at": _TIME,
                                          "url": {"type": "string", "maxLength": 500}}},
    "MallMarketPrice": {"type": "object", "required": ["id", "brand", "model", "source", "price", "captured_at"],
                        "properties": {"id": {"type": "integer"}, "brand": {"type": "string"},
                                       "model": {"type": "string"}, "source": {"type": "string"},
                                       "price": _MONEY_OUT, "captured_at": _TIME}},
    "MallBudgetLine": {"type": "object", "required": ["id", "fiscal_year", "code", "name", "amount", "reserved",
                                                      "consumed", "available"],
                       "properties": {"id": {"type": "integer"}, "fiscal_year": {"type": "integer"},
                                      "code": {"type": "string"}, "name": {"type": "string"}, "amount": _MONEY_OUT,
                                      "reserved": _MONEY_OUT, "consumed": _MONEY_OUT, "available": _MONEY_OUT}},
    "MallBudgetLineList": {"type": "object", "required": ["budget_lines"],
                           "properties": {"budget_lines": {"type": "array", "items": _ref("MallBudgetLine")}}},
    "MallNewBudgetLine": {"type": "object", "additionalProperties": False,
                          "required": ["fiscal_year", "code", "name", "amount"],
                          "properties": {"fiscal_year": {"type": "integer", "minimum": 2000, "maximum": 2200},
                                         "code": {"type": "string", "minLength": 1, "maxLength": 40},
                                         "name": {"type": "string", "minLength": 1, "maxLength": 200},
                                         "amount": _MONEY}},
    "MallOrder": {"type": "object", "required": ["id", "number", "status", "total", "lines"],
                  "properties": {"id": {"type": "integer"}, "number": {"type": "string"},
                                 "status": {"type": "string"}, "unit_id": {"type": "integer"},
                                 "supplier_id": {"type": "integer"}, "budget_line_id": {"type": "integer"},
                                 "total": _MONEY_OUT, "accepted_total": _NULLABLE_MONEY, "savings": _NULLABLE_MONEY,
                                 "placed_at": _TIME, "confirm_by": _TIME, "invoice_number": {"type": "string"},
                                 "payment_reference": {"type": "string"},
                                 "lines": {"type": "array", "items": {"type": "object", "properties": {
                                     "id": {"type": "integer"}, "listing_id": {"type": "integer"},
                                     "name": {"type": "string"}, "quantity": {"type": "integer"},
                                     "unit_price": _MONEY_OUT, "amount": _MONEY_OUT, "rejected": {"type": "boolean"},
                                     "reject_reason": {"type": "string"}}}}}},
    "MallOrderList": {"type": "object", "required": ["orders"],
                      "properties": {"orders": {"type": "array", "items": _ref("MallOrder")}}},
    "MallNewOrders": {"type": "object", "additionalProperties": False,
                      "required": ["budget_line_id", "delivery_region", "delivery_address", "lines"],
                      "properties": {"budget_line_id": {"type": "integer", "minimum": 1},
                                     "delivery_region": {"type": "string", "pattern": "^[0-9]{6}$"},
                                     "delivery_address": {"type": "string", "minLength": 1, "maxLength": 300},
                                     "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                                         "type": "object", "additionalProperties": False,
                                         "required": ["listing_id", "quantity"],
                                         "properties": {"listing_id": {"type": "integer", "minimum": 1},
                                                        "quantity": {"type": "integer", "minimum": 1,
                                                                     "maximum": 100000}}}}}},
    "MallOrderAction": {"type": "object", "additionalProperties": False, "description":
                        "The fields the action needs: reason (decline, cancel, return, dispute), note (ship), "
                        "rejected_lines (accept), resolution (resolve), invoice_number (invoice), "
                        "payment_reference (settle), score and comment (rate).",
                        "properties": {"reason": {"type": "string", "maxLength": 500},
                                       "note": {"type": "string", "maxLength": 300},
                                       "resolution": {"type": "string", "maxLength": 500},
                                       "invoice_number": {"type": "string", "maxLength": 60},
                                       "payment_reference": {"type": "string", "maxLength": 100},
                                       "score": {"type": "string", "enum": ["good", "neutral", "poor"]},
                                       "comment": {"type": "string", "maxLength": 500},
                                       "rejected_lines": {"type": "array", "items": {
                                           "type": "object", "required": ["line_id", "reason"],
                                           "properties": {"line_id": {"type": "integer"},
                                                          "reason": {"type": "string", "maxLength": 500}}}}}},
    "MallAuction": {"type": "object", "required": ["id", "title", "category", "quantity", "ceiling", "status",
                                                   "closes_at"],
                    "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                   "category": {"type": "string"}, "quantity": {"type": "integer"},
                                   "ceiling": _MONEY_OUT, "status": {"type": "string"}, "closes_at": _TIME,
                                   "requirement": {"type": "string"}}},
    "MallAuctionList": {"type": "object", "required": ["auctions"],
                        "properties": {"auctions": {"type": "array", "items": _ref("MallAuction")}}},
    "MallNewQuote": {"type": "object", "additionalProperties": False, "required": ["listing_id", "unit_price"],
                     "properties": {"listing_id": {"type": "integer", "minimum": 1}, "unit_price": _MONEY}},
    "MallQuote": {"type": "object", "required": ["id", "auction_id", "listing_id", "unit_price", "total"],
                  "properties": {"id": {"type": "integer"}, "auction_id": {"type": "integer"},
                                 "listing_id": {"type": "integer"}, "unit_price": _MONEY_OUT, "total": _MONEY_OUT}},
}

_P = "/api/v1/mall"
_READ = error_responses(400, 401, 403)
_WRITE = error_responses(400, 401, 403, 404, 409, 422)

describe({
    f"{_P}/listings": {
        "get": {"summary": "Search the catalogue (approved listings): full text, filters, sort, pages; counts capped "
                           "at 1000", "operationId": "mallSearchListings",
                "parameters": [_query("q", {"type": "string", "maxLength": 200}),
                               _query("category", {"type": "string", "enum": list(CATEGORIES)}),
                               _query("region", {"type": "string", "pattern": "^[0-9]{6}$"}),
                               _query("min_price", _MONEY), _query("max_price", _MONEY),
                               _query("sort", {"type": "string", "enum": list(search.SORTS)}),
                               _query("page", {"type": "integer", "minimum": 1, "maximum": 10000}),
                               _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100})],
                "responses": {"200": _json("MallListingPage"), **_READ}},
        "post": {"summary": "List a product (suppliers); refused above the lowest current market reference",
                 "operationId": "mallCreateListing", "parameters": [_idem], "requestBody": _body("MallNewListing"),
                 "responses": {"201": _json("MallListing", "Created"), **_WRITE}}},
    f"{_P}/listings/{{listing_id}}": {
        "get": {"summary": "One listing", "operationId": "mallGetListing", "parameters": [_id("listing_id")],
                "responses": {"200": _json("MallListing"), **error_responses(401, 403, 404)}}},
    f"{_P}/listings/{{listing_id}}/decision": {
        "post": {"summary": "Approve or refuse a listing (centre)", "operationId": "mallDecideListing",
                 "parameters": [_id("listing_id")], "requestBody": _body("MallDecision"),
                 "responses": {"200": _json("MallListing"), **_WRITE}}},
    f"{_P}/market-prices": {
        "post": {"summary": "Enter a market reference price (suppliers, centre)", "operationId": "mallCreateMarketPrice",
                 "parameters": [_idem], "requestBody": _body("MallNewMarketPrice"),
                 "responses": {"201": _json("MallMarketPrice", "Created"), **_WRITE}}},
    f"{_P}/budget-lines": {
        "get": {"summary": "My unit's budget lines", "operationId": "mallListBudgetLines",
                "responses": {"200": _json("MallBudgetLineList"), **error_responses(401, 403)}},
        "post": {"summary": "Create a budget line (procuring units)", "operationId": "mallCreateBudgetLine",
                 "parameters": [_idem], "requestBody": _body("MallNewBudgetLine"),
                 "responses": {"201": _json("MallBudgetLine", "Created"), **_WRITE}}},
    f"{_P}/orders": {
        "get": {"summary": "Orders I may see", "operationId": "mallListOrders",
                "parameters": [_query("status", {"type": "string", "enum": sorted(set(states.ORDER.values())
                                                                                | {"placed"})})],
                "responses": {"200": _json("MallOrderList"), **error_responses(400, 401, 403)}},
        "post": {"summary": "Place orders, one per supplier (Idempotency-Key: a retry returns the first orders)",
                 "operationId": "mallCreateOrders", "parameters": [_idem], "requestBody": _body("MallNewOrders"),
                 "responses": {"201": _json("MallOrderList", "Created"), **_WRITE}}},
    f"{_P}/orders/{{order_id}}": {
        "get": {"summary": "One order", "operationId": "mallGetOrder", "parameters": [_id("order_id")],
                "responses": {"200": _json("MallOrder"), **error_responses(401, 403, 404)}}},
    f"{_P}/orders/{{order_id}}/{{action}}": {
        "post": {"summary": "Move an order along its lifecycle", "operationId": "mallOrderAction",
                 "parameters": [_id("order_id"), {"name": "action", "in": "path", "required": True,
                                                  "schema": {"type": "string", "enum": list(ORDER_ACTIONS)}}],
                 "requestBody": _body("MallOrderAction"),
                 "responses": {"200": _json("MallOrder"), **_WRITE}}},
    f"{_P}/auctions": {
        "get": {"summary": "Reverse auctions I may see", "operationId": "mallListAuctions",
                "responses": {"200": _json("MallAuctionList"), **error_responses(401, 403)}}},
    f"{_P}/auctions/{{auction_id}}/quotes": {
        "post": {"summary": "Quote in a reverse auction (suppliers)", "operationId": "mallCreateQuote",
                 "parameters": [_idem, _id("auction_id")], "requestBody": _body("MallNewQuote"),
                 "responses": {"201": _json("MallQuote", "Created"), **_WRITE}}},
}, SCHEMAS)
