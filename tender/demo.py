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
    if db.session.scalar(select(Project.id).where(Project.name == DEMO_PROJECT)) is not None:
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
