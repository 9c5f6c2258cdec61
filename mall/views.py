"""The mall's pages: catalogue search and comparison, cart and orders for procuring units; listings, market
prices, orders and quotes for suppliers; reviews, price monitoring, disputes and misconduct for the centre.
HTTP only: parse, check access, call a service, commit once, render."""
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Organisation, Region
from core import clock, money, settings, storage
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, area_required, check_object, roles_required
from mall import auctions, budget, listings, misconduct, orders, search
from mall.budget import ImportRefused
from mall.forms import AuctionForm, BudgetLineForm, CheckoutForm, ListingForm, MarketPriceForm, UploadForm
from mall.models import CATEGORIES, Auction, Listing, ListingPicture, MarketPrice, Order
from mall.states import STATE_LABELS

mall_bp = Blueprint("mall", __name__, template_folder="templates")
MAX_COMPARE = 4
ORDER_ACTIONS = ("confirm", "decline", "cancel", "ship", "receive", "accept", "return", "dispute", "resolve",
                 "invoice", "settle", "rate")


@mall_bp.app_context_processor
def _mall_globals():
    return {"mall_categories": CATEGORIES, "mall_state_labels": STATE_LABELS}


def _region_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "zh")
    return [(r.code, f"{r.code} {r.display_name(locale)}") for r in db.session.scalars(select(Region).order_by(Region.code))]


def _decimal_arg(name: str) -> Decimal | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return money.parse(raw)
    except DomainError:
        return None


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, min(int(request.args.get(name, default)), 10_000))
    except ValueError:
        return default


def _form_int(name: str) -> int:
    try:
        value = int(request.form.get(name, ""))
    except ValueError:
        raise DomainError("invalid_choice", _("Choose from the list."), 400) from None
    if not 0 < value < 2**31:
        raise DomainError("invalid_choice", _("Choose from the list."), 400)
    return value


# Home ---------------------------------------------------------------------------------------------

@mall_bp.get("/")
@area_required("mall")
def home():
    now = clock.now()
    context = {"role": current_user.role}
    if current_user.role == Role.PROCURING:
        context["lines"] = budget.usable_lines(current_user.organisation_id, now)
        context["cart_count"] = len(orders.cart_of(current_user))
    if current_user.role == Role.SUPPLIER:
        context["points"] = misconduct.points(current_user.organisation_id, now)
        context["suspension"] = misconduct.active_suspension(current_user.organisation_id)
    if current_user.role in (Role.CENTRE, Role.SUPERVISOR):
        context["waiting"] = db.session.scalar(select(db.func.count(Listing.id)).where(Listing.status == "submitted"))
        context["savings"] = orders.savings_summary()
    context["recent_orders"] = orders.orders_for(current_user, limit=10)
    return render_template("mall/home.html", **context)


# Catalogue, comparison ----------------------------------------------------------------------------

@mall_bp.get("/catalogue")
@area_required("mall")
def catalogue():
    query = search.Query(q=request.args.get("q", "")[:200], category=request.args.get("category") or None,
                         brand=request.args.get("brand") or None, region=request.args.get("region") or None,
                         min_price=_decimal_arg("min_price"), max_price=_decimal_arg("max_price"),
                         in_stock=request.args.get("in_stock") == "1", sort=request.args.get("sort", "relevance"),
                         page=_int_arg("page", 1))
    if query.category not in CATEGORIES:
        query.category = None
    results = search.search(query)
    return render_template("mall/catalogue.html", query=query, results=results, regions=_region_choices(),
                           compare=session.get("mall_compare", []), sorts=search.SORTS)


@mall_bp.post("/compare")
@area_required("mall")
def compare_toggle():
    chosen = [int(i) for i in session.get("mall_compare", [])]
    if request.form.get("clear"):
        chosen = []
    else:
        listing = check_object(get_or_404(Listing, _form_int("listing_id")))
        if listing.id in chosen:
            chosen.remove(listing.id)
        elif len(chosen) >= MAX_COMPARE:
            flash(_("Compare at most four products: remove one first."), "warning")
        else:
            chosen.append(listing.id)
    session["mall_compare"] = chosen
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/mall/")
                    else url_for("mall.compare"))


@mall_bp.get("/compare")
@area_required("mall")
def compare():
    ids = [int(i) for i in session.get("mall_compare", [])][:MAX_COMPARE]
    found = {l.id: l for l in db.session.scalars(select(Listing).where(Listing.id.in_(ids)))}
    chosen = [found[i] for i in ids if i in found and found[i].can_view(current_user)]
    now = clock.now()
    references = {l.id: listings.lowest_reference(l.product_key, now) for l in chosen}
    return render_template("mall/compare.html", listings=chosen, references=references)


# Listings -----------------------------------------------------------------------------------------

@mall_bp.get("/listings/<int:listing_id>")
@area_required("mall")
def listing(listing_id: int):
    item = check_object(get_or_404(Listing, listing_id))
    now = clock.now()
    return render_template("mall/listing.html", listing=item, references=listings.references_of(item, now),
                           lowest=listings.lowest_reference(item.product_key, now),
                           compare=session.get("mall_compare", []), upload=UploadForm())


@mall_bp.get("/pictures/<digest>")
@area_required("mall")
def picture(digest: str):
    row = db.session.scalar(select(ListingPicture).where(ListingPicture.digest == digest).limit(1))
    if row is None:
        abort(404)
    check_object(db.session.get(Listing, row.listing_id))
    return Response(storage.get(digest), mimetype=row.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@mall_bp.get("/supplier/listings")
@roles_required(Role.SUPPLIER)
def my_listings():
    rows = db.session.scalars(select(Listing).where(Listing.supplier_id == current_user.organisation_id)
                              .order_by(Listing.updated_at.desc()))
    return render_template("mall/my_listings.html", listings=list(rows))


@mall_bp.route("/supplier/listings/new", methods=["GET", "POST"])
@roles_required(Role.SUPPLIER)
def new_listing():
    form = ListingForm()
    form.regions.choices = _region_choices()
    if form.validate_on_submit():
        now = clock.now()
        if form.reference_price.data:
            listings.add_market_price(current_user, brand=form.brand.data, model=form.model.data,
                                      source=form.reference_source.data, price=form.reference_price.data,
                                      captured_at=now, url=form.reference_url.data or "", now=now)
        try:
            with db.session.begin_nested():
                made = listings.create(current_user, listings.ListingData(
                    category=form.category.data, name=form.name.data, brand=form.brand.data, model=form.model.data,
                    specifications=form.specifications.data or "", unit=form.unit.data, price=form.price.data,
                    stock=form.stock.data, regions=form.regions.data), now)
        except DomainError as error:
            db.session.commit()  # the market reference entered with it stands on its own
            flash(error.message, "danger")
            return render_template("mall/listing_form.html", form=form, refusal=error), error.status
        db.session.commit()
        flash(_("Listing submitted: the trading centre reviews it."), "success")
        return redirect(url_for("mall.listing", listing_id=made.id))
    return render_template("mall/listing_form.html", form=form), 400 if form.errors else 200


@mall_bp.post("/listings/<int:listing_id>/update")
@roles_required(Role.SUPPLIER)
def update_listing(listing_id: int):
    item = check_object(get_or_404(Listing, listing_id), action="manage")
    listings.update(current_user, item, price=request.form.get("price"), stock=request.form.get("stock"), now=clock.now())
    db.session.commit()
    flash(_("The listing has been changed."), "success")
    return redirect(url_for("mall.listing", listing_id=listing_id))


@mall_bp.post("/listings/<int:listing_id>/withdraw")
@roles_required(Role.SUPPLIER)
def withdraw_listing(listing_id: int):
    item = check_object(get_or_404(Listing, listing_id), action="manage")
    listings.withdraw(current_user, item, clock.now())
    db.session.commit()
    flash(_("The listing has been withdrawn."), "info")
    return redirect(url_for("mall.my_listings"))


@mall_bp.post("/listings/<int:listing_id>/pictures")
@roles_required(Role.SUPPLIER)
def add_picture(listing_id: int):
    item = check_object(get_or_404(Listing, listing_id), action="manage")
    upload = request.files.get("file")
    if upload is None:
        raise DomainError("file_missing", _("Choose a picture to upload."), 400)
    listings.add_picture(current_user, item, upload.read(listings.MAX_PICTURE_BYTES + 1), upload.filename or "",
                         clock.now())
    db.session.commit()
    flash(_("The picture has been added."), "success")
    return redirect(url_for("mall.listing", listing_id=listing_id))


@mall_bp.post("/listings/<int:listing_id>/decision")
@roles_required(Role.CENTRE)
def decide_listing(listing_id: int):
    item = get_or_404(Listing, listing_id)
    action = request.form.get("action")
    if action not in ("approve", "refuse"):
        raise DomainError("action_unknown", _("Approve or refuse."), 400)
    listings.decide(current_user, item, action, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=item.name, status=STATE_LABELS[item.status]), "success")
    return redirect(url_for("mall.review"))


@mall_bp.get("/review")
@roles_required(Role.CENTRE)
def review():
    rows = db.session.scalars(select(Listing).where(Listing.status == "submitted").order_by(Listing.created_at))
    now = clock.now()
    waiting = [(l, listings.lowest_reference(l.product_key, now)) for l in rows]
    return render_template("mall/review.html", waiting=waiting)


@mall_bp.get("/price-report")
@roles_required(Role.CENTRE, Role.SUPERVISOR)
def price_report():
    now = clock.now()
    return render_template("mall/price_report.html", rows=listings.price_report(now),
                           tolerance=settings.value("mall.price_tolerance_percent", now))


# Market prices ------------------------------------------------------------------------------------

@mall_bp.route("/market-prices", methods=["GET", "POST"])
@roles_required(Role.SUPPLIER, Role.CENTRE)
def market_prices():
    form = MarketPriceForm()
    if form.validate_on_submit():
        listings.add_market_price(current_user, brand=form.brand.data, model=form.model.data, source=form.source.data,
                                  price=form.price.data, captured_at=form.captured_at.data, url=form.url.data or "",
                                  now=clock.now())
        db.session.commit()
        flash(_("The market reference price has been entered."), "success")
        return redirect(url_for("mall.market_prices"))
    recent = db.session.scalars(select(MarketPrice).order_by(MarketPrice.entered_at.desc(), MarketPrice.id.desc())
                                .limit(50))
    return render_template("mall/market_prices.html", form=form, upload=UploadForm(), prices=list(recent),
                           problems=None), 400 if form.errors else 200


def _csv_upload() -> bytes:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError("file_missing", _("Choose a CSV file to upload."), 400)
    return upload.read(5 * 1024 * 1024)


@mall_bp.post("/market-prices/import")
@roles_required(Role.SUPPLIER, Role.CENTRE)
def import_market_prices():
    try:
        made = listings.import_market_prices(current_user, _csv_upload(), clock.now())
    except ImportRefused as refused:
        db.session.rollback()
        flash(refused.message, "danger")
        recent = db.session.scalars(select(MarketPrice).order_by(MarketPrice.entered_at.desc()).limit(50))
        return render_template("mall/market_prices.html", form=MarketPriceForm(), upload=UploadForm(),
                               prices=list(recent), problems=refused.problems), 422
    db.session.commit()
    flash(_("%(count)s market reference prices imported.", count=len(made)), "success")
    return redirect(url_for("mall.market_prices"))


# Budget lines -------------------------------------------------------------------------------------

def _budget_page(form, problems=None, status=200):
    return render_template("mall/budget.html", form=form, upload=UploadForm(), problems=problems,
                           lines=budget.lines_of(current_user.organisation_id)), status


@mall_bp.route("/budget", methods=["GET", "POST"])
@roles_required(Role.PROCURING)
def budget_lines():
    form = BudgetLineForm()
    if request.method == "GET":
        form.fiscal_year.data = budget.fiscal_year(clock.now())
    if form.validate_on_submit():
        budget.create_line(current_user, fiscal_year_=form.fiscal_year.data, code=form.code.data, name=form.name.data,
                           amount=form.amount.data, now=clock.now())
        db.session.commit()
        flash(_("The budget line has been created."), "success")
        return redirect(url_for("mall.budget_lines"))
    return _budget_page(form, status=400 if form.errors else 200)


@mall_bp.post("/budget/import")
@roles_required(Role.PROCURING)
def import_budget_lines():
    try:
        made = budget.import_lines(current_user, _csv_upload(), clock.now())
    except ImportRefused as refused:
        db.session.rollback()
        flash(refused.message, "danger")
        return _budget_page(BudgetLineForm(), refused.problems, 422)
    db.session.commit()
    flash(_("%(count)s budget lines imported.", count=len(made)), "success")
    return redirect(url_for("mall.budget_lines"))


# Cart and checkout --------------------------------------------------------------------------------

def _checkout_form() -> CheckoutForm:
    form = CheckoutForm()
    form.budget_line_id.choices = [(l.id, f"{l.fiscal_year} {l.code} {l.name} · {money.format_exact(l.available)}")
                                   for l in budget.usable_lines(current_user.organisation_id, clock.now())]
    form.delivery_region.choices = _region_choices()
    if request.method == "GET":
        form.delivery_region.data = current_user.organisation.region_code
    return form


@mall_bp.get("/cart")
@roles_required(Role.PROCURING)
def cart():
    groups = orders.cart_by_supplier(current_user)
    return render_template("mall/cart.html", groups=groups, form=_checkout_form(),
                           limit=settings.value("mall.direct_purchase_limit", clock.now()))


@mall_bp.post("/cart")
@roles_required(Role.PROCURING)
def add_to_cart():
    item = check_object(get_or_404(Listing, _form_int("listing_id")))
    orders.add_to_cart(current_user, item, request.form.get("quantity", "1"), clock.now())
    db.session.commit()
    flash(_("%(name)s is in your cart.", name=item.name), "success")
    return redirect(url_for("mall.cart"))


@mall_bp.post("/cart/update")
@roles_required(Role.PROCURING)
def update_cart():
    for key, value in request.form.items():
        if key.startswith("quantity_") and key[9:].isdigit():
            orders.set_cart_quantity(current_user, int(key[9:]), value, clock.now())
    db.session.commit()
    return redirect(url_for("mall.cart"))


@mall_bp.post("/cart/checkout")
@roles_required(Role.PROCURING)
def checkout():
    form = _checkout_form()
    if not form.validate_on_submit():
        flash(_("Choose a budget line and the delivery region, and give the address."), "danger")
        return redirect(url_for("mall.cart"))
    made = orders.place_from_cart(current_user, budget_line_id=form.budget_line_id.data,
                                  delivery_region=form.delivery_region.data,
                                  delivery_address=form.delivery_address.data, now=clock.now())
    db.session.commit()
    flash(_("%(count)s orders placed, one per supplier: %(numbers)s.", count=len(made),
            numbers=", ".join(o.number for o in made)), "success")
    return redirect(url_for("mall.order_list"))


# Orders -------------------------------------------------------------------------------------------

@mall_bp.get("/orders")
@area_required("mall")
def order_list():
    status = request.args.get("status") or None
    return render_template("mall/orders.html", orders=orders.orders_for(current_user, status if status in STATE_LABELS else None),
                           status=status)


@mall_bp.get("/orders/<int:order_id>")
@area_required("mall")
def order(order_id: int):
    row = check_object(get_or_404(Order, order_id))
    return render_template("mall/order.html", order=row, party=row.party(current_user))


@mall_bp.post(f"/orders/<int:order_id>/<any({', '.join(ORDER_ACTIONS)}):action>")
@roles_required(Role.PROCURING, Role.SUPPLIER, Role.CENTRE)
def order_action(order_id: int, action: str):
    row = check_object(get_or_404(Order, order_id), action="manage")
    now, form, user = clock.now(), request.form, current_user
    if action == "confirm":
        orders.confirm(user, row, now)
    elif action == "decline":
        orders.decline(user, row, form.get("reason", ""), now)
    elif action == "cancel":
        orders.cancel(user, row, form.get("reason", ""), now)
    elif action == "ship":
        orders.ship(user, row, form.get("note", ""), now)
    elif action == "receive":
        orders.receive(user, row, now)
    elif action == "accept":
        rejected = {line.id: form.get(f"reason_{line.id}", "") for line in row.lines if form.get(f"reject_{line.id}")}
        orders.accept(user, row, rejected, now)
    elif action == "return":
        orders.return_all(user, row, form.get("reason", ""), now)
    elif action == "dispute":
        orders.dispute(user, row, form.get("reason", ""), now)
    elif action == "resolve":
        orders.resolve(user, row, form.get("resolution", ""), now)
    elif action == "invoice":
        orders.invoice(user, row, form.get("invoice_number", ""), now)
    elif action == "settle":
        orders.settle(user, row, form.get("payment_reference", ""), now)
    else:
        orders.rate(user, row, form.get("score", ""), form.get("comment", ""), now)
    db.session.commit()
    flash(_("Order %(number)s: %(status)s.", number=row.number, status=STATE_LABELS[row.status]), "success")
    return redirect(url_for("mall.order", order_id=order_id))


# Reverse auctions ---------------------------------------------------------------------------------

@mall_bp.get("/auctions")
@area_required("mall")
def auction_list():
    return render_template("mall/auctions.html", auctions=auctions.visible_to(current_user))


@mall_bp.route("/auctions/new", methods=["GET", "POST"])
@roles_required(Role.PROCURING)
def new_auction():
    form = AuctionForm()
    form.budget_line_id.choices = [(l.id, f"{l.fiscal_year} {l.code} {l.name} · {money.format_exact(l.available)}")
                                   for l in budget.usable_lines(current_user.organisation_id, clock.now())]
    form.delivery_region.choices = _region_choices()
    if request.method == "GET":
        form.delivery_region.data = current_user.organisation.region_code
    if form.validate_on_submit():
        made = auctions.publish(current_user, category=form.category.data, title=form.title.data,
                                requirement=form.requirement.data, quantity=form.quantity.data,
                                ceiling=form.ceiling.data, budget_line_id=form.budget_line_id.data,
                                delivery_region=form.delivery_region.data, delivery_address=form.delivery_address.data,
                                hours=form.hours.data, now=clock.now())
        db.session.commit()
        flash(_("The reverse auction is published."), "success")
        return redirect(url_for("mall.auction", auction_id=made.id))
    return render_template("mall/auction_form.html", form=form), 400 if form.errors else 200


@mall_bp.get("/auctions/<int:auction_id>")
@area_required("mall")
def auction(auction_id: int):
    row = check_object(get_or_404(Auction, auction_id))
    mine = []
    if current_user.role == Role.SUPPLIER:
        mine = list(db.session.scalars(select(Listing).where(Listing.supplier_id == current_user.organisation_id,
                                                             Listing.category == row.category,
                                                             Listing.status == "approved")))
    # Suppliers see only their own quote while the window is open; the unit and the centre see all.
    quotes = [q for q in row.quotes if row.status != "open" or current_user.role != Role.SUPPLIER
              or q.supplier_id == current_user.organisation_id]
    return render_template("mall/auction.html", auction=row, quotes=quotes, my_listings=mine, now=clock.now())


@mall_bp.post("/auctions/<int:auction_id>/quote")
@roles_required(Role.SUPPLIER)
def quote(auction_id: int):
    row = check_object(get_or_404(Auction, auction_id))
    auctions.quote(current_user, row, _form_int("listing_id"), request.form.get("unit_price", ""), clock.now())
    db.session.commit()
    flash(_("Your quote has been recorded."), "success")
    return redirect(url_for("mall.auction", auction_id=auction_id))


@mall_bp.post("/auctions/<int:auction_id>/<any(close, cancel):action>")
@roles_required(Role.PROCURING)
def auction_action(auction_id: int, action: str):
    row = check_object(get_or_404(Auction, auction_id), action="manage")
    if action == "close":
        auctions.close(current_user, row, clock.now())
    else:
        auctions.cancel(current_user, row, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("Auction: %(status)s.", status=STATE_LABELS[row.status]), "success")
    return redirect(url_for("mall.auction", auction_id=auction_id))


# Misconduct ---------------------------------------------------------------------------------------

@mall_bp.get("/suppliers")
@roles_required(Role.CENTRE, Role.SUPERVISOR)
def suppliers():
    return render_template("mall/suppliers.html", rows=misconduct.standings(clock.now()),
                           threshold=settings.value("mall.misconduct_threshold", clock.now()))


@mall_bp.post("/suppliers/<int:org_id>/lift")
@roles_required(Role.CENTRE)
def lift_suspension(org_id: int):
    supplier = get_or_404(Organisation, org_id)
    misconduct.lift(current_user, supplier, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("The suspension of %(name)s is lifted.", name=supplier.name), "success")
    return redirect(url_for("mall.suppliers"))


@mall_bp.get("/supplier/standing")
@roles_required(Role.SUPPLIER)
def standing():
    now = clock.now()
    org = current_user.organisation_id
    return render_template("mall/standing.html", points=misconduct.points(org, now),
                           history=misconduct.history(org), suspension=misconduct.active_suspension(org),
                           threshold=settings.value("mall.misconduct_threshold", now),
                           kind_labels=misconduct.KIND_LABELS)
