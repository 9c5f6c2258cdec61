"""Projects and sections at each stage, made through the services as a procuring unit and the centre would."""
from datetime import timedelta

import pytest

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


@pytest.fixture
def submitted(demo):
    project = make_project(demo["procuring"])
    projects.submit(demo["procuring"], project, clock.now())
    db.session.commit()
    return project


@pytest.fixture
def published(demo, submitted):
    accept(demo["centre"], submitted)
    publish(demo["centre"], submitted.sections[0])
    db.session.commit()
    return submitted.sections[0]
