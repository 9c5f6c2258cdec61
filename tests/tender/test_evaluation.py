"""Evaluation: ready only after the sealed record's objection window, the committee draw (回避, a pool too
small, replayed from the journal), lowest price and comprehensive scoring worked by hand, sign-offs and the
sealed report, and the publicity of the candidates."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock, seal
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry, Notification
from tender import evaluation, experts
from tender.models import RecordResponse
from tests.tender.evaluation_factories import Opened, evaluate, make_expert, make_pool


def entries(action: str, subject_id) -> list[dict]:
    rows = db.session.scalars(select(JournalEntry).where(JournalEntry.action == action,
                                                         JournalEntry.subject_id == str(subject_id))
                              .order_by(JournalEntry.seq))
    return [json.loads(row.payload) for row in rows]


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_evaluation_waits_for_the_sealed_record_its_objection_window_and_the_answers(demo, published):
    opened = Opened(demo, published)
    opening, now = opened.opening, clock.now()
    assert evaluation.is_ready(published, now)
    opening.objections_end_at = now + timedelta(minutes=5)
    assert refused("objection_window_open", evaluation.require_ready, published, now).status == 409
    opening.objections_end_at = now - timedelta(minutes=1)
    db.session.add(RecordResponse(opening=opening, organisation_id=demo["bidder2"].organisation_id,
                                  user_id=demo["bidder2"].id, kind="object", text="报价读错", at=now))
    db.session.commit()
    refused("objections_unanswered", evaluation.require_ready, published, now)
    make_pool(demo)
    refused("objections_unanswered", experts.draw, demo["centre"], published, now)
    response = opening.responses[0]
    response.answer, response.answered_at = "已核对，报价无误", now
    opening.status = "decrypted"
    db.session.commit()
    refused("record_not_sealed", evaluation.require_ready, published, now)
    opening.status = "sealed"
    db.session.commit()
    assert evaluation.is_ready(published, now)


def test_the_draw_leaves_out_experts_linked_to_the_unit_or_a_bidder_and_replays_from_the_journal(demo, published):
    opened = Opened(demo, published)
    centre, now = demo["centre"], clock.now()
    pool = make_pool(demo, 5)
    unit_code = published.project.procuring_credit_code
    bidder_code = demo["bidder2"].organisation.credit_code
    linked_to_unit = make_expert(centre, "expert_unit", affiliations=[unit_code])
    linked_to_bidder = make_expert(centre, "expert_bidder", affiliations=["91320100MA1G00001T", bidder_code])
    other_category = make_expert(centre, "expert_mall", categories=["procurement"])
    inactive = make_expert(centre, "expert_retired", active=False)
    db.session.commit()
    committee = experts.draw(centre, published, now)
    db.session.commit()
    drawn = {m.user_id for m in committee.members}
    assert drawn == {u.id for u in pool} and len(committee.members) == 5
    assert not drawn & {linked_to_unit.id, linked_to_bidder.id, other_category.id, inactive.id}
    [payload] = entries("tender.committee.drawn", published.id)
    assert payload["candidates"] == sorted(u.id for u in pool)
    assert {(e["user"], e["affiliation"]) for e in payload["excluded"]} == {(linked_to_unit.id, unit_code),
                                                                            (linked_to_bidder.id, bidder_code)}
    # Anyone replays the draw from the journal: the same members in the same order (the chair first).
    assert experts.replay(payload["seed"], payload["candidates"], payload["size"]) == payload["members"] \
        == [m.user_id for m in committee.members]
    assert committee.members[0].is_chair
    refused("committee_drawn", experts.draw, centre, published, now)
    assert opened.section.committee is not None


def test_a_pool_too_small_is_refused_saying_how_many_are_eligible(demo, published):
    Opened(demo, published)
    make_pool(demo, 4)
    make_expert(demo["centre"], "expert_bidder", affiliations=[demo["bidder1"].organisation.credit_code])
    error = refused("pool_too_small", experts.draw, demo["centre"], published, clock.now())
    assert error.status == 409 and "4" in error.message and "5" in error.message
    assert published.committee is None


def test_only_the_centre_keeps_the_pool_and_draws(demo, published):
    Opened(demo, published)
    make_pool(demo)
    assert refused("not_centre", experts.draw, demo["procuring"], published, clock.now()).status == 403
    refused("not_centre", experts.save_profile, demo["procuring"], demo["expert1"], categories=["works"],
            affiliations=[], active=True, now=clock.now())
    refused("not_evaluator", experts.save_profile, demo["centre"], demo["bidder1"], categories=["works"],
            affiliations=[], active=True, now=clock.now())
    refused("affiliation_invalid", experts.save_profile, demo["centre"], demo["expert1"], categories=["works"],
            affiliations="91320100MA1G00001X", active=True, now=clock.now())
    refused("categories_invalid", experts.save_profile, demo["centre"], demo["expert1"], categories=["space"],
            affiliations="", active=True, now=clock.now())


def test_lowest_price_every_member_signs_and_the_last_seals_the_report(demo, published):
    opened = Opened(demo, published, prices=("980000.00", None, "990000.00"))
    make_pool(demo)
    now = clock.now()
    committee = experts.draw(demo["centre"], published, now)
    db.session.commit()
    first, *others = committee.members
    refused("not_committee_member", evaluation.sign, demo["bidder1"], published, now)
    refused("scores_not_needed", evaluation.enter_scores, first.user, published,
            {opened.results[0].id: ("1", "1")}, now)
    evaluation.sign(first.user, published, now)
    db.session.commit()
    refused("already_signed", evaluation.sign, first.user, published, now)
    assert published.status == "opened" and published.evaluation is None
    for member in others:
        evaluation.sign(member.user, published, now + timedelta(minutes=member.position))
    db.session.commit()
    assert published.status == "evaluated"
    signed = entries("tender.evaluation.signed", published.id)
    assert len(signed) == 5 and len({s["ranking_sha256"] for s in signed}) == 1 and signed[0]["chair"]
    body = evaluation.verify_document(published.evaluation.report, seal.current("seal").certificate_pem)
    assert body["type"] == "eproc-evaluation-report" and body["method"] == "lowest_price"
    # The bid that failed at the opening is no candidate; the others rank by price.
    assert [(c["rank"], c["bidder"]["credit_code"], c["price"]) for c in body["candidates"]] == [
        (1, demo["bidder1"].organisation.credit_code, "980000.00"),
        (2, demo["bidder3"].organisation.credit_code, "990000.00")]
    assert [m["signed_at"] is not None for m in body["committee"]] == [True] * 5
    assert body["draw"]["seed"] == committee.seed
    [moved] = entries("tender.section.evaluate", published.id)
    assert (moved["from"], moved["to"]) == ("opened", "evaluated")
    tampered = published.evaluation.report.replace("980000.00", "880000.00")
    assert evaluation.verify_document(tampered, seal.current("seal").certificate_pem) is None


@pytest.fixture
def comprehensive(demo, submitted):
    from tests.tender.factories import accept, publish
    section = submitted.sections[0]
    section.evaluation_method = "comprehensive"
    accept(demo["centre"], submitted)
    publish(demo["centre"], section)
    db.session.commit()
    return section


# Technical (of 60) and commercial (of 10) scores by each of the five members, per bidder.
TECHNICAL = {"bidder1": ("55", "54", "56", "55", "55"), "bidder2": ("50",) * 5, "bidder3": ("40", "41", "42", "43", "44")}
COMMERCIAL = {"bidder1": ("8", "8", "8", "8", "9"), "bidder2": ("9.5",) * 5, "bidder3": ("10",) * 5}


def test_comprehensive_scoring_worked_by_hand(demo, comprehensive):
    opened = Opened(demo, comprehensive, prices=("1000000.00", "950000.00", "900000.00"))
    make_pool(demo)
    now = clock.now()
    committee = experts.draw(demo["centre"], comprehensive, now)
    db.session.commit()
    members = committee.members
    one = {opened.result("bidder1").id: ("61", "5")}
    assert refused("score_invalid", evaluation.enter_scores, members[0].user, comprehensive, one, now).status == 422
    refused("score_invalid", evaluation.enter_scores, members[0].user, comprehensive,
            {opened.result("bidder1").id: ("50", "10.5")}, now)
    refused("not_committee_member", evaluation.enter_scores, demo["centre"], comprehensive,
            {opened.result("bidder1").id: ("50", "5")}, now)
    for member in members:
        evaluation.enter_scores(member.user, comprehensive, {
            opened.result(name).id: (TECHNICAL[name][member.position], COMMERCIAL[name][member.position])
            for name in TECHNICAL if not (name == "bidder3" and member.position == 4)}, now)
    db.session.commit()
    assert refused("scores_missing", evaluation.sign, members[0].user, comprehensive, now).status == 409
    evaluation.enter_scores(members[4].user, comprehensive, {opened.result("bidder3").id: ("44", "10")}, now)
    evaluation.sign(members[0].user, comprehensive, now)
    db.session.commit()
    refused("report_signed", evaluation.enter_scores, members[1].user, comprehensive,
            {opened.result("bidder3").id: ("60", "10")}, now)
    for member in members[1:]:
        evaluation.sign(member.user, comprehensive, now)
    db.session.commit()
    refused("section_not_opened", evaluation.enter_scores, members[1].user, comprehensive,
            {opened.result("bidder3").id: ("60", "10")}, now)
    # Benchmark 900000.00 (the lowest valid price); price score = 30 × 900000 / price:
    #   bidder1 27.00 + technical (55+54+56+55+55)/5 = 55.00 + commercial (8+8+8+8+9)/5 = 8.20 → 90.20
    #   bidder2 28.42 (28.4210…) + 50.00 + 9.50 → 87.92
    #   bidder3 30.00 + (40+41+42+43+44)/5 = 42.00 + 10.00 → 82.00
    ranked = evaluation.candidates(comprehensive)
    assert [(c["bidder"], c["price_score"], c["technical"], c["commercial"], c["score"]) for c in ranked] == [
        (demo["bidder1"].organisation.credit_code, Decimal("27.00"), Decimal("55.00"), Decimal("8.20"),
         Decimal("90.20")),
        (demo["bidder2"].organisation.credit_code, Decimal("28.42"), Decimal("50.00"), Decimal("9.50"),
         Decimal("87.92")),
        (demo["bidder3"].organisation.credit_code, Decimal("30.00"), Decimal("42.00"), Decimal("10.00"),
         Decimal("82.00"))]
    body = evaluation.body_of(comprehensive.evaluation.report)
    assert body["weights"] == {"price": 30, "technical": 60, "commercial": 10}
    assert body["benchmark_price"] == "900000.00" and body["candidates"][0]["score"] == "90.20"
    assert [m["technical"] for m in body["candidates"][2]["members"]] == ["40.00", "41.00", "42.00", "43.00", "44.00"]


def test_publicity_publishes_the_top_three_and_tells_the_bidders(demo, published):
    opened = Opened(demo, published)
    now = clock.now()
    refused("section_transition_refused", evaluation.publicise, demo["centre"], published, now)
    evaluate(demo, opened)
    refused("not_centre", evaluation.publicise, demo["procuring"], published, now)
    evaluation.publicise(demo["centre"], published, now)
    db.session.commit()
    assert published.status == "publicised" and published.publicised_at == now
    assert published.publicity_ends_at == now + timedelta(days=3)
    assert evaluation.in_publicity(published, now + timedelta(days=2, hours=23))
    [moved] = entries("tender.section.publicise", published.id)
    assert (moved["from"], moved["to"], moved["days"]) == ("evaluated", "publicised", 3)
    assert [c["price"] for c in moved["candidates"]] == ["950000.00", "980000.00", "990000.00"]
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "candidates_publicised")).all()
    assert demo["bidder1"].id in told and demo["bidder3"].id in told
