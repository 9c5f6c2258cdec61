"""What the mall's routes take ids of, for tests of access (route × role): one procuring unit's order and
reverse auction, one supplier's approved listing with a picture, made through the services."""
from datetime import timedelta

from sqlalchemy import select

from accounts.models import User
from core import clock
from core.extensions import db
from mall import auctions, budget, demo as mall_demo, listings, orders

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")


class MallScenario:
    IDS = {"listing_id", "order_id", "auction_id"}

    def __init__(self, unit: User, supplier_username: str):
        now = clock.now()
        mall_demo.load(now)
        supplier = db.session.scalar(select(User).where(User.username == supplier_username))
        model = f"ACCESS-{supplier.id}"
        listings.add_market_price(supplier, brand="门禁", model=model, source="京东自营", price="200.00",
                                  captured_at=now - timedelta(minutes=1), now=now)
        self.listing = listings.create(supplier, listings.ListingData(
            category="office_supplies", name=f"访问测试 {supplier.username}", brand="门禁", model=model,
            specifications="", unit="个", price="150.00", stock=100, regions=["320000"]), now)
        listings.decide(db.session.scalar(select(User).where(User.username == "centre")), self.listing, "approve", "", now)
        self.picture = listings.add_picture(supplier, self.listing, PNG, "p.png", now)
        line = budget.usable_lines(unit.organisation_id, now)[0]
        [self.order] = orders.place(unit, [(self.listing.id, 1)], budget_line_id=line.id, delivery_region="320100",
                                    delivery_address="南京市", now=now)
        self.auction = auctions.publish(unit, category="office_supplies", title="访问测试竞价", requirement="需求",
                                        quantity=1, ceiling="1000.00", budget_line_id=line.id,
                                        delivery_region="320100", delivery_address="南京市", hours=48, now=now)
        db.session.commit()

    def object_for(self, name: str, rule: str = ""):
        return getattr(self, name.removesuffix("_id"))
