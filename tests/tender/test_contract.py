"""The contract: recorded with its PDF within 30 days of the award notice (a later one flagged), published;
the winner's breach recorded, after which (and only after which) its guarantor records a claim; a refusal
that fails the section lets it be tendered again."""
from datetime import timedelta

import pytest

from core import clock
from core.extensions import db
from tender import award, guarantees, publication
from tests.tender.evaluation_factories import Opened, awarded
from tests.tender.factories import PDF
from tests.tender.test_evaluation import entries, refused


@pytest.fixture
def won(demo, published):
    opened = Opened(demo, published, prices=("950000.00", "980000.00", "990000.00"), with_guarantees=True)
    row, at = awarded(demo, opened)
    return opened, row, at


def test_the_contract_within_30_days_is_published_and_a_later_one_flagged(demo, won):
    opened, row, at = won
    section, unit = opened.section, demo["procuring"]
    day = section.award_date
    contract = ("合同.pdf", PDF + b"contract")
    refused("not_procuring_unit", award.record_contract, demo["procuring2"], section, signed_on=day, amount="950000.00",
            performance_security=True, document=contract, now=at)
    refused("signed_on_invalid", award.record_contract, unit, section, signed_on=day - timedelta(days=1),
            amount="950000.00", performance_security=True, document=contract, now=at)
    refused("contract_not_pdf", award.record_contract, unit, section, signed_on=day, amount="950000.00",
            performance_security=True, document=("合同.docx", b"PK\x03\x04 docx"), now=at)
    refused("amount_invalid", award.record_contract, unit, section, signed_on=day, amount="-1",
            performance_security=True, document=contract, now=at)
    later = at + timedelta(days=31)
    signed = award.record_contract(unit, section, signed_on=clock.local(later).date(), amount="950000.00",
                                   performance_security=True, document=contract, now=later)
    db.session.commit()
    assert section.status == "contracted" and signed.late and section.contract is signed
    [moved] = entries("tender.section.contract", section.id)
    assert (moved["from"], moved["to"], moved["late"], moved["days_after_award"]) == ("awarded", "contracted", True, 31)
    refused("section_not_awarded", award.record_contract, unit, section, signed_on=day, amount="1.00",
            performance_security=True, document=contract, now=later)
    refused("section_transition_refused", award.fail, unit, section, "x", later)


def test_on_time_is_not_flagged(demo, won):
    opened, row, at = won
    signed = award.record_contract(demo["procuring"], opened.section, signed_on=opened.section.award_date + timedelta(days=30),
                                   amount="950000.00", performance_security=True, document=("合同.pdf", PDF),
                                   now=at + timedelta(days=30))
    assert not signed.late


def test_the_guarantor_claims_only_after_the_breach_is_recorded(demo, won):
    opened, row, at = won
    section, unit = opened.section, demo["procuring"]
    guarantee = opened.guarantees["bidder1"]  # the winner: 950000.00
    assert row.organisation_id == demo["bidder1"].organisation_id
    assert not guarantees.may_claim(opened.guarantor, guarantee)
    error = refused("breach_not_recorded", guarantees.claim, opened.guarantor, guarantee, trigger="contract_refused",
                    amount="100.00", note="", now=at)
    assert error.status == 409
    refused("not_procuring_unit", award.record_breach, demo["procuring2"], section, "contract_refused", "拒签", at)
    refused("breach_invalid", award.record_breach, unit, section, "bribery", "拒签", at)
    award.record_breach(unit, section, "contract_refused", "中标人书面拒绝签订合同", at, fail=True)
    db.session.commit()
    assert section.status == "failed"
    assert guarantees.may_claim(opened.guarantor, guarantee)
    [breach] = entries("tender.section.breach", section.id)
    assert breach["kind"] == "contract_refused" and breach["winner"] == demo["bidder1"].organisation.credit_code
    # A claim of another trigger still waits for its own record; the loser's guarantee has none.
    refused("breach_not_recorded", guarantees.claim, opened.guarantor, guarantee, trigger="no_performance_security",
            amount="100.00", note="", now=at)
    refused("breach_not_recorded", guarantees.claim, opened.guarantor, opened.guarantees["bidder2"],
            trigger="contract_refused", amount="100.00", note="", now=at)
    claim = guarantees.claim(opened.guarantor, guarantee, trigger="contract_refused", amount="100.00", note="",
                             now=at)
    db.session.commit()
    assert claim.guarantee.status == "claimed"
    again = publication.retender(demo["centre"], section, at)
    assert again.previous_id == section.id and again.status == "accepted"


def test_a_contract_without_performance_security_records_that_breach(demo, won):
    opened, row, at = won
    section = opened.section
    award.record_contract(demo["procuring"], section, signed_on=section.award_date, amount="950000.00",
                          performance_security=False, document=("合同.pdf", PDF), now=at)
    db.session.commit()
    assert section.status == "contracted"
    guarantee = opened.guarantees["bidder1"]
    refused("breach_not_recorded", guarantees.claim, opened.guarantor, guarantee, trigger="contract_refused",
            amount="100.00", note="", now=at)
    guarantees.claim(opened.guarantor, guarantee, trigger="no_performance_security", amount="100.00", note="",
                     now=at)
