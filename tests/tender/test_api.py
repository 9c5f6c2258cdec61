"""/api/v1/tender as a client program meets it: a procuring unit registers and submits, the centre accepts
and publishes, bidders register, download (recorded), ask and read answers without learning who asked;
rooms; the historical import. Each route's main refusals answer with their status and reason code."""
import base64
import json
from datetime import date, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from tender import checklists, projects
from tender.models import Booking, Clarification, Download, Project, Room, Section
from tests.api.test_api import assert_error, bearer
from tests.tender.conftest import accept, make_project, publish

API = "/api/v1/tender"
PDF = b"%PDF-1.4\n% an API test document\n"
SECTION = {"name": "门诊楼改造 一标段", "method": "open", "base_amount": "1000000.00", "guarantee_amount": "20000.00",
           "bid_validity_days": 90, "evaluation_method": "lowest_price"}
PROJECT = {"name": "市人民医院门诊楼改造", "category": "works", "region_code": "320100", "sections": [SECTION]}


def b64(data: bytes = PDF) -> str:
    return base64.b64encode(data).decode()


def verdicts(project_id: int, **problems) -> dict:
    project = db.session.get(Project, project_id)
    return {i.key: {"verdict": problems.get(i.key, ("ok", ""))[0], "note": problems.get(i.key, ("ok", ""))[1]}
            for i in checklists.checklist(project.category)}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def headers(demo):
    """headers(username) -> a bearer token of that demo user, made once per test."""
    made = {}

    def _headers(username: str) -> dict:
        if username not in made:
            made[username] = bearer(demo[username])
        return made[username]

    return _headers


# Projects.

def test_a_procuring_unit_registers_a_project_and_only_it_and_the_staff_see_it(client, headers):
    created = client.post(f"{API}/projects", json=PROJECT, headers=headers("procuring"))
    assert created.status_code == 201, created.text
    project = created.get_json()
    assert project["status"] == "draft" and project["code"].startswith("P320100-")
    section = project["sections"][0]
    assert section["base_amount"] == "1000000.00" and section["guarantee_amount"] == "20000.00"
    assert section["code"] == f"{project['code']}-01" and section["region_code"] == "320100"
    assert {i["item"] for i in project["checklist"]} >= {"approval", "control_price"}
    assert client.get(f"{API}/projects/{project['id']}", headers=headers("procuring")).get_json()["name"] == PROJECT["name"]
    listed = client.get(f"{API}/projects", headers=headers("procuring")).get_json()
    assert [p["id"] for p in listed["projects"]] == [project["id"]] and listed["total"] == 1
    assert client.get(f"{API}/projects", headers=headers("procuring2")).get_json()["projects"] == []
    assert client.get(f"{API}/projects", headers=headers("centre")).get_json()["total"] == 1
    assert_error(client.get(f"{API}/projects/{project['id']}", headers=headers("procuring2")), 404, "not_found")
    assert_error(client.get(f"{API}/projects/{project['id']}", headers=headers("bidder1")), 404, "not_found")
    assert_error(client.get(f"{API}/projects", headers=headers("bidder1")), 403, "forbidden")
    assert_error(client.get(f"{API}/projects?status=lost", headers=headers("centre")), 400, "query_invalid")


def test_a_retry_with_the_same_key_returns_the_first_project_never_a_second(client, headers):
    keyed = headers("procuring") | {"Idempotency-Key": "project-2026-001"}
    first = client.post(f"{API}/projects", json=PROJECT, headers=keyed)
    again = client.post(f"{API}/projects", json=PROJECT, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count(Project) == 1 and count(Section) == 1
    other = client.post(f"{API}/projects", json={**PROJECT, "name": "另一个项目"}, headers=keyed)
    assert_error(other, 422, "idempotency_key_reused")
    assert count(Project) == 1


def test_a_project_with_one_bad_section_is_not_written_at_all(client, headers):
    body = {**PROJECT, "sections": [SECTION, {**SECTION, "base_amount": 1000.5}]}
    assert_error(client.post(f"{API}/projects", json=body, headers=headers("procuring")), 422, "base_amount_invalid")
    assert count(Project) == 0 and count(Section) == 0


@pytest.mark.parametrize("body, status, code", [
    ({**PROJECT, "sections": "one"}, 400, "sections_invalid"),
    ({**PROJECT, "green_channel": "yes"}, 400, "green_channel_invalid"),
    ({**PROJECT, "green_channel": True}, 422, "green_channel_reason"),
    ({**PROJECT, "category": "mining"}, 422, "category_invalid"),
    ({**PROJECT, "region_code": "999999"}, 422, "region_unknown"),
    ({**PROJECT, "sections": [{**SECTION, "guarantee_amount": "20000.01"}]}, 422, "guarantee_too_high"),
    ({**PROJECT, "sections": [{**SECTION, "bid_validity_days": 7}]}, 422, "bid_validity_invalid"),
    ({**PROJECT, "sections": [{**SECTION, "method": "lottery"}]}, 422, "method_invalid"),
    ({**PROJECT, "sections": [{"name": "只有名称"}]}, 422, "base_amount_invalid"),
    ({**PROJECT, "sections": [{**SECTION, "price_weight": 50, "technical_weight": 50, "commercial_weight": 10}]}, 422,
     "weights_invalid"),
    ({**PROJECT, "sections": [{**SECTION, "price_weight": 0, "technical_weight": 90, "commercial_weight": 10}]}, 422,
     "weights_invalid"),
    ({**PROJECT, "sections": [{**SECTION, "price_weight": 40}]}, 422, "weights_invalid"),
    ({**PROJECT, "sections": [{**SECTION, "price_weight": 40.5, "technical_weight": 49.5, "commercial_weight": 10}]},
     422, "weights_invalid"),
])
def test_bad_project_input_is_refused_with_its_code(client, headers, body, status, code):
    assert_error(client.post(f"{API}/projects", json=body, headers=headers("procuring")), status, code)
    assert count(Project) == 0


def test_only_a_procuring_unit_registers_projects(client, headers):
    assert_error(client.post(f"{API}/projects", json=PROJECT, headers=headers("bidder1")), 403, "forbidden")
    assert_error(client.post(f"{API}/projects", data="{", headers=headers("procuring") | {"Content-Type": "application/json"}),
                 400, "invalid_json")


def _draft(client, headers) -> dict:
    created = client.post(f"{API}/projects", json=PROJECT, headers=headers("procuring"))
    assert created.status_code == 201, created.text
    return created.get_json()


def _upload(client, headers, project_id: int, item: str, data: bytes = PDF, filename: str | None = None,
            who: str = "procuring"):
    return client.post(f"{API}/projects/{project_id}/documents?item={item}&filename={filename or item + '.pdf'}",
                       data=data, headers=headers(who) | {"Content-Type": "application/octet-stream"})


def test_sections_are_added_before_submission_only_and_only_by_the_unit(client, headers):
    project = _draft(client, headers)
    added = client.post(f"{API}/projects/{project['id']}/sections", json={**SECTION, "name": "二标段"},
                        headers=headers("procuring"))
    assert added.status_code == 201 and added.get_json()["code"].endswith("-02")
    assert added.get_json()["weights"] == {"price": 30, "technical": 60, "commercial": 10}  # none given: the defaults
    weighted = client.post(f"{API}/projects/{project['id']}/sections", headers=headers("procuring"), json={
        **SECTION, "name": "三标段", "price_weight": 40, "technical_weight": 45, "commercial_weight": 15})
    assert weighted.get_json()["weights"] == {"price": 40, "technical": 45, "commercial": 15}
    assert_error(client.post(f"{API}/projects/{project['id']}/sections", json=SECTION, headers=headers("procuring2")),
                 404, "not_found")
    assert_error(client.post(f"{API}/projects/{project['id']}/sections", json=SECTION, headers=headers("centre")),
                 403, "forbidden")
    for item in checklists.checklist("works"):
        assert _upload(client, headers, project["id"], item.key).status_code == 201
    assert client.post(f"{API}/projects/{project['id']}/submit", headers=headers("procuring")).status_code == 200
    assert_error(client.post(f"{API}/projects/{project['id']}/sections", json=SECTION, headers=headers("procuring")),
                 409, "project_locked")


def test_application_documents_are_uploaded_as_the_request_body(client, headers):
    project = _draft(client, headers)
    uploaded = _upload(client, headers, project["id"], "approval", filename="立项批复.pdf")
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.get_json()
    assert document["filename"] == "立项批复.pdf" and document["content_type"] == "application/pdf"
    assert document["size"] == len(PDF) and len(document["sha256"]) == 64
    assert client.get(f"{API}/projects/{project['id']}", headers=headers("procuring")).get_json()["documents"][0]["id"] \
        == document["id"]
    assert_error(_upload(client, headers, project["id"], "approval", b"MZ\x90\x00", "setup.exe"), 415, "document_type")
    assert_error(_upload(client, headers, project["id"], "approval", b"MZ\x90\x00", "fake.pdf"), 415, "document_content")
    assert_error(_upload(client, headers, project["id"], "horoscope"), 422, "checklist_item_unknown")
    assert_error(_upload(client, headers, project["id"], "approval", who="procuring2"), 404, "not_found")
    assert_error(_upload(client, headers, project["id"], "approval", who="bidder1"), 403, "forbidden")


def test_submission_follows_the_lifecycle(client, headers):
    project = _draft(client, headers)
    submitted = client.post(f"{API}/projects/{project['id']}/submit", headers=headers("procuring"))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["submitted_at"].endswith("+00:00")
    assert_error(client.post(f"{API}/projects/{project['id']}/submit", headers=headers("procuring")),
                 409, "project_transition_refused")
    assert_error(client.post(f"{API}/projects/{project['id']}/submit", headers=headers("procuring2")), 404, "not_found")
    empty = client.post(f"{API}/projects", json={**PROJECT, "sections": []}, headers=headers("procuring")).get_json()
    assert_error(client.post(f"{API}/projects/{empty['id']}/submit", headers=headers("procuring")), 422, "no_sections")


# Acceptance.

def test_the_queue_puts_green_channel_first_and_is_the_centres(client, headers, demo):
    ordinary = make_project(demo["procuring"], name="普通项目")
    green = make_project(demo["procuring2"], name="抢险项目", green=True)
    db.session.commit()
    for project, who in ((ordinary, "procuring"), (green, "procuring2")):
        assert client.post(f"{API}/projects/{project.id}/submit", headers=headers(who)).status_code == 200
    queue = client.get(f"{API}/acceptance-queue", headers=headers("centre")).get_json()
    assert [p["name"] for p in queue["projects"]] == ["抢险项目", "普通项目"]
    assert_error(client.get(f"{API}/acceptance-queue", headers=headers("procuring")), 403, "forbidden")
    assert_error(client.get(f"{API}/acceptance-queue?page=0", headers=headers("centre")), 400, "page_invalid")


def test_a_return_lists_every_finding_at_once(client, headers, submitted):
    body = {"outcome": "return", "comment": "请补正",
            "verdicts": verdicts(submitted.id, funding=("missing", ""), drawings=("defective", "缺少盖章页"))}
    decided = client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("centre"))
    assert decided.status_code == 201, decided.text
    review = decided.get_json()
    assert review["outcome"] == "returned" and review["project_status"] == "returned"
    assert {(f["item"], f["problem"], f["note"]) for f in review["findings"]} == {
        ("funding", "missing", ""), ("drawings", "defective", "缺少盖章页")}
    seen = client.get(f"{API}/projects/{submitted.id}", headers=headers("procuring")).get_json()
    assert seen["latest_review"]["id"] == review["id"] and len(seen["latest_review"]["findings"]) == 2
    assert_error(client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("centre")),
                 409, "project_transition_refused")


@pytest.mark.parametrize("change, status, code", [
    ({"verdicts": ["ok"]}, 400, "verdicts_invalid"),
    ({"verdicts": {"approval": "ok"}}, 400, "verdicts_invalid"),
    ({"verdicts": {}}, 422, "review_incomplete"),
    ({"outcome": "approve"}, 422, "outcome_invalid"),
    ({"comment": 5}, 400, "comment_invalid"),
    ({"outcome": "accept_with_gaps", "gaps_due": "next week"}, 400, "gaps_due_invalid"),
    ({"outcome": "accept_with_gaps", "gaps_due": "9999-12-31"}, 400, "gaps_due_invalid"),
    ({"outcome": "accept_with_gaps", "gaps_due": None}, 422, "no_findings"),
])
def test_bad_decisions_are_refused_and_change_nothing(client, headers, submitted, change, status, code):
    body = {"outcome": "accept", "verdicts": verdicts(submitted.id), **change}
    assert_error(client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("centre")),
                 status, code)
    db.session.expire_all()
    assert db.session.get(Project, submitted.id).status == "submitted"


def test_only_the_centre_decides(client, headers, submitted):
    body = {"outcome": "accept", "verdicts": verdicts(submitted.id)}
    assert_error(client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("procuring")),
                 403, "forbidden")
    assert_error(client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("admin")),
                 403, "forbidden")


def test_a_gap_is_supplied_by_the_unit_and_cleared_by_the_centre(client, headers, submitted, demo):
    due = (clock.today_local() + timedelta(days=5)).isoformat()
    body = {"outcome": "accept_with_gaps", "gaps_due": due, "verdicts": verdicts(submitted.id, drawings=("missing", ""))}
    review = client.post(f"{API}/projects/{submitted.id}/decision", json=body, headers=headers("centre")).get_json()
    assert review["project_status"] == "accepted_with_gaps" and review["gaps_due"] == due
    gap = review["findings"][0]["id"]
    clear = f"{API}/projects/{submitted.id}/gaps/{gap}/clear"
    assert_error(client.post(clear, headers=headers("centre")), 409, "gap_not_supplied")
    assert_error(client.post(clear, headers=headers("procuring")), 403, "forbidden")
    # Publication waits for the gap.
    section = submitted.sections[0].id
    assert_error(client.post(f"{API}/sections/{section}/publish", json=_publication(), headers=headers("centre")),
                 409, "gaps_open")
    assert_error(_upload(client, headers, submitted.id, "approval"), 409, "project_locked")
    assert _upload(client, headers, submitted.id, "drawings", PDF + b"stamped").status_code == 201
    # A finding of another project is not this project's gap.
    other = make_project(demo["procuring2"], name="另一个项目")
    db.session.commit()
    assert_error(client.post(f"{API}/projects/{other.id}/gaps/{gap}/clear", headers=headers("centre")), 404, "not_found")
    cleared = client.post(clear, headers=headers("centre"))
    assert cleared.status_code == 200 and cleared.get_json()["status"] == "accepted"
    assert cleared.get_json()["latest_review"]["findings"][0]["cleared_at"] is not None
    assert_error(client.post(clear, headers=headers("centre")), 409, "gap_not_open")


# Publication and the notice board.

def _publication(days: int = 21, **change) -> dict:
    return {"title": "门诊楼改造招标公告", "body": "公告正文", "deadline": (clock.now() + timedelta(days=days)).isoformat(),
            "documents": [{"filename": "招标文件.pdf", "content_base64": b64()}], **change}


def test_the_centre_publishes_a_notice_with_documents_in_base64(client, headers, submitted, demo):
    accept(demo["centre"], submitted)
    db.session.commit()
    section = submitted.sections[0].id
    deadline = (clock.local(clock.now()) + timedelta(days=21)).replace(microsecond=0)
    published = client.post(f"{API}/sections/{section}/publish", json=_publication(deadline=deadline.isoformat()),
                            headers=headers("centre"))
    assert published.status_code == 201, published.text
    notice = published.get_json()
    assert notice["kind"] == "tender" and notice["section"]["status"] == "published"
    assert notice["section"]["deadline"] == deadline.astimezone(timezone.utc).isoformat()
    assert notice["section"]["min_days"] == 20
    assert notice["documents"][0]["filename"] == "招标文件.pdf" and notice["documents"][0]["size"] == len(PDF)
    assert_error(client.post(f"{API}/sections/{section}/publish", json=_publication(), headers=headers("centre")),
                 409, "section_transition_refused")


@pytest.mark.parametrize("change, status, code", [
    ({"documents": [{"filename": "招标文件.pdf", "content_base64": "not base64!"}]}, 400, "document_base64_invalid"),
    ({"documents": "招标文件.pdf"}, 400, "documents_invalid"),
    ({"documents": []}, 422, "tender_documents_missing"),
    ({"deadline": "2026-06-30T09:00:00"}, 400, "deadline_invalid"),
    ({"deadline": "soon"}, 400, "deadline_invalid"),
    ({"deadline": None}, 422, "deadline_invalid"),
    ({"deadline": "9999-12-31T23:00:00+00:00"}, 400, "deadline_invalid"),
    ({"deadline": "0001-01-01T00:00:00+08:00"}, 400, "deadline_invalid"),
    ({"title": " "}, 422, "title_invalid"),
    ({"documents": [{"filename": "setup.exe", "content_base64": b64(b"MZ")}]}, 415, "document_type"),
])
def test_bad_publications_are_refused_and_publish_nothing(client, headers, submitted, demo, change, status, code):
    accept(demo["centre"], submitted)
    db.session.commit()
    section = submitted.sections[0].id
    assert_error(client.post(f"{API}/sections/{section}/publish", json=_publication(**change), headers=headers("centre")),
                 status, code)
    db.session.expire_all()
    assert db.session.get(Section, section).status == "accepted"


def test_the_statutory_period_and_the_role_are_enforced(client, headers, submitted, demo):
    accept(demo["centre"], submitted)
    db.session.commit()
    section = submitted.sections[0].id
    short = client.post(f"{API}/sections/{section}/publish", json=_publication(days=19), headers=headers("centre"))
    assert "20 calendar days" in assert_error(short, 422, "period_too_short")["message"]
    assert_error(client.post(f"{API}/sections/{section}/publish", json=_publication(), headers=headers("procuring")),
                 403, "forbidden")


def test_the_notice_board_searches_filters_and_pages(client, headers, demo):
    works = make_project(demo["procuring"], name="教学楼改造")
    goods = make_project(demo["procuring2"], name="医疗设备采购", category="procurement")
    hidden = make_project(demo["procuring"], name="尚未发布")
    for project, unit in ((works, demo["procuring"]), (goods, demo["procuring2"])):
        projects.submit(unit, project, clock.now())
        accept(demo["centre"], project)
        publish(demo["centre"], project.sections[0])
    db.session.commit()
    board = client.get(f"{API}/notices", headers=headers("bidder1")).get_json()
    assert {n["project_name"] for n in board["notices"]} == {"教学楼改造", "医疗设备采购"}
    assert hidden.name not in str(board)
    assert board["notices"][0]["title"].endswith("招标公告") and board["total"] == 2 and board["pages"] == 1
    only = client.get(f"{API}/notices?category=procurement", headers=headers("bidder1")).get_json()["notices"]
    assert [n["project_name"] for n in only] == ["医疗设备采购"]
    assert [n["project_name"] for n in client.get(f"{API}/notices?q=教学楼", headers=headers("bidder1"))
            .get_json()["notices"]] == ["教学楼改造"]
    assert client.get(f"{API}/notices?region=320100&method=open&status=published",
                      headers=headers("bidder1")).get_json()["total"] == 2
    assert client.get(f"{API}/notices?page=2", headers=headers("bidder1")).get_json()["notices"] == []
    assert_error(client.get(f"{API}/notices?region=nanjing", headers=headers("bidder1")), 400, "query_invalid")
    assert_error(client.get(f"{API}/notices?category=mining", headers=headers("bidder1")), 400, "query_invalid")
    assert_error(client.get(f"{API}/notices?category=works&category=other", headers=headers("bidder1")),
                 400, "query_invalid")
    assert_error(client.get(f"{API}/notices?page=x", headers=headers("bidder1")), 400, "page_invalid")
    assert_error(client.get(f"{API}/notices"), 401, "unauthenticated")


def test_a_published_section_is_public_a_draft_is_its_units(client, headers, published, demo):
    seen = client.get(f"{API}/sections/{published.id}", headers=headers("bidder2")).get_json()
    assert seen["status"] == "published" and seen["registered"] is False
    assert seen["notices"][0]["documents"][0]["filename"] == "招标文件.pdf"
    assert seen["deadline"] == published.deadline.isoformat()
    draft = make_project(demo["procuring2"], name="草稿项目").sections[0]
    db.session.commit()
    assert_error(client.get(f"{API}/sections/{draft.id}", headers=headers("bidder2")), 404, "not_found")
    assert_error(client.get(f"{API}/sections/{draft.id}", headers=headers("procuring")), 404, "not_found")
    assert client.get(f"{API}/sections/{draft.id}", headers=headers("procuring2")).get_json()["registered"] is None


# Bidders.

def _register(client, headers, section_id: int, who: str = "bidder1"):
    return client.post(f"{API}/sections/{section_id}/registrations", headers=headers(who))


def test_a_bidder_registers_once(client, headers, published, demo):
    registered = _register(client, headers, published.id)
    assert registered.status_code == 201
    assert registered.get_json()["organisation_id"] == demo["bidder1"].organisation_id
    assert client.get(f"{API}/sections/{published.id}", headers=headers("bidder1")).get_json()["registered"] is True
    assert_error(_register(client, headers, published.id), 409, "already_registered")
    assert_error(_register(client, headers, published.id, "procuring"), 403, "forbidden")
    draft = make_project(demo["procuring2"], name="草稿项目").sections[0]
    db.session.commit()
    assert_error(_register(client, headers, draft.id), 404, "not_found")
    with time_machine.travel(published.deadline + timedelta(minutes=1)):
        assert_error(_register(client, headers, published.id, "bidder2"), 409, "section_not_open")


def test_every_download_is_recorded_with_address_and_program(client, headers, published, demo):
    document = published.tender_notice.documents[0]
    url = f"{API}/sections/{published.id}/documents/{document.id}"
    agent = {"User-Agent": "eproc-bid/1.0 (bidtool)"}
    assert_error(client.get(url, headers=headers("bidder1") | agent), 403, "not_registered")
    assert count(Download) == 0
    _register(client, headers, published.id)
    got = client.get(url, headers=headers("bidder1") | agent, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert got.status_code == 200
    assert got.data.startswith(b"%PDF-") and got.mimetype == "application/pdf"
    assert "attachment" in got.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6.pdf" in got.headers["Content-Disposition"]
    row = db.session.scalars(select(Download)).one()
    assert (row.ip_address, row.user_agent) == ("203.0.113.7", "eproc-bid/1.0 (bidtool)")
    assert row.organisation_id == demo["bidder1"].organisation_id and row.document_id == document.id
    # A document is asked for under its own section only.
    other = make_project(demo["procuring2"], name="另一个项目")
    db.session.commit()
    assert_error(client.get(f"{API}/sections/{other.sections[0].id}/documents/{document.id}",
                            headers=headers("procuring2")), 404, "not_found")
    assert count(Download) == 1


# Clarifications and addenda.

def test_bidders_never_learn_who_asked(client, headers, published, demo):
    for bidder in ("bidder1", "bidder2"):
        _register(client, headers, published.id, bidder)
    url = f"{API}/sections/{published.id}/clarifications"
    asked = client.post(url, json={"question": "工期能否延长？"}, headers=headers("bidder1"))
    assert asked.status_code == 201 and asked.get_json()["mine"] is True
    question = asked.get_json()["id"]
    # Unanswered, it is the asker's alone.
    assert client.get(url, headers=headers("bidder2")).get_json()["clarifications"] == []
    assert [c["id"] for c in client.get(url, headers=headers("procuring")).get_json()["clarifications"]] == [question]
    answered = client.post(f"{API}/clarifications/{question}/answer", json={"answer": "不可以。"},
                           headers=headers("procuring"))
    assert answered.status_code == 200 and answered.get_json()["answer"] == "不可以。"
    seen = client.get(url, headers=headers("bidder2"))
    [row] = seen.get_json()["clarifications"]
    assert row == {"id": question, "section_id": published.id, "question": "工期能否延长？", "answer": "不可以。",
                   "asked_at": row["asked_at"], "answered_at": row["answered_at"], "mine": False}
    asker = demo["bidder1"]
    text = json.dumps(seen.get_json(), ensure_ascii=False)
    for trace in (asker.username, asker.name, asker.organisation.name, asker.organisation.credit_code):
        assert trace not in text
    assert client.get(url, headers=headers("bidder1")).get_json()["clarifications"][0]["mine"] is True


def test_questions_and_answers_are_refused_where_they_do_not_belong(client, headers, published):
    url = f"{API}/sections/{published.id}/clarifications"
    assert_error(client.get(url, headers=headers("bidder1")), 403, "not_registered")
    assert_error(client.post(url, json={"question": "?"}, headers=headers("bidder1")), 403, "not_registered")
    _register(client, headers, published.id)
    assert_error(client.post(url, json={"question": " "}, headers=headers("bidder1")), 422, "question_invalid")
    assert_error(client.post(url, json={"question": ["?"]}, headers=headers("bidder1")), 400, "question_invalid")
    assert_error(client.post(url, json={"question": "?"}, headers=headers("procuring")), 403, "forbidden")
    question = client.post(url, json={"question": "可否提供图纸电子版？"}, headers=headers("bidder1")).get_json()["id"]
    answer = f"{API}/clarifications/{question}/answer"
    assert_error(client.post(answer, json={"answer": "可以。"}, headers=headers("procuring2")), 404, "not_found")
    assert_error(client.post(answer, json={"answer": "可以。"}, headers=headers("bidder1")), 403, "forbidden")
    assert_error(client.post(answer, json={"answer": ""}, headers=headers("centre")), 422, "answer_invalid")
    assert client.post(answer, json={"answer": "可以。"}, headers=headers("centre")).status_code == 200
    assert_error(client.post(answer, json={"answer": "再答一次"}, headers=headers("centre")), 409, "already_answered")
    assert db.session.get(Clarification, question).answer == "可以。"


def test_an_addendum_close_to_the_deadline_moves_it(client, headers, published):
    url, original = f"{API}/sections/{published.id}/addenda", published.deadline.isoformat()
    body = {"title": "补遗一", "body": "工期调整", "documents": [{"filename": "补遗.pdf", "content_base64": b64()}]}
    far = client.post(url, json=body, headers=headers("procuring"))
    assert far.status_code == 201 and far.get_json()["deadline_after"] is None
    with time_machine.travel(clock.now() + timedelta(days=10)):
        near = client.post(url, json={**body, "title": "补遗二"}, headers=headers("centre"))
        assert near.status_code == 201, near.text
        moved = near.get_json()
        assert moved["deadline_before"] == original
        # 15 days must remain after the addendum: the deadline moves at its usual Beijing hour.
        new_deadline = moved["section"]["deadline"]
        assert new_deadline == moved["deadline_after"] == published.deadline.isoformat() > original
    assert_error(client.post(url, json={**body, "documents": [{"filename": "x.pdf", "content_base64": "%%%"}]},
                             headers=headers("centre")), 400, "document_base64_invalid")
    assert_error(client.post(url, json=body, headers=headers("bidder1")), 403, "forbidden")
    assert_error(client.post(url, json=body, headers=headers("procuring2")), 404, "not_found")
    with time_machine.travel(published.deadline + timedelta(hours=1)):
        assert_error(client.post(url, json=body, headers=headers("centre")), 409, "section_not_open")


# Rooms.

def test_rooms_are_booked_without_overlaps(client, headers, published):
    created = client.post(f"{API}/rooms", json={"name": "第一开标室", "kind": "opening", "seats": 40},
                          headers=headers("centre"))
    assert created.status_code == 201
    room = created.get_json()["id"]
    assert_error(client.post(f"{API}/rooms", json={"name": "第一开标室", "kind": "opening"}, headers=headers("centre")),
                 409, "room_exists")
    assert_error(client.post(f"{API}/rooms", json={"name": "x", "kind": "kitchen"}, headers=headers("centre")),
                 422, "room_kind_invalid")
    assert_error(client.post(f"{API}/rooms", json={"name": "x", "kind": "opening"}, headers=headers("procuring")),
                 403, "forbidden")
    start = clock.local(published.deadline)
    slot = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(), "purpose": "开标",
            "section_id": published.id}
    booked = client.post(f"{API}/rooms/{room}/bookings", json=slot, headers=headers("centre"))
    assert booked.status_code == 201, booked.text
    booking = booked.get_json()
    assert booking["section_id"] == published.id and booking["starts_at"] == published.deadline.isoformat()
    overlap = {**slot, "starts_at": (start + timedelta(hours=1)).isoformat(),
               "ends_at": (start + timedelta(hours=3)).isoformat()}
    assert "Beijing time" in assert_error(client.post(f"{API}/rooms/{room}/bookings", json=overlap,
                                                      headers=headers("centre")), 409, "room_taken")["message"]
    for change, status, code in (({"starts_at": "2026-06-01T09:00:00"}, 400, "starts_at_invalid"),
                                 ({"section_id": 10 ** 9}, 422, "section_unknown"),
                                 ({"section_id": "1"}, 400, "section_id_invalid"),
                                 ({"ends_at": slot["starts_at"]}, 422, "booking_times_invalid")):
        assert_error(client.post(f"{API}/rooms/{room}/bookings", json={**slot, **change}, headers=headers("centre")),
                     status, code)
    assert_error(client.post(f"{API}/rooms/{room}/bookings", json=slot, headers=headers("admin")), 403, "forbidden")
    assert_error(client.post(f"{API}/rooms/{10 ** 9}/bookings", json=slot, headers=headers("centre")), 404, "not_found")
    listed = client.get(f"{API}/rooms", headers=headers("supervisor")).get_json()
    assert [r["name"] for r in listed["rooms"]] == ["第一开标室"] and [b["id"] for b in listed["bookings"]] == [booking["id"]]
    cancelled = client.delete(f"{API}/bookings/{booking['id']}", headers=headers("centre"))
    assert cancelled.status_code == 200 and cancelled.get_json()["cancelled_at"] is not None
    assert_error(client.delete(f"{API}/bookings/{booking['id']}", headers=headers("centre")), 409, "booking_cancelled")
    assert_error(client.delete(f"{API}/bookings/{booking['id']}", headers=headers("procuring")), 403, "forbidden")
    # The slot is free again.
    assert client.post(f"{API}/rooms/{room}/bookings", json=overlap, headers=headers("centre")).status_code == 201
    assert count(Booking) == 2 and count(Room) == 1


# The historical import.

HEADER = ("project_code,project_name,section_code,section_name,category,region_code,method,"
          "procuring_unit_credit_code,base_amount,deal_amount,award_date,bidder_count\n")


def test_a_historical_import_reports_what_it_made(client, headers, demo):
    code = demo["procuring"].organisation.credit_code
    csv = (HEADER + f"H2023-001,老城区道路改造,H2023-001-01,一标段,工程建设,320100,公开招标,{code},5000000.00,4800000.00,2023-06-30,7\n"
           f"H2023-001,老城区道路改造,H2023-001-02,二标段,works,320100,open,{code},3000000.00,,2023-07-15,1\n")
    imported = client.post(f"{API}/history/imports", data=csv.encode(), headers=headers("admin") | {"Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.text
    assert imported.get_json() == {"rows": 2, "projects": 1, "sections": 2, "failed": 1}
    section = db.session.scalars(select(Section).where(Section.code == "H2023-001-01")).one()
    assert section.deal_amount == 4800000 and section.award_date == date(2023, 6, 30)


def test_an_import_with_a_bad_row_changes_nothing_and_names_every_bad_line(client, headers, demo):
    code = demo["procuring"].organisation.credit_code
    csv = (HEADER + f"H2023-002,桥梁维修,H2023-002-01,一标段,works,320100,open,{code},100.00,90.00,2023-01-05,3\n"
           f"H2023-002,桥梁维修,H2023-002-02,二标段,mining,320100,open,{code},100.00,abc,2023-13-01,3\n")
    refused = client.post(f"{API}/history/imports", data=csv.encode(), headers=headers("admin") | {"Content-Type": "text/csv"})
    error = assert_error(refused, 422, "import_refused")
    assert {line["line"] for line in error["lines"]} == {3}
    messages = " ".join(line["message"] for line in error["lines"])
    assert "category 'mining'" in messages and "deal_amount 'abc'" in messages and "award_date '2023-13-01'" in messages
    assert count(Project) == 0 and count(Section) == 0
    assert_error(client.post(f"{API}/history/imports", data=csv.encode(), headers=headers("centre")), 403, "forbidden")
