"""Projects and sections at each stage, made through the services as a procuring unit and the centre would."""
from datetime import timedelta

from core import clock
from core.extensions import db
from tender import acceptance, checklists, projects, publication

PDF = b"%PDF-1.4\n% a tender document\n"


def pdf(name: str = "doc.pdf", text: str = "") -> tuple[str, bytes]:
    return name, PDF + text.encode()


SECTION = {"name": "教学楼改造 一标段", "method": "open", "base_amount": "1000000.00", "guarantee_amount": "20000.00",
           "bid_validity_days": 90, "evaluation_method": "lowest_price"}


def make_project(user, *, name="南京市第一中学教学楼改造", category="works", green=False, sections=1, now=None):
    now = now or clock.now()
    project = projects.create(user, name=name, category=category, region_code="320100", green_channel=green,
                              green_channel_reason="抢险救灾" if green else "",
                              sections=[{**SECTION, "name": f"{name} {i + 1}标段"} for i in range(sections)], now=now)
    for item in checklists.checklist(category):
        projects.add_document(user, project, item.key, f"{item.key}.pdf", PDF + item.key.encode(), now)
    return project


def all_ok(project) -> dict:
    return {i.key: ("ok", "") for i in checklists.checklist(project.category)}


def accept(centre, project, now=None):
    acceptance.decide(centre, project, outcome="accept", verdicts=all_ok(project), now=now or clock.now())


def publish(centre, section, *, days=21, now=None):
    now = now or clock.now()
    return publication.publish(centre, section, title=f"{section.name} 招标公告", body="公告正文",
                               deadline=now + timedelta(days=days), documents=[pdf("招标文件.pdf")], now=now)


class Scenario:
    """What the tender routes take ids of, for one procuring ``unit`` and one ``bidder``, made through the
    services: project A with a published section (a tender document, ``bidder`` registered and asking a
    question, a room booked for the opening), an accepted section waiting for publication and a failed
    one, and a finding of an earlier return; project B accepted with a gap the unit has supplied."""

    def __init__(self, demo, unit, bidder):
        from tender import participation, rooms
        centre, now = demo["centre"], clock.now()
        self.project = make_project(unit, name=f"{unit.username} 项目", sections=3)
        projects.submit(unit, self.project, now)
        verdicts = {**all_ok(self.project), "funding": ("missing", "")}
        self.finding = acceptance.decide(centre, self.project, outcome="return", verdicts=verdicts,
                                         now=now).findings[0]
        projects.submit(unit, self.project, now)
        accept(centre, self.project, now)
        self.section, self.unpublished, self.failed = self.project.sections
        self.notice = publish(centre, self.section, now=now)
        publish(centre, self.failed, now=now)
        publication.move(None, self.failed, "close", now)
        publication.fail(centre, self.failed, "无人投标", now)
        self.project_document = self.project.documents[0]
        self.notice_document = self.notice.documents[0]
        participation.register(bidder, self.section, now)
        self.clarification = participation.ask(bidder, self.section, "工期能否延长？", now)
        self.room = rooms.create_room(centre, f"开标室 {unit.username}", "opening", 30, now)
        self.booking = rooms.book(centre, self.room, starts_at=self.section.deadline,
                                  ends_at=self.section.deadline + timedelta(hours=2), purpose="开标",
                                  section=self.section, now=now)
        self.gapped = make_project(unit, name=f"{unit.username} 容缺项目")
        projects.submit(unit, self.gapped, now)
        acceptance.decide(centre, self.gapped, outcome="accept_with_gaps",
                          verdicts={**all_ok(self.gapped), "drawings": ("missing", "")},
                          gaps_due=clock.today_local() + timedelta(days=5), now=now)
        self.gap = self.gapped.open_gaps()[0]
        projects.add_document(unit, self.gapped, "drawings", "drawings.pdf", PDF + b"supplied", now)
        db.session.commit()

    IDS = {"project_id", "section_id", "finding_id", "clarification_id", "room_id", "booking_id", "document_id"}

    def object_for(self, name: str, rule: str):
        """The object a route's id names: each route gets one it can act on."""
        if "/gaps/" in rule:
            return {"project_id": self.gapped, "finding_id": self.gap}[name]
        if name == "document_id":
            return self.project_document if "/projects/" in rule else self.notice_document
        if name == "section_id" and "/publish" in rule:
            return self.unpublished
        if name == "section_id" and "/retender" in rule:
            return self.failed
        return getattr(self, name.removesuffix("_id"))
