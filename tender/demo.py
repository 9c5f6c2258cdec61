"""Demo tendering data: rooms, and one published section so that the notice board has something to show."""
from datetime import timedelta

from sqlalchemy import select

from accounts.models import User
from core.extensions import db
from tender import acceptance, checklists, projects, publication, rooms
from tender.models import Project, Room

PDF = b"%PDF-1.4\n% demo tender document\n"
DEMO_PROJECT = "南京市第一中学教学楼改造工程"


def load(now) -> None:
    """Idempotent: what exists already is left as it is."""
    centre = db.session.scalar(select(User).where(User.username == "centre"))
    unit = db.session.scalar(select(User).where(User.username == "procuring"))
    if centre is None or unit is None:
        return
    for name, kind, seats in (("第一开标室", "opening", 40), ("第二开标室", "opening", 20), ("评标室A", "evaluation", 12)):
        if db.session.scalar(select(Room.id).where(Room.name == name)) is None:
            rooms.create_room(centre, name, kind, seats, now)
    demo_experts(centre, now)
    demo_history(now)
    if db.session.scalar(select(Project.id).where(Project.name == DEMO_PROJECT)) is not None:
        demo_guarantee(now)
        return
    project = projects.create(unit, name=DEMO_PROJECT, category="works", region_code="320100", now=now, sections=[
        {"name": "施工一标段", "method": "open", "base_amount": "12800000.00", "guarantee_amount": "200000.00",
         "bid_validity_days": 90, "evaluation_method": "comprehensive"},
        {"name": "监理标段", "method": "open", "base_amount": "680000.00", "guarantee_amount": "10000.00",
         "bid_validity_days": 90, "evaluation_method": "lowest_price"}])
    for item in checklists.checklist(project.category):
        projects.add_document(unit, project, item.key, f"{item.key}.pdf", PDF + item.key.encode(), now)
    projects.submit(unit, project, now)
    acceptance.decide(centre, project, outcome="accept",
                      verdicts={i.key: ("ok", "") for i in checklists.checklist(project.category)}, now=now)
    section = project.sections[0]
    publication.publish(centre, section, title=f"{DEMO_PROJECT}{section.name}招标公告",
                        body="本工程已具备招标条件，现对施工一标段进行公开招标。投标人须在投标截止时间前通过平台递交加密投标文件。",
                        deadline=(now + timedelta(days=25)).replace(hour=1, minute=30, second=0, microsecond=0),
                        documents=[("招标文件.pdf", PDF + b"tender documents")], now=now)
    demo_guarantee(now)


def demo_guarantee(now, section=None) -> None:
    """A demo guarantee CA in the trust store, the demo guarantor's certificate from it, and one guarantee for
    bidder1 on the demo section; the keys land in instance/demo-pki/ so that a person can sign more with
    `flask tender sign-guarantee` (docs/tender.md). Idempotent; skipped when the section is not open."""
    from pathlib import Path

    from flask import current_app

    from core import trust_store
    from core.crypto import pki
    from tender import guarantees
    from tender.models import Guarantee, Section
    guarantor = db.session.scalar(select(User).where(User.username == "guarantor"))
    bidder = db.session.scalar(select(User).where(User.username == "bidder1"))
    if section is None:
        section = db.session.scalar(select(Section).join(Project).where(Project.name == DEMO_PROJECT)
                                    .order_by(Section.id))
    if guarantor is None or bidder is None or section is None or section.status != "published" \
            or section.deadline <= now:
        return
    if db.session.scalar(select(Guarantee.id).where(Guarantee.guarantor_id == guarantor.organisation_id)):
        return
    folder = Path(current_app.instance_path) / "demo-pki"
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = pki.make_ca("Demo Guarantee CA", "Demo Certification Authority", now)
    trust_store.add_certificate(ca, None, now)
    trust_store.add_crl(pki.make_crl(ca_key, ca, now), None, now)
    bank = guarantor.organisation
    key = pki.new_signing_key()
    certificate = pki.issue_signing_certificate(ca_key, ca, key.public_key(), "电子保函系统", bank.name, now,
                                                credit_code=bank.credit_code)
    for name, data in (("guarantee-ca.key.pem", pki.private_pem(ca_key)), ("guarantee-ca.pem", pki.pem(ca).encode()),
                       ("guarantor.key.pem", pki.private_pem(key)), ("guarantor.pem", pki.pem(certificate).encode())):
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o600 if name.endswith(".key.pem") else 0o644)
    signed = guarantees.sign_for(section, bidder.organisation, key, [certificate], now, number="BH-DEMO-0001")
    guarantees.issue(guarantor, signed, now)


# The expert pool: expert1 and four more evaluators (password demo-pass-2026); expert5 works for bidder1's
# company, so it is never drawn for a section bidder1 bids on (回避).
EXPERTS = [("expert1", "评标专家 刘洋", ["works", "procurement"]), ("expert2", "评标专家 王芳", ["works"]),
           ("expert3", "评标专家 李强", ["works", "procurement"]), ("expert4", "评标专家 张敏", ["works", "other"]),
           ("expert5", "评标专家 陈刚", ["works", "procurement"])]


def demo_experts(centre, now) -> None:
    from accounts import auth
    from accounts.demo import DEMO_PASSWORD
    from accounts.models import Organisation
    from core.permissions import Role
    from tender import experts
    from tender.models import ExpertProfile
    bidder1 = db.session.scalar(select(User).where(User.username == "bidder1"))
    for username, name, categories in EXPERTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(organisation=db.session.get(Organisation, centre.organisation_id), username=username,
                        name=name, role=Role.EVALUATOR, email=f"{username}@demo.ggzy.example.cn", status="active",
                        password_hash=auth.hash_password(DEMO_PASSWORD), created_at=now, failed_logins=0, locked=False)
            db.session.add(user)
            db.session.flush()
        if db.session.scalar(select(ExpertProfile.id).where(ExpertProfile.user_id == user.id)) is None:
            linked = [bidder1.organisation.credit_code] if username == "expert5" and bidder1 else []
            experts.save_profile(centre, user, categories=categories, affiliations=linked, active=True, now=now)


# Imported history, so that the statistics dashboard has three years to show in a demo.
HISTORY_FIRST_PROJECT = "HIST-DEMO-0001"
_HISTORY_NAMES = {  # category: (name patterns, typical decline rate)
    "works": (["{d}道路提升改造工程", "{d}老旧小区改造工程", "{d}中小学校舍维修工程", "{d}河道综合整治工程",
               "{d}社区卫生服务中心新建工程"], 0.07),
    "procurement": (["{d}人民医院医疗设备采购", "{d}教育局教学信息化设备采购", "{d}政务服务中心办公家具采购",
                     "{d}公安分局执法车辆采购", "{d}图书馆图书采购"], 0.11),
    "other": (["{d}物业管理服务", "{d}园林绿化养护服务", "{d}公交站台广告经营权"], 0.09),
}
_HISTORY_METHODS = ["open"] * 12 + ["competitive_consultation"] * 3 + ["inquiry"] * 2 + \
    ["competitive_negotiation"] * 2 + ["invited"]


def history_csv(now, rows_per_month: int = 8) -> bytes:
    """A history file as a person would import it (tender.history.COLUMNS): the sections awarded or failed in
    Nanjing's districts month by month from January two years ago to last month. Deterministic."""
    import csv
    import io
    import random
    from datetime import date
    from decimal import Decimal

    from accounts import credit_code
    from accounts.models import Region
    from tender.history import COLUMNS
    rng = random.Random(2026)
    districts = db.session.execute(select(Region.code, Region.name_zh).where(Region.parent_code == "320100")
                                   .order_by(Region.code)).all() or [("320100", "南京市")]
    units = [credit_code.complete(f"113201{i:02d}466{j:06d}") for i in range(2, 19) for j in (100, 200)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    year, month, project = now.year - 2, 1, 0
    while (year, month) < (now.year, now.month):
        for _ in range(rows_per_month):
            project += 1
            code, district = rng.choice(districts)
            category = rng.choice(["works", "works", "procurement", "procurement", "other"])
            names, decline = _HISTORY_NAMES[category]
            name = rng.choice(names).format(d=district)
            method = rng.choice(_HISTORY_METHODS)
            unit = units[rng.randrange(len(units))]
            for number in range(1, rng.choice([1, 1, 1, 2]) + 1):
                base = Decimal(round(10 ** rng.uniform(5.3, 7.7), -2))
                failed = rng.random() < 0.06
                rate = min(max(rng.gauss(decline, 0.04), 0.0), 0.3)
                deal = "" if failed else f"{(base * Decimal(1 - rate)).quantize(Decimal('100')):.2f}"
                day = date(year, month, rng.randint(1, 28))
                writer.writerow([f"HIST-DEMO-{project:04d}", name, f"HIST-DEMO-{project:04d}-{number:02d}",
                                 f"第{number}标段", category, code, method, unit, f"{base:.2f}", deal, day.isoformat(),
                                 rng.randint(0, 2) if failed else rng.randint(3, 14)])
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out.getvalue().encode("utf-8")


def demo_history(now) -> None:
    """Imported once, through the import a person uses (tender.history), by nobody in particular."""
    from tender import history
    if db.session.scalar(select(Project.id).where(Project.code == HISTORY_FIRST_PROJECT)) is None:
        history.import_csv(None, history_csv(now), now)
