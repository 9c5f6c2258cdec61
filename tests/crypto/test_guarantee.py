"""Electronic bid guarantees: each reason code of DOMAIN.md triggered by a real artefact, in order."""
import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from core.crypto import guarantee as g, pki
from tests.crypto.conftest import BIDDER_CODE, GUARANTOR_CODE, OTHER_BIDDER_CODE, PROCURING_CODE

BIDDER = g.Party("闽江建设工程有限公司", BIDDER_CODE)
PROCURING = g.Party("福州市第一中学", PROCURING_CODE)
GUARANTOR = g.Party("中国建设银行福州分行", GUARANTOR_CODE)
LETTER = b"%PDF-1.7 guarantee letter"


@pytest.fixture
def setting(demo_pki):
    deadline = demo_pki.now + timedelta(days=20)
    expected = g.Expectation(bidder=BIDDER, procuring_unit=PROCURING, project_code="FZ2026-0001",
                             section_code="FZ2026-0001-01", required_amount=Decimal("50000.00"), deadline=deadline,
                             validity_days=90)
    guarantor = demo_pki.issue(credit_code=GUARANTOR_CODE, organisation=GUARANTOR.name)
    return demo_pki, expected, guarantor


def issue(demo_pki, holder, **changes) -> bytes:
    fields = dict(number="BH-2026-000123", guarantor=GUARANTOR, applicant=BIDDER, beneficiary=PROCURING,
                  project_code="FZ2026-0001", section_code="FZ2026-0001-01", amount=Decimal("50000.00"),
                  valid_from=demo_pki.now, valid_to=demo_pki.now + timedelta(days=200),
                  issued_at=demo_pki.now, letter_sha256=hashlib.sha256(LETTER).hexdigest())
    fields.update(changes)
    return g.sign_guarantee(g.guarantee_body(**fields), holder.key, [holder.certificate])


def verdict(setting, signed, **kwargs):
    demo_pki, expected, _guarantor = setting
    kwargs.setdefault("now", demo_pki.now + timedelta(hours=1))
    return g.verify_guarantee(signed, kwargs.pop("expected", expected), demo_pki.anchors, **kwargs)


@pytest.mark.parametrize("algorithm", ["p256", "ed25519"])
def test_a_good_guarantee_is_accepted(setting, algorithm):
    demo_pki, _expected, _ = setting
    holder = demo_pki.issue(credit_code=GUARANTOR_CODE, organisation=GUARANTOR.name, algorithm=algorithm)
    result = verdict(setting, issue(demo_pki, holder))
    assert result.ok and result.reason is None
    assert result.guarantee["amount"] == "50000.00" and result.guarantee["currency"] == "CNY"


def test_the_body_is_canonical_json_with_money_as_text_and_times_with_offset(setting):
    demo_pki, _expected, holder = setting
    wrapper = json.loads(issue(demo_pki, holder))
    body = json.loads(wrapper["body"])
    assert set(body) == g.FIELDS and body["amount"] == "50000.00" and body["issued_at"].endswith("+00:00")
    assert wrapper["body"] == json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def tamper(signed: bytes, old: str, new: str) -> bytes:
    wrapper = json.loads(signed)
    assert old in wrapper["body"]
    wrapper["body"] = wrapper["body"].replace(old, new, 1)
    return json.dumps(wrapper, ensure_ascii=False).encode()


def test_each_reason_in_order(setting):
    demo_pki, expected, guarantor = setting
    good = issue(demo_pki, guarantor)
    reasons = {}
    # signature_invalid: a byte changed in the signed document; or signed by another organisation's key.
    reasons["signature_invalid"] = verdict(setting, tamper(good, '"50000.00"', '"90000.00"'))
    impostor = demo_pki.issue(credit_code=OTHER_BIDDER_CODE)
    reasons["signature_invalid (impostor)"] = verdict(setting, issue(demo_pki, impostor))
    # issuer_unknown: a guarantor certified by a CA outside the trust store.
    stranger_key, stranger_ca = pki.make_ca("Other CA", "Elsewhere", demo_pki.now)
    key = pki.new_signing_key()
    foreign = type(guarantor)(key, pki.issue_signing_certificate(stranger_key, stranger_ca, key.public_key(), "x",
                                                                 GUARANTOR.name, demo_pki.now,
                                                                 credit_code=GUARANTOR_CODE))
    reasons["issuer_unknown"] = verdict(setting, issue(demo_pki, foreign))
    # certificate_expired: not valid at the guarantee's issue time.
    expired = demo_pki.issue(credit_code=GUARANTOR_CODE, not_before=demo_pki.now - timedelta(days=20), days=10)
    reasons["certificate_expired"] = verdict(setting, issue(demo_pki, expired))
    # certificate_revoked: on the issuer's CRL.
    revoked = demo_pki.issue(credit_code=GUARANTOR_CODE)
    signed_by_revoked = issue(demo_pki, revoked)
    demo_pki.revoke(revoked)
    reasons["certificate_revoked"] = verdict(setting, signed_by_revoked)
    # certificate_usage: no digitalSignature.
    no_usage = demo_pki.issue(credit_code=GUARANTOR_CODE, digital_signature=False)
    reasons["certificate_usage"] = verdict(setting, issue(demo_pki, no_usage))
    reasons["applicant_mismatch"] = verdict(setting, issue(demo_pki, guarantor,
                                                           applicant=g.Party("别的公司", OTHER_BIDDER_CODE)))
    reasons["beneficiary_mismatch"] = verdict(setting, issue(demo_pki, guarantor,
                                                             beneficiary=g.Party("别的单位", OTHER_BIDDER_CODE)))
    reasons["project_mismatch"] = verdict(setting, issue(demo_pki, guarantor, project_code="FZ2026-0002"))
    reasons["section_mismatch"] = verdict(setting, issue(demo_pki, guarantor, section_code="FZ2026-0001-02"))
    reasons["amount_short"] = verdict(setting, issue(demo_pki, guarantor, amount=Decimal("49999.99")))
    reasons["validity_short"] = verdict(setting, issue(
        demo_pki, guarantor, valid_to=expected.deadline + timedelta(days=90) - timedelta(seconds=1)))
    reasons["validity_short (starts late)"] = verdict(setting, issue(
        demo_pki, guarantor, valid_from=expected.deadline + timedelta(seconds=1)))
    reasons["guarantee_revoked"] = verdict(setting, good, revoked=True)
    reasons["number_reused"] = verdict(setting, good, number_used={"BH-2026-000123"})
    reasons["number_reused (callable)"] = verdict(setting, good, number_used=lambda n: n == "BH-2026-000123")
    assert {name: result.reason for name, result in reasons.items()} == {
        name: name.split(" ")[0] for name in reasons}
    assert all(str(result.message) for result in reasons.values())


def test_the_first_failing_reason_wins(setting):
    demo_pki, expected, guarantor = setting
    # Wrong applicant, wrong section, too little, revoked and reused: the applicant is named.
    signed = issue(demo_pki, guarantor, applicant=g.Party("别的公司", OTHER_BIDDER_CODE), section_code="X",
                   amount=Decimal("1.00"))
    assert verdict(setting, signed, revoked=True, number_used={"BH-2026-000123"}).reason == "applicant_mismatch"
    # Amount short and validity short: amount first.
    signed = issue(demo_pki, guarantor, amount=Decimal("1.00"), valid_to=demo_pki.now)
    assert verdict(setting, signed, revoked=True).reason == "amount_short"
    # An expired certificate outranks every field.
    expired = demo_pki.issue(credit_code=GUARANTOR_CODE, not_before=demo_pki.now - timedelta(days=20), days=10)
    assert verdict(setting, issue(demo_pki, expired, amount=Decimal("1.00"))).reason == "certificate_expired"


def test_certificate_validity_counts_at_issue_time(setting):
    """A guarantee issued while the guarantor's certificate was valid stays good after it expires."""
    demo_pki, expected, _ = setting
    holder = demo_pki.issue(credit_code=GUARANTOR_CODE, not_before=demo_pki.now - timedelta(days=20), days=21)
    signed = issue(demo_pki, holder)
    assert verdict(setting, signed, now=demo_pki.now + timedelta(days=5)).ok


def test_names_compare_with_full_width_brackets_and_codes_case_blind(setting):
    demo_pki, expected, guarantor = setting
    named = replace(expected, bidder=g.Party("闽江建设（福州）有限公司", BIDDER_CODE.lower()))
    signed = issue(demo_pki, guarantor, applicant=g.Party("闽江建设(福州)有限公司", BIDDER_CODE))
    assert verdict(setting, signed, expected=named).ok


def test_unreadable_files_are_malformed(setting):
    demo_pki, _expected, guarantor = setting
    assert verdict(setting, b"not json").reason == "guarantee_malformed"
    assert verdict(setting, b'{"body": "x", "signature": "00", "certificates": []}').reason == "guarantee_malformed"
    wrapper = json.loads(issue(demo_pki, guarantor))
    wrapper["certificates"] = ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
    assert verdict(setting, json.dumps(wrapper).encode()).reason == "guarantee_malformed"
