"""Sealed bids: only registered bidders, only sealed envelopes bound to this section and this bidder, a
receipt signed by the platform seal, replace and withdraw until the deadline, nothing at or after it."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock, seal, storage
from core.crypto import envelope
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry
from tender import bids, participation
from tender.models import Bid
from tests.tender.factories import BidderPki, accept, make_project, publish
from tender import projects


@pytest.fixture
def bidder_pki(app, tmp_path):
    saved = app.config["TRUST_STORE_DIR"]
    yield BidderPki(app, tmp_path / "trust")
    app.config["TRUST_STORE_DIR"] = saved


@pytest.fixture
def registered(demo, published):
    for name in ("bidder1", "bidder2"):
        participation.register(demo[name], published, clock.now())
    db.session.commit()
    return published


def submit(section, user, data, now=None):
    return bids.submit(user, section, data, now or clock.now(), "198.51.100.4", "eproc-bid/1.0")


def refused(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_an_envelope_is_accepted_with_a_receipt_signed_by_the_platform_seal(demo, registered, bidder_pki):
    data = bidder_pki.seal(registered, demo["bidder1"])
    bid = submit(registered, demo["bidder1"], data)
    db.session.commit()
    assert (bid.version, bid.sequence, bid.status) == (1, 1, "submitted")
    assert storage.get(bid.envelope_sha256) == data
    body = envelope.verify_receipt(bid.receipt.encode(), seal.current("seal").certificate_pem)
    assert body["envelope"]["sha256"] == bid.envelope_sha256 and body["sequence"] == 1
    assert body["bidder"] == demo["bidder1"].organisation.credit_code
    assert body["received_at"] == envelope.received_at_text(bid.received_at)  # to the millisecond
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "tender.bid.submitted")).one()
    assert entry.payload.count(bid.envelope_sha256) == 1


def test_a_new_envelope_replaces_the_bid_and_a_withdrawal_ends_it(demo, registered, bidder_pki):
    first = submit(registered, demo["bidder1"], bidder_pki.seal(registered, demo["bidder1"], price="100.00"))
    other = submit(registered, demo["bidder2"], bidder_pki.seal(registered, demo["bidder2"], price="99.00"))
    second = submit(registered, demo["bidder1"], bidder_pki.seal(registered, demo["bidder1"], price="98.00"))
    assert (first.status, second.status, second.version) == ("replaced", "submitted", 2)
    assert [first.sequence, other.sequence, second.sequence] == [1, 2, 3]
    bids.withdraw(demo["bidder1"], second, clock.now())
    assert second.status == "withdrawn" and bids.current_bid(registered, demo["bidder1"].organisation_id) is None
    assert refused(lambda: bids.withdraw(demo["bidder1"], first, clock.now())) == "bid_not_current"


def test_one_millisecond_before_the_deadline_is_accepted_and_at_it_refused(demo, registered, bidder_pki):
    deadline = registered.deadline
    data = bidder_pki.seal(registered, demo["bidder1"])
    assert submit(registered, demo["bidder1"], data, deadline - timedelta(milliseconds=1)).status == "submitted"
    late = bidder_pki.seal(registered, demo["bidder2"])
    assert refused(lambda: submit(registered, demo["bidder2"], late, deadline)) == "deadline_passed"
    assert refused(lambda: submit(registered, demo["bidder2"], late, deadline + timedelta(milliseconds=1))) \
        == "deadline_passed"


def test_only_registered_bidders_submit(demo, registered, bidder_pki):
    data = bidder_pki.seal(registered, demo["bidder3"])
    assert refused(lambda: submit(registered, demo["bidder3"], data)) == "not_registered"


def test_an_envelope_for_another_section_is_refused(demo, registered, bidder_pki):
    project = make_project(demo["procuring"], name="另一项目")
    projects.submit(demo["procuring"], project, clock.now())
    accept(demo["centre"], project)
    publish(demo["centre"], project.sections[0])
    other = project.sections[0]
    participation.register(demo["bidder1"], other, clock.now())
    replayed = bidder_pki.seal(registered, demo["bidder1"])
    assert refused(lambda: submit(other, demo["bidder1"], replayed)) == "section_mismatch"
    # Bound to this section's id and code but sealed to the other's key: refused too.
    crossed = bidder_pki.seal(other, demo["bidder1"], section_for_binding=registered)
    assert refused(lambda: submit(registered, demo["bidder1"], crossed)) == "key_mismatch"


def test_an_envelope_of_another_bidder_is_refused(demo, registered, bidder_pki):
    data = bidder_pki.seal(registered, demo["bidder2"])
    assert refused(lambda: submit(registered, demo["bidder1"], data)) == "bidder_mismatch"


def test_a_changed_byte_is_refused(demo, registered, bidder_pki):
    data = bytearray(bidder_pki.seal(registered, demo["bidder1"]))
    data[-5] ^= 1  # in the ciphertext
    assert refused(lambda: submit(registered, demo["bidder1"], bytes(data))) == "ciphertext_mismatch"
    assert refused(lambda: submit(registered, demo["bidder1"], b"not an envelope")) == "envelope_malformed"


def test_a_certificate_from_outside_the_trust_store_is_refused(app, demo, registered, bidder_pki, tmp_path):
    stranger = BidderPki(app, tmp_path / "elsewhere")  # its CA is not in the platform's store
    data = stranger.seal(registered, demo["bidder1"])
    app.config["TRUST_STORE_DIR"] = str(tmp_path / "trust")
    assert refused(lambda: submit(registered, demo["bidder1"], data)) == "issuer_unknown"


def test_an_envelope_over_the_size_limit_is_refused(demo, registered, bidder_pki):
    from core import settings
    settings.change(demo["admin"], "tender.envelope_max_mb", "1", None, "测试", clock.now())
    big = b"\0" * (1024 * 1024 + 1)
    assert refused(lambda: submit(registered, demo["bidder1"], big)) == "envelope_too_large"
    assert db.session.scalar(select(Bid.id)) is None
