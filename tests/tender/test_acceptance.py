"""Registration and acceptance: the checklist judged at once, returns that list everything, gaps that block
publication until supplied, and the queue's order."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.errors import DomainError
from core.extensions import db
from core.models import DeadlineWarning, Notification
from tender import acceptance, projects, publication
from tests.tender.factories import PDF, SECTION, accept, all_ok, make_project, pdf, publish


def codes(call):
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.code


def test_a_project_is_created_with_its_sections_and_a_code(demo):
    project = make_project(demo["procuring"], sections=2)
    assert project.code.startswith("P320100-")
    assert [s.code for s in project.sections] == [f"{project.code}-01", f"{project.code}-02"]
    assert all(s.status == "draft" and s.category == "works" for s in project.sections)


@pytest.mark.parametrize("field, value, code", [
    ("name", "  ", "name_invalid"), ("method", "lottery", "method_invalid"),
    ("base_amount", "12.345", "base_amount_invalid"), ("base_amount", "0", "base_amount_invalid"),
    ("base_amount", "-5", "base_amount_invalid"), ("base_amount", "abc", "base_amount_invalid"),
    ("guarantee_amount", "", "guarantee_amount_invalid"), ("guarantee_amount", "20000.01", "guarantee_too_high"),
    ("bid_validity_days", 7, "bid_validity_invalid"), ("evaluation_method", "coin", "evaluation_method_invalid"),
    ("region_code", "999999", "region_unknown"),
])
def test_bad_section_fields_are_refused_with_their_code(demo, field, value, code):
    project = projects.create(demo["procuring"], name="项目", category="works", region_code="320100", now=clock.now())
    assert codes(lambda: projects.add_section(demo["procuring"], project, now=clock.now(),
                                              **{**SECTION, field: value})) == code


def test_only_a_procuring_unit_registers_and_green_channel_needs_a_reason(demo):
    assert codes(lambda: projects.create(demo["bidder1"], name="x", category="works", region_code="320100",
                                         now=clock.now())) == "not_procuring_unit"
    assert codes(lambda: projects.create(demo["procuring"], name="x", category="works", region_code="320100",
                                         green_channel=True, now=clock.now())) == "green_channel_reason"
    assert codes(lambda: projects.create(demo["procuring"], name="x", category="mining", region_code="320100",
                                         now=clock.now())) == "category_invalid"


@pytest.mark.parametrize("filename, data, code", [
    ("a.exe", b"MZ...", "document_type"), ("a.pdf", b"MZ not a pdf", "document_content"),
    ("a.pdf", b"", "document_empty"), ("", PDF, "document_missing"),
])
def test_documents_are_checked_before_they_are_stored(demo, filename, data, code):
    project = projects.create(demo["procuring"], name="x", category="works", region_code="320100", now=clock.now())
    assert codes(lambda: projects.add_document(demo["procuring"], project, "approval", filename, data,
                                               clock.now())) == code


def test_a_document_over_the_size_limit_is_refused(app, demo):
    project = projects.create(demo["procuring"], name="x", category="works", region_code="320100", now=clock.now())
    app.config["DOCUMENT_MAX_BYTES"] = 100
    try:
        assert codes(lambda: projects.add_document(demo["procuring"], project, "approval", "a.pdf", PDF + b"x" * 100,
                                                   clock.now())) == "document_too_large"
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = 50 * 1024 * 1024


def test_a_project_without_sections_cannot_be_submitted(demo):
    project = projects.create(demo["procuring"], name="x", category="works", region_code="320100", now=clock.now())
    assert codes(lambda: projects.submit(demo["procuring"], project, clock.now())) == "no_sections"


def test_the_queue_puts_green_channel_first_then_first_come(demo):
    now = clock.now()
    ordinary = make_project(demo["procuring"], name="普通项目")
    projects.submit(demo["procuring"], ordinary, now)
    green = make_project(demo["procuring2"], name="抢险项目", green=True)
    projects.submit(demo["procuring2"], green, now + timedelta(minutes=5))
    later = make_project(demo["procuring"], name="后来项目")
    projects.submit(demo["procuring"], later, now + timedelta(minutes=10))
    assert [p.name for p in db.session.scalars(acceptance.queue())] == ["抢险项目", "普通项目", "后来项目"]


def test_a_return_lists_every_finding_at_once(demo, submitted):
    verdicts = {**all_ok(submitted), "funding": ("missing", ""), "drawings": ("defective", "缺少盖章页")}
    review = acceptance.decide(demo["centre"], submitted, outcome="return", verdicts=verdicts, comment="请补正",
                               now=clock.now())
    assert submitted.status == "returned" and submitted.sections[0].status == "returned"
    assert {(f.item, f.problem) for f in review.findings} == {("funding", "missing"), ("drawings", "defective")}
    notice = db.session.scalars(select(Notification).where(Notification.kind == "project_returned")).one()
    # Written by the service outside any request: in the platform's default language, Chinese.
    assert "资金落实证明: 缺失" in notice.body and "施工图审查合格书: 有误 — 缺少盖章页" in notice.body
    # The unit corrects and submits again.
    projects.add_document(demo["procuring"], submitted, "funding", "funds.pdf", PDF, clock.now())
    projects.submit(demo["procuring"], submitted, clock.now())
    assert submitted.status == "submitted"


@pytest.mark.parametrize("outcome, verdicts, code", [
    ("accept", {"drawings": ("missing", "")}, "findings_present"),
    ("return", {}, "no_findings"),
    ("accept_with_gaps", {}, "no_findings"),
    ("accept_with_gaps", {"funding": ("missing", "")}, "critical_gap"),
    ("accept", {"drawings": ("defective", "")}, "note_required"),
    ("accept", {"drawings": ("maybe", "")}, "verdict_invalid"),
    ("approve", {}, "outcome_invalid"),
])
def test_decisions_that_break_the_rules_are_refused(demo, submitted, outcome, verdicts, code):
    assert codes(lambda: acceptance.decide(demo["centre"], submitted, outcome=outcome,
                                           verdicts={**all_ok(submitted), **verdicts},
                                           gaps_due=clock.today_local() + timedelta(days=5), now=clock.now())) == code
    assert submitted.status == "submitted"


def test_every_item_must_be_judged(demo, submitted):
    verdicts = all_ok(submitted)
    del verdicts["approval"]
    assert codes(lambda: acceptance.decide(demo["centre"], submitted, outcome="accept", verdicts=verdicts,
                                           now=clock.now())) == "review_incomplete"


@pytest.mark.parametrize("due", [None, "today"])
def test_gaps_need_a_due_date_after_today(demo, submitted, due):
    verdicts = {**all_ok(submitted), "drawings": ("missing", "")}
    due = clock.today_local() if due == "today" else None
    assert codes(lambda: acceptance.decide(demo["centre"], submitted, outcome="accept_with_gaps",
                                           verdicts=verdicts, gaps_due=due, now=clock.now())) == "gaps_due_invalid"


def test_an_open_gap_blocks_publication_until_supplied_and_cleared(demo, submitted):
    centre, unit = demo["centre"], demo["procuring"]
    due = clock.today_local() + timedelta(days=5)
    acceptance.decide(centre, submitted, outcome="accept_with_gaps",
                      verdicts={**all_ok(submitted), "drawings": ("missing", "")}, gaps_due=due, now=clock.now())
    assert submitted.status == "accepted_with_gaps"
    section = submitted.sections[0]
    assert codes(lambda: publish(centre, section)) == "gaps_open"
    # A reminder is scheduled for the day before the due date.
    warning = db.session.scalars(select(DeadlineWarning)).one()
    assert warning.deadline == acceptance.gaps_deadline(due)
    assert warning.warn_at == warning.deadline - timedelta(days=1)
    gap = submitted.open_gaps()[0]
    assert codes(lambda: acceptance.clear_gap(centre, submitted, gap, clock.now())) == "gap_not_supplied"
    # Only the gap's item may be uploaded now.
    assert codes(lambda: projects.add_document(unit, submitted, "approval", "a.pdf", PDF, clock.now())) == "project_locked"
    projects.add_document(unit, submitted, "drawings", "drawings.pdf", PDF + b"stamped", clock.now())
    acceptance.clear_gap(centre, submitted, gap, clock.now())
    assert submitted.status == "accepted" and section.status == "accepted"
    assert db.session.get(DeadlineWarning, warning.id).cancelled_at is not None
    assert publish(centre, section).kind == "tender"
    assert section.status == "published"


def test_publication_enforces_the_minimum_period_from_the_settings(demo, submitted):
    from core import settings
    centre = demo["centre"]
    accept(centre, submitted)
    section = submitted.sections[0]
    now = clock.now()
    refused = pytest.raises(DomainError, publication.publish, centre, section, title="t", body="b",
                            deadline=now + timedelta(days=19, hours=23), documents=[pdf()], now=now)
    assert refused.value.code == "period_too_short" and "至少 20 个日历日" in refused.value.message
    settings.change(demo["admin"], "tender.min_days.works.open", "25", None, "新规", now)
    assert codes(lambda: publish(centre, section, days=21, now=now)) == "period_too_short"
    assert codes(lambda: publication.publish(centre, section, title="t", body="b", deadline=now + timedelta(days=30),
                                             documents=[], now=now)) == "tender_documents_missing"
    notice = publish(centre, section, days=25, now=now)
    assert section.min_days == 25 and notice.documents[0].filename == "招标文件.pdf"
