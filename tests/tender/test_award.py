"""Award: after the publicity period only, held by a pending challenge or a suspension; the figures for
statistics; the sealed award notice verified with the seal certificate; result notices and the public
announcement; and every lifecycle move of evaluation and award, journaled, or refused with its code."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import clock, seal
from core.extensions import db
from core.models import Notification
from tender import award, challenges, evaluation, experts, publication
from tender.models import Notice
from tests.tender.evaluation_factories import Opened, awarded, evaluate, make_pool
from tests.tender.test_evaluation import entries, refused


@pytest.fixture
def evaluated(demo, published):
    opened = Opened(demo, published, prices=("980000.00", "950000.00", None))
    evaluate(demo, opened)
    return opened


def test_no_award_during_publicity_nor_while_a_challenge_waits_for_its_answer(demo, evaluated):
    section, unit = evaluated.section, demo["procuring"]
    now = clock.now()
    refused("section_transition_refused", award.award, unit, section, now)
    evaluation.publicise(demo["centre"], section, now)
    db.session.commit()
    error = refused("publicity_not_over", award.award, unit, section, now + timedelta(days=2))
    assert error.status == 409 and clock.local(section.publicity_ends_at).strftime("%Y-%m-%d %H:%M") in error.message
    challenge = challenges.file(demo["bidder3"], section, "result", "评审有误", now + timedelta(hours=1))
    db.session.commit()
    after = section.publicity_ends_at + timedelta(minutes=1)
    assert refused("challenge_pending", award.award, unit, section, after).status == 409
    challenges.answer(unit, challenge, "经复核，评审无误。", after)
    db.session.commit()
    assert refused("not_procuring_unit", award.award, demo["procuring2"], section, after).status == 403
    assert award.award(unit, section, after).rank == 1


def test_the_award_sets_the_figures_seals_the_notice_and_tells_everyone(demo, evaluated):
    section = evaluated.section
    # 17:30 UTC is already the next day in Beijing: the award date is Beijing's.
    at = datetime(2026, 12, 30, 17, 30, tzinfo=timezone.utc)
    evaluation.publicise(demo["centre"], section, at - timedelta(days=4))
    db.session.commit()
    refused("reason_required", award.award, demo["procuring"], section, at, rank=2)
    refused("rank_invalid", award.award, demo["procuring"], section, at, rank=3)
    row = award.award(demo["procuring"], section, at, rank=2, reason="第一中标候选人放弃中标")
    db.session.commit()
    winner = demo["bidder1"].organisation  # 980000.00, ranked second behind bidder2's 950000.00
    assert (section.status, row.organisation_id, str(section.deal_amount)) == ("awarded", winner.id, "980000.00")
    assert section.award_date.isoformat() == "2026-12-31" and section.bidder_count == 2
    [moved] = entries("tender.section.award", section.id)
    assert (moved["from"], moved["to"], moved["rank"], moved["winner"]) == ("publicised", "awarded", 2,
                                                                            winner.credit_code)
    body = evaluation.verify_document(row.notice, seal.current("seal").certificate_pem)
    assert body["type"] == "eproc-award-notice" and body["winner"]["credit_code"] == winner.credit_code
    assert (body["amount"], body["award_date"], body["contract_due"]) == ("980000.00", "2026-12-31", "2027-01-30")
    assert evaluation.verify_document(row.notice.replace("980000.00", "98000.00"),
                                      seal.current("seal").certificate_pem) is None
    kinds = dict(db.session.execute(select(Notification.user_id, Notification.kind)
                                    .where(Notification.kind.in_(("award_notice", "award_result")))).all())
    assert kinds[demo["bidder1"].id] == "award_notice"
    assert kinds[demo["bidder2"].id] == kinds[demo["bidder3"].id] == "award_result"
    announcement = db.session.scalar(select(Notice).where(Notice.section_id == section.id, Notice.kind == "result"))
    assert winner.name in announcement.body and "980000.00" in announcement.body


def test_every_move_of_evaluation_and_award_is_journaled_and_others_refused(demo, published, submitted):
    now = clock.now()
    unit, centre = demo["procuring"], demo["centre"]
    # opened → failed (the centre: no acceptable bid).
    section = published
    opened = Opened(demo, section)
    refused("section_not_awarded", award.record_breach, unit, section, "contract_refused", "拒签", now)
    refused("section_transition_refused", evaluation.publicise, centre, section, now)
    assert refused("reason_required", award.fail, centre, section, " ", now).status == 422
    award.fail(centre, section, "评标委员会否决全部投标", now)
    db.session.commit()
    [moved] = entries("tender.section.fail", section.id)
    assert (moved["from"], moved["to"]) == ("opened", "failed")
    refused("section_transition_refused", award.fail, centre, section, "again", now)
    refused("section_not_opened", experts.draw, centre, section, now)
    assert opened.section.status == "failed"

    def another(prices=("980000.00", "950000.00", "990000.00")):
        from tests.tender.factories import accept, make_project, publish
        from tender import projects
        project = make_project(unit, name=f"评标生命周期 {clock.now().timestamp()}")
        projects.submit(unit, project, now)
        accept(centre, project)
        publish(centre, project.sections[0])
        db.session.commit()
        return Opened(demo, project.sections[0], prices=prices)

    # opened → evaluated → failed; evaluated → publicised → failed; … → awarded → failed; → contracted.
    for stop in ("evaluated", "publicised", "awarded"):
        opened = another()
        section = opened.section
        if stop == "evaluated":
            evaluate(demo, opened)
            refused("section_transition_refused", award.award, unit, section, now)
        elif stop == "publicised":
            evaluate(demo, opened)
            evaluation.publicise(centre, section, now)
            db.session.commit()
            refused("section_transition_refused", evaluation.publicise, centre, section, now)
        else:
            awarded(demo, opened)
            refused("not_procuring_unit", award.fail, centre, section, "中标人拒签", now)
        db.session.commit()
        moves = [(e["from"], e["to"]) for action in ("evaluate", "publicise", "award")
                 for e in entries(f"tender.section.{action}", section.id)]
        expected = [("opened", "evaluated"), ("evaluated", "publicised"), ("publicised", "awarded")]
        assert moves == expected[:len(moves)] and section.status == stop
        award.fail(unit, section, "流标", now)
        db.session.commit()
        [failed] = entries("tender.section.fail", section.id)
        assert (failed["from"], failed["to"]) == (stop, "failed")
    # A failed section is tendered again: a new round, accepted, ready to publish.
    again = publication.retender(centre, section, now)
    assert (again.status, again.previous_id, again.round) == ("accepted", section.id, 2)


def test_a_draw_needs_committee_members_of_the_category(demo, published):
    Opened(demo, published)
    make_pool(demo, 5, categories=("procurement",))
    refused("pool_too_small", experts.draw, demo["centre"], published, clock.now())
