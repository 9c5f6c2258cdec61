"""The tender pages as the people using them see them: a unit registers and submits, the centre reviews
and publishes, anyone reads the notice board."""
import io
import re
from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.extensions import db
from tender import checklists
from tender.models import Project, Section
from tests.tender.factories import PDF, make_project, publish, accept


def upload(client, project_id, item, name="x.pdf", data=PDF):
    return client.post(f"/tender/projects/{project_id}/documents",
                       data={"document-item": item, "document-file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_unit_registers_a_project_with_a_section_and_documents_and_submits_it(login, demo):
    unit = login("procuring")
    answer = unit.post("/tender/projects/new", data={"name": "区图书馆修缮", "category": "works",
                                                     "region_code": "320102"})
    assert answer.status_code == 302
    project = db.session.scalars(select(Project)).one()
    page = unit.post(f"/tender/projects/{project.id}/sections", data={
        "section-name": "施工标段", "section-method": "open", "section-base_amount": "2,000,000.00",
        "section-guarantee_amount": "50000", "section-bid_validity_days": "90",
        "section-evaluation_method": "lowest_price"})
    assert page.status_code == 422 and "may not exceed 2%" in page.text  # the form is shown again, filled in
    assert 'value="施工标段"' in page.text
    unit.post(f"/tender/projects/{project.id}/sections", data={
        "section-name": "施工标段", "section-method": "open", "section-base_amount": "2,000,000.00",
        "section-guarantee_amount": "40000", "section-bid_validity_days": "90",
        "section-evaluation_method": "lowest_price"})
    refused = upload(unit, project.id, "approval", "virus.exe", b"MZ")
    assert refused.status_code == 415 and "Files of this type are not accepted" in refused.text
    for item in checklists.checklist("works"):
        assert upload(unit, project.id, item.key, f"{item.key}.pdf").status_code == 302
    assert unit.post(f"/tender/projects/{project.id}/submit").status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.status == "submitted" and project.sections[0].base_amount == 2000000
    page = unit.get(f"/tender/projects/{project.id}").text
    assert "submitted for acceptance" in page and "Submit for acceptance" not in page


def test_the_unit_sets_the_scoring_weights_of_a_section_and_bidders_read_them_on_the_notice(login, demo):
    from core.models import JournalEntry
    project = make_project(demo["procuring"])
    db.session.commit()
    unit = login("procuring")
    fields = {"section-name": "设计标段", "section-method": "open", "section-base_amount": "800000.00",
              "section-guarantee_amount": "10000", "section-bid_validity_days": "90",
              "section-evaluation_method": "comprehensive"}
    page = unit.post(f"/tender/projects/{project.id}/sections", data={
        **fields, "section-price_weight": "40", "section-technical_weight": "50", "section-commercial_weight": "5"})
    assert page.status_code == 422 and "add up to 100" in page.text  # 95: refused, the form shown again
    assert unit.post(f"/tender/projects/{project.id}/sections", data={
        **fields, "section-price_weight": "40", "section-technical_weight": "50",
        "section-commercial_weight": "10"}).status_code == 302
    section = db.session.scalars(select(Section).where(Section.name == "设计标段")).one()
    assert (section.price_weight, section.technical_weight, section.commercial_weight) == (40, 50, 10)
    created = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "tender.section.created")
                                 .order_by(JournalEntry.seq.desc())).first()
    assert '"weights":{"commercial":10,"price":40,"technical":50}' in created.payload
    from tender import projects
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    publish(demo["centre"], section)
    db.session.commit()
    notice = login("bidder1").get(f"/tender/notices/{section.id}").text
    weights = re.search(r'id="weights">([^<]*)<', notice).group(1)
    assert [int(n) for n in re.findall(r"\d+", weights)] == [40, 50, 10]


def test_the_centre_returns_with_every_finding_then_accepts_and_publishes(login, demo):
    project = make_project(demo["procuring"])
    from tender import projects
    projects.submit(demo["procuring"], project, clock.now())
    db.session.commit()
    centre = login("centre")
    assert project.name in centre.get("/tender/acceptance").text
    form = {f"verdict-{i.key}": "ok" for i in checklists.checklist("works")}
    page = centre.post(f"/tender/projects/{project.id}/review",
                       data={**form, "verdict-funding": "missing", "verdict-drawings": "defective", "outcome": "return"})
    assert page.status_code == 422 and "Say what is wrong with" in page.text
    assert centre.post(f"/tender/projects/{project.id}/review",
                       data={**form, "verdict-funding": "missing", "verdict-drawings": "defective",
                             "note-drawings": "缺图签", "outcome": "return"}).status_code == 302
    unit_page = login("procuring").get(f"/tender/projects/{project.id}").text
    assert "Proof that the funds are in place" in unit_page and "缺图签" in unit_page
    projects.submit(demo["procuring"], db.session.get(Project, project.id), clock.now())
    db.session.commit()
    assert centre.post(f"/tender/projects/{project.id}/review", data={**form, "outcome": "accept"}).status_code == 302
    section = db.session.get(Project, project.id).sections[0]
    too_soon = (clock.local(clock.now()) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    data = {"title": "招标公告", "body": "正文", "deadline": too_soon, "documents": (io.BytesIO(PDF), "招标文件.pdf")}
    page = centre.post(f"/tender/sections/{section.id}/publish", data=data, content_type="multipart/form-data")
    assert page.status_code == 422 and "at least 20 calendar days" in page.text
    later = (clock.local(clock.now()) + timedelta(days=21)).replace(hour=9, minute=30)
    data = {**data, "deadline": later.strftime("%Y-%m-%dT%H:%M"), "documents": (io.BytesIO(PDF), "招标文件.pdf")}
    answer = centre.post(f"/tender/sections/{section.id}/publish", data=data, content_type="multipart/form-data")
    assert answer.status_code == 302
    db.session.expire_all()
    section = db.session.get(Section, section.id)
    assert clock.local(section.deadline).strftime("%H:%M") == "09:30", "typed in Beijing time"
    notice = login("bidder1").get(f"/tender/notices/{section.id}").text
    assert later.strftime("%Y-%m-%d 09:30") in notice and "Register for this section" in notice


def test_the_notice_board_is_public_with_search_filters_and_pages(client, demo):
    now = clock.now()
    for i in range(23):
        project = make_project(demo["procuring"], name=f"项目{i:02d}", category="procurement" if i % 2 else "works")
        from tender import projects
        projects.submit(demo["procuring"], project, now)
        accept(demo["centre"], project, now)
        publish(demo["centre"], project.sections[0], now=now + timedelta(minutes=i))
    db.session.commit()
    first = client.get("/tender/notices")
    assert first.status_code == 200 and "23 notices" in first.text and "项目22" in first.text and "项目02" not in first.text
    second = client.get("/tender/notices?page=2")
    assert "项目02" in second.text
    works = client.get("/tender/notices?category=works&q=项目1")
    assert "5 notices" in works.text  # 项目10, 12, 14, 16 and 18
    assert client.get("/tender/notices?region=320100").text.count("<tr>") > 1
    assert "No notice matches." in client.get("/tender/notices?region=320500").text
    assert client.get("/tender/notices?page=99").status_code == 200
    section = db.session.scalars(select(Section)).first()
    assert client.get(f"/tender/notices/{section.id}").status_code == 200
    assert "Sign in to register" in client.get(f"/tender/notices/{section.id}").text


def test_an_unpublished_section_has_no_public_page(client, demo):
    project = make_project(demo["procuring"])
    db.session.commit()
    assert client.get(f"/tender/notices/{project.sections[0].id}").status_code == 404


def test_who_registered_stays_hidden_from_the_unit_until_the_deadline(login, demo, published):
    from tender import participation
    participation.register(demo["bidder1"], published, clock.now())
    db.session.commit()
    unit_page = login("procuring").get(f"/tender/sections/{published.id}").text
    assert demo["bidder1"].organisation.name not in unit_page and "stays confidential" in unit_page
    assert demo["bidder1"].organisation.name in login("centre").get(f"/tender/sections/{published.id}").text
    assert demo["bidder1"].organisation.name in login("supervisor").get(f"/tender/sections/{published.id}").text


def test_the_minimum_periods_are_settings_per_category_and_method(login):
    page = login("admin").get("/admin/settings").text
    assert "tender.min_days.procurement.competitive_consultation" in page
    assert "Minimum calendar days from publication to bid deadline: Works (工程建设), Open tender (公开招标)" in page


def test_the_beat_task_closes_sections_at_their_deadline(app, demo, published):
    import time_machine
    from tender.tasks import close_due_sections
    deadline, section_id = published.deadline, published.id
    db.session.commit()
    with time_machine.travel(deadline, tick=False):
        assert close_due_sections() == 1  # the task's own body, as the worker runs it
    db.session.expire_all()
    assert db.session.get(Section, section_id).status == "closed"
