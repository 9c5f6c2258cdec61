"""Every (state, action) pair of an opening's lifecycle, driven through its service and found in the
journal; every pair not in the table refused with its code."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry
from tender import opening as openings, states
from tender.models import RecordResponse
from tests.tender.factories import BidderPki
from tests.tender.opening_factories import PIN, Closed

STATES = sorted({s for s, _ in states.OPENING} | set(states.OPENING.values()))
ACTIONS = sorted({a for _, a in states.OPENING})
JOURNALED = {"sign_in": "tender.opening.signed_in", "release": "tender.opening.share_released",
             "suspend": "tender.section.suspend_opening", "decrypt": "tender.opening.decryption_started",
             "finish_decrypting": "tender.opening.decrypted", "decide": "tender.opening.decided",
             "seal": "tender.section.finish_opening", "respond": "tender.opening.record_confirmed",
             "answer": "tender.opening.objection_answered"}


@pytest.fixture
def closed(app, demo, published, tmp_path, monkeypatch):
    from tender import tasks
    monkeypatch.setattr(tasks.decrypt_bids, "delay", lambda *a: None)  # decryption is driven by hand here
    saved = app.config["TRUST_STORE_DIR"]
    yield Closed(demo, published, BidderPki(app, tmp_path / "trust"), prices=("980000.00",), bidders=("bidder1",))
    app.config["TRUST_STORE_DIR"] = saved


def _opening_in(closed, state):
    """An opening brought to ``state`` by the services themselves."""
    centre, at = closed.demo["centre"], closed.at
    opening = closed.start()
    if state == "suspended":
        openings.suspend(centre, opening, "解密超时", opening.release_ends_at + timedelta(days=1), opening.release_ends_at)
    if state in ("decrypting", "decrypted", "sealed"):
        closed.release(opening, "procuring", "supervisor")
    if state in ("decrypted", "sealed"):
        openings.decrypt_batch(opening, at)  # three bids: one batch, which finishes
    if state == "sealed":
        openings.decide(centre, opening, "continue", "依法继续", at)
        openings.seal_record(centre, opening, at)
    db.session.commit()
    assert opening.status == state
    return opening


def _act(closed, opening, action):
    demo, at = closed.demo, closed.at
    if action == "sign_in":
        openings.sign_in(demo["bidder1"], opening, at, "198.51.100.7")
    elif action == "release":
        openings.release(demo["procuring"], opening, PIN, at, "")
    elif action == "decrypt":  # the k-th share starts the decryption
        openings.release(demo["procuring"], opening, PIN, at, "")
        openings.release(demo["centre"], opening, PIN, at, "")
    elif action == "suspend":
        openings.suspend(demo["centre"], opening, "解密超时", opening.release_ends_at + timedelta(days=1),
                         opening.release_ends_at)
    elif action == "finish_decrypting":
        openings.decrypt_batch(opening, at)
    elif action == "decide":
        openings.decide(demo["centre"], opening, "continue", "依法继续", at)
    elif action == "seal":
        if opening.status == "decrypted":
            openings.decide(demo["centre"], opening, "continue", "依法继续", at)
        openings.seal_record(demo["centre"], opening, at)
    elif action == "respond":
        openings.respond(demo["bidder1"], opening, "confirm", "", at)
    elif action == "answer":
        if opening.status == "sealed":
            objection = openings.respond(demo["bidder1"], opening, "object", "报价读错", at)
        else:  # no objection can exist yet: one is made up to ask the service
            objection = RecordResponse(opening=opening, organisation_id=demo["bidder1"].organisation_id,
                                       user_id=demo["bidder1"].id, kind="object", text="x", at=at)
            db.session.add(objection)
        openings.answer(demo["centre"], objection, "已核对", at)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_opening_state_and_action(closed, state, action):
    opening = _opening_in(closed, state)
    expected = states.OPENING.get((state, action))
    if action == "decrypt" and state == "releasing":
        expected = "decrypting"
    if expected:
        _act(closed, opening, action)
        assert opening.status == expected
        db.session.commit()
        assert db.session.scalar(select(JournalEntry.seq).where(JournalEntry.action == JOURNALED[action],
                                                               JournalEntry.subject_id == str(closed.section.id)))
    else:
        with pytest.raises(DomainError) as refused:
            _act(closed, opening, action)
        assert refused.value.code == "opening_transition_refused"
        assert opening.status == state
