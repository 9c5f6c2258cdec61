"""A past opening replayed from the journal alone, step by step, and checked against the sealed record."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.extensions import db
from supervision import replay
from tender import opening as openings
from tests.tender.conftest import published, submitted  # noqa: F401
from tests.tender.opening_factories import Closed
from tests.tender.test_opening import bidder_pki  # noqa: F401


@pytest.fixture
def closed(demo, published, bidder_pki):  # noqa: F811
    return Closed(demo, published, bidder_pki)


@pytest.fixture
def sealed(demo, closed):
    """Opened (centre and supervisor released), signed in, sealed, objected to and answered."""
    opening = closed.start()
    openings.sign_in(demo["bidder1"], opening, closed.at, "198.51.100.10")
    db.session.commit()
    closed.release(opening, "centre", "supervisor")
    openings.seal_record(demo["centre"], opening, closed.at + timedelta(minutes=5))
    db.session.commit()
    response = openings.respond(demo["bidder2"], opening, "object", "价格读错了", closed.at + timedelta(minutes=6))
    openings.answer(demo["centre"], response, "已核对，无误", closed.at + timedelta(minutes=7))
    db.session.commit()
    return closed, opening


def test_the_steps_rebuild_the_hall_from_the_journal(demo, sealed):
    closed, opening = sealed
    steps = replay.steps(closed.section)
    actions = [s.action for s in steps]
    assert actions[:4] == ["tender.section.start_opening", "tender.opening.signed_in",
                           "tender.opening.share_released", "tender.opening.share_released"]
    assert actions[4] == "tender.opening.decryption_started" and actions.count("tender.opening.bids_decided") == 1
    assert actions[-3:] == ["tender.section.finish_opening", "tender.opening.record_objected",
                            "tender.opening.objection_answered"]
    # As of the first share, one keyholder and no bid; as of the seal, every price.
    first_share = steps[2].state
    assert [k["role"] for k in first_share["keyholders"]] == ["centre"] and first_share["bids"] == []
    at_seal = steps[actions.index("tender.section.finish_opening")].state
    assert sorted(b["price"] for b in at_seal["bids"]) == ["950000.00", "980000.00", "990000.00"]
    assert at_seal["status"] == "sealed" and at_seal["responses"] == []
    assert [s["credit_code"] for s in at_seal["sign_ins"]] == [demo["bidder1"].organisation.credit_code]
    assert steps[-1].state["responses"][0]["answer"] == "已核对，无误"
    # The state after a step is not changed by later steps: the batch's step holds its three bids, the one
    # before it none.
    batch = actions.index("tender.opening.bids_decided")
    assert len(steps[batch - 1].state["bids"]) == 0 and len(steps[batch].state["bids"]) == 3


def test_the_replay_page_shows_each_step_with_its_time_actor_and_entry(login, demo, sealed):
    closed, opening = sealed
    page = login("supervisor").get(f"/supervision/sections/{closed.section.id}/replay").text
    steps = replay.steps(closed.section)
    for step in steps:
        assert f'href="/supervision/journal/{step.seq}"' in page
    assert "replay.js" in page and 'id="replay-slider"' in page
    beijing = (closed.at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # the start, in Asia/Shanghai
    assert beijing in page and demo["centre"].name in page
    assert "98.00 万元" in page and demo["bidder2"].organisation.name in page and "价格读错了" in page
    assert "matches" in page and "differs" not in page


def test_the_check_matches_the_sealed_record_and_names_a_change(demo, sealed):
    closed, opening = sealed
    [check] = replay.checks(replay.steps(closed.section))
    assert check.matches and check.hash_matches and check.attempt == 1
    # The stored record altered (a price rewritten and re-signed would still not be the journal's SHA-256).
    record = json.loads(opening.record)
    body = json.loads(record["body"])
    body["bids"][0]["price"] = "1.00"
    record["body"] = json.dumps(body, ensure_ascii=False)
    db.session.execute(text("UPDATE opening SET record = :r WHERE id = :id"),
                       {"r": json.dumps(record, ensure_ascii=False), "id": opening.id})
    db.session.commit()
    db.session.expire_all()
    [check] = replay.checks(replay.steps(closed.section))
    assert not check.hash_matches and check.differences == ["bids"]


def test_a_suspended_attempt_and_the_next_replay_as_two_openings(demo, closed):
    first = closed.start()
    closed.release(first, "centre")
    late = first.release_ends_at
    openings.suspend(demo["centre"], first, "监督人未在时限内解密", late + timedelta(days=1), late)
    db.session.commit()
    second = openings.start(demo["centre"], closed.section, late + timedelta(days=1))
    db.session.commit()
    closed.release(second, "procuring", "supervisor", at=late + timedelta(days=1, minutes=1))
    steps = replay.steps(closed.section)
    suspended = next(s for s in steps if s.action == "tender.section.suspend_opening").state
    assert suspended["status"] == "suspended" and sorted(suspended["suspension"]["not_released"]) == [
        "procuring", "supervisor"]
    assert steps[-1].state["attempt"] == 2 and [k["role"] for k in steps[-1].state["keyholders"]] == [
        "procuring", "supervisor"]
