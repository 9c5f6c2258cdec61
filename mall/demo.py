"""Demo data of the mall: a second supplier, market reference prices, approved listings of both suppliers
and budget lines of both procuring units for the current fiscal year. Made through the services (so the
journal shows it); idempotent, called by ``flask demo load`` after the accounts' demo data."""
from datetime import timedelta

from sqlalchemy import select

from accounts import auth, credit_code
from accounts.demo import DEMO_PASSWORD
from accounts.models import OrgKind, Organisation, User
from core.extensions import db
from core.permissions import Role
from mall import budget, listings
from mall.models import BudgetLine, Listing, product_key

SECOND_SUPPLIER = ("南京文达电脑科技有限公司", "91320104MA1X00010", "320104")
SECOND_SUPPLIER_USER = ("supplier2", "文达电脑 钱进")

# (supplier username, category, name, brand, model, specifications, unit, price, stock, [(source, reference)])
LISTINGS = [
    ("supplier", "office_supplies", "得力中性笔 0.5mm 黑色 12支装", "得力", "S01", "笔芯 0.5mm 子弹头，黑色，12支/盒", "盒",
     "14.50", 500, [("京东自营", "15.90"), ("天猫超市", "16.50")]),
    ("supplier", "office_supplies", "晨光 A4 复印纸 70g 500张", "晨光", "APYVPB01", "A4 70g/㎡ 500张/包 5包/箱", "箱",
     "118.00", 300, [("京东自营", "125.00"), ("苏宁易购", "129.00")]),
    ("supplier", "furniture", "钢制文件柜 四门", "震旦", "AK-4D", "冷轧钢板 0.6mm，1850×900×390mm，四门带锁", "台",
     "1180.00", 40, [("京东自营", "1299.00")]),
    ("supplier2", "computers", "联想 ThinkPad E14 笔记本电脑", "Lenovo", "ThinkPad E14 Gen 5",
     "Intel Core i5-1335U, 16GB DDR4, 512GB SSD, 14英寸 1920×1200，三年保修", "台",
     "4899.00", 60, [("京东自营", "5199.00"), ("联想官方旗舰店", "5099.00")]),
    ("supplier2", "computers", "惠普 LaserJet 黑白激光打印机", "HP", "LaserJet Pro 4004dn",
     "黑白激光 40页/分钟，自动双面，有线网络", "台", "2350.00", 25, [("京东自营", "2499.00")]),
    ("supplier2", "consumables", "惠普 CF259A 原装硒鼓", "HP", "CF259A", "适用 M304/M404/M428，约3000页", "支",
     "569.00", 200, [("京东自营", "599.00")]),
]

# (procuring username, code, name, amount)
BUDGET_LINES = [
    ("procuring", "2050201", "学前教育·办公设备购置", "200000.00"),
    ("procuring", "2050202", "小学教育·办公用品", "80000.00"),
    ("procuring2", "2100101", "卫生健康管理事务·办公设备", "150000.00"),
]


def _second_supplier(now) -> User:
    name, first17, region = SECOND_SUPPLIER
    code = credit_code.complete(first17)
    org = db.session.scalars(select(Organisation).where(Organisation.credit_code == code)).first()
    if org is None:
        org = Organisation(name=name, credit_code=code, kind=OrgKind.SUPPLIER, region_code=region, status="approved",
                           contact_phone="025-00000000", registered_at=now, decided_at=now, decision_reason="")
        db.session.add(org)
        db.session.flush()
    username, person = SECOND_SUPPLIER_USER
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(organisation=org, username=username, name=person, role=Role.SUPPLIER,
                    email=f"{username}@demo.ggzy.example.cn", status="active",
                    password_hash=auth.hash_password(DEMO_PASSWORD), created_at=now, failed_logins=0, locked=False)
        db.session.add(user)
        db.session.flush()
    return user


def load(now) -> dict:
    """Idempotent: a listing, price or budget line already there is left as it is."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    users["supplier2"] = _second_supplier(now)
    centre = users["centre"]
    made = {"listings": 0, "budget_lines": 0}
    for username, category, name, brand, model, specs, unit, price, stock, references in LISTINGS:
        supplier = users[username]
        key = product_key(brand, model)
        if db.session.scalar(select(Listing.id).where(Listing.supplier_id == supplier.organisation_id,
                                                      Listing.product_key == key)):
            continue
        for hours, (source, reference) in enumerate(references, start=1):
            listings.add_market_price(supplier, brand=brand, model=model, source=source, price=reference,
                                      captured_at=now - timedelta(hours=hours), now=now)
        listing = listings.create(supplier, listings.ListingData(
            category=category, name=name, brand=brand, model=model, specifications=specs, unit=unit, price=price,
            stock=stock, regions=["320000"]), now)
        listings.decide(centre, listing, "approve", "", now)
        made["listings"] += 1
    year = budget.fiscal_year(now)
    for username, code, name, amount in BUDGET_LINES:
        user = users[username]
        if db.session.scalar(select(BudgetLine.id).where(BudgetLine.unit_id == user.organisation_id,
                                                         BudgetLine.fiscal_year == year, BudgetLine.code == code)):
            continue
        budget.create_line(user, fiscal_year_=year, code=code, name=name, amount=amount, now=now)
        made["budget_lines"] += 1
    db.session.flush()
    return made
