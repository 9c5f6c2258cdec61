"""Sealed envelopes: made as the bidder's tool makes them, checked as the platform checks them, opened
at the opening; a changed byte anywhere is refused with its reason; receipts signed with the seal."""
import hashlib
import json
import struct
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from core import clock, seal
from core.crypto import envelope as env, pki, sealing, signing
from core.crypto.envelope import Document, EnvelopeRefused, OpeningFailed
from core.crypto.signing import SignatureRefused
from tests.crypto.conftest import BIDDER_CODE, OTHER_BIDDER_CODE

SECTION = {"section_id": "12", "section_code": "ZB2026-001-01"}
MARKER = b"CANARY-7f3e-price-secret"


def content():
    return env.pack_content(Decimal("1234567.50"), {"delivery_days": "30", "warranty_months": "24"},
                            [Document("技术标.pdf", "application/pdf", b"%PDF-1.7 " + MARKER),
                             Document("商务标.docx", "application/octet-stream", b"PK\x03\x04 docx")])


def make(demo_pki, key, holder=None, bidder=BIDDER_CODE, section=SECTION, now=None, data=None):
    holder = holder or demo_pki.issue()
    return env.seal_bid(suite=key.suite, section_public_key=key.public, bidder=bidder, content=data or content(),
                        signing_key=holder.key, certificates=[holder.certificate], now=now or demo_pki.now,
                        **section)


def check(demo_pki, key, data, bidder=BIDDER_CODE, section=SECTION, now=None):
    return env.check_envelope(data, section_public_key=key.public, bidder=bidder, anchors=demo_pki.anchors,
                              now=now or demo_pki.now, **section)


def refusal(demo_pki, key, data, **kwargs) -> str:
    with pytest.raises(EnvelopeRefused) as refused:
        check(demo_pki, key, data, **kwargs)
    return refused.value.code


@pytest.mark.parametrize("suite", list(sealing.SUITES))
@pytest.mark.parametrize("algorithm", ["p256", "ed25519"])
def test_seal_check_open_round_trip(demo_pki, suite, algorithm):
    key = sealing.generate(suite)
    data = make(demo_pki, key, demo_pki.issue(algorithm=algorithm))
    assert MARKER not in data
    checked = check(demo_pki, key, data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest() and checked.size == len(data)
    assert checked.suite == suite and checked.body["bidder"] == BIDDER_CODE
    bid = env.open_envelope(data, private_key=key.private, section_public_key=key.public,
                            expected_sha256=checked.sha256)
    assert bid.price == Decimal("1234567.50") and bid.terms == {"delivery_days": "30", "warranty_months": "24"}
    assert [(d.name, d.type) for d in bid.documents] == [("技术标.pdf", "application/pdf"),
                                                        ("商务标.docx", "application/octet-stream")]
    assert MARKER in bid.documents[0].data


def test_the_content_container_is_deterministic():
    assert content() == content()
    packed = content()
    assert packed[:9] == b"EPROCBID\x01"
    (length,) = struct.unpack(">I", packed[9:13])
    header = json.loads(packed[13:13 + length])
    assert header["price"] == "1234567.50" and header["documents"][0]["size"] == 9 + len(MARKER)
    assert packed.endswith(b"%PDF-1.7 " + MARKER + b"PK\x03\x04 docx")


def test_bad_content_is_refused_when_packing():
    with pytest.raises(ValueError):
        env.pack_content("12.5", {}, [])
    with pytest.raises(ValueError):
        env.pack_content(Decimal("1"), {}, [Document("../x", "text/plain", b"")])
    with pytest.raises(ValueError):
        env.pack_content(Decimal("1"), {}, [Document("a", "t", b""), Document("a", "t", b"")])


# Where a changed byte lands decides the reason.

def regions(data: bytes) -> dict[str, int]:
    """An offset inside each part of the envelope."""
    (body_length,) = struct.unpack(">I", data[9:13])
    signature_at = 13 + body_length
    (signature_length,) = struct.unpack(">H", data[signature_at:signature_at + 2])
    certificates_at = signature_at + 2 + signature_length
    (certificate_length,) = struct.unpack(">I", data[certificates_at + 1:certificates_at + 5])
    ciphertext_at = certificates_at + 5 + certificate_length + 8
    return {"magic": 2, "version": 8, "body length": 11, "body": 13 + body_length // 2,
            "signature length": signature_at + 1, "signature": signature_at + 2 + signature_length // 2,
            "certificate count": certificates_at, "certificate signature": ciphertext_at - 8 - 20,
            "certificate subject": certificates_at + 5 + certificate_length // 3,
            "ciphertext length": ciphertext_at - 1, "ciphertext": ciphertext_at + 40, "last byte": len(data) - 1}


EXPECTED = {"magic": "envelope_malformed", "version": "envelope_malformed", "body length": "envelope_malformed",
            "body": "signature_invalid", "signature length": "envelope_malformed", "signature": "signature_invalid",
            "certificate count": "envelope_malformed", "certificate signature": "issuer_unknown",
            "certificate subject": "issuer_unknown", "ciphertext length": "envelope_malformed",
            "ciphertext": "ciphertext_mismatch", "last byte": "ciphertext_mismatch"}


def test_a_changed_byte_anywhere_is_refused_with_the_reason_of_its_part(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    check(demo_pki, key, data)
    got = {}
    for part, offset in regions(data).items():
        changed = bytearray(data)
        changed[offset] ^= 0x01
        got[part] = refusal(demo_pki, key, bytes(changed))
    expected = dict(EXPECTED)
    # A changed bit in the certificate's subject either breaks its DER or its CA's signature over it.
    if got["certificate subject"] in ("envelope_malformed", "issuer_unknown"):
        expected["certificate subject"] = got["certificate subject"]
    assert got == expected


def test_every_single_byte_change_is_refused(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key, data=env.pack_content("1.00", {}, []))
    for offset in range(len(data)):
        changed = bytearray(data)
        changed[offset] ^= 0x80
        with pytest.raises(EnvelopeRefused):
            check(demo_pki, key, bytes(changed))


def test_cut_short_or_extended_envelopes_are_malformed(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    assert refusal(demo_pki, key, data[:-1]) == "envelope_malformed"
    assert refusal(demo_pki, key, data + b"\x00") == "envelope_malformed"
    assert refusal(demo_pki, key, b"") == "envelope_malformed"


def test_an_envelope_replayed_to_another_section_is_refused(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    other_section = {"section_id": "13", "section_code": "ZB2026-001-02"}
    assert refusal(demo_pki, key, data, section=other_section) == "section_mismatch"
    # ... even if that section had the same key.
    assert refusal(demo_pki, key, data, section={"section_id": "13", "section_code": "ZB2026-001-01"}) \
        == "section_mismatch"


def test_an_envelope_sealed_to_another_key_is_refused(demo_pki):
    data = make(demo_pki, sealing.generate())
    assert refusal(demo_pki, sealing.generate(), data) == "key_mismatch"


def test_an_envelope_of_another_bidder_is_refused(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    assert refusal(demo_pki, key, data, bidder=OTHER_BIDDER_CODE) == "bidder_mismatch"
    # Signed with another organisation's certificate, claiming to be this bidder.
    stranger = demo_pki.issue(credit_code=OTHER_BIDDER_CODE)
    assert refusal(demo_pki, key, make(demo_pki, key, stranger)) == "bidder_mismatch"


def test_certificate_reasons_reach_the_bidder(demo_pki):
    key = sealing.generate()
    expired = demo_pki.issue(not_before=demo_pki.now - timedelta(days=20), days=10)
    assert refusal(demo_pki, key, make(demo_pki, key, expired)) == "certificate_expired"
    no_signing = demo_pki.issue(digital_signature=False)
    assert refusal(demo_pki, key, make(demo_pki, key, no_signing)) == "certificate_usage"
    revoked = demo_pki.issue()
    demo_pki.revoke(revoked)
    assert refusal(demo_pki, key, make(demo_pki, key, revoked)) == "certificate_revoked"
    stranger_key, stranger_ca = pki.make_ca("Other CA", "Elsewhere", demo_pki.now)
    signing_key = pki.new_signing_key()
    foreign = pki.issue_signing_certificate(stranger_key, stranger_ca, signing_key.public_key(), "x", "y",
                                            demo_pki.now, credit_code=BIDDER_CODE)
    data = env.seal_bid(suite=key.suite, section_public_key=key.public, bidder=BIDDER_CODE, content=content(),
                        signing_key=signing_key, certificates=[foreign], now=demo_pki.now, **SECTION)
    assert refusal(demo_pki, key, data) == "issuer_unknown"


@pytest.mark.parametrize(("locale", "words"), [("en", "another section"), ("zh", "其他标段")])
def test_the_refusal_speaks_to_the_bidder(demo_pki, locale, words):
    key = sealing.generate()
    data = make(demo_pki, key)
    with force_locale(locale), pytest.raises(EnvelopeRefused) as refused:
        check(demo_pki, key, data, section={"section_id": "13", "section_code": "X"})
    assert refused.value.status == 422 and words in refused.value.message


# Opening.

def test_opening_failures_say_whose_fault_they_are(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(OpeningFailed) as failed:
        env.open_envelope(data, private_key=sealing.generate().private, section_public_key=key.public,
                          expected_sha256=digest)
    assert failed.value.code == "opening_key_wrong" and not failed.value.bidder_fault
    changed = bytearray(data)
    changed[-1] ^= 1
    with pytest.raises(OpeningFailed) as failed:
        env.open_envelope(bytes(changed), private_key=key.private, section_public_key=key.public,
                          expected_sha256=digest)
    assert failed.value.code == "envelope_changed" and not failed.value.bidder_fault


def test_a_bid_sealed_with_a_wrong_binding_is_the_bidders_fault(demo_pki):
    """A faulty tool sealed with the info of another bidder, but signed the envelope correctly: it is
    accepted (the platform cannot look inside) and fails at the opening, to the bidder's account."""
    key = sealing.generate()
    holder = demo_pki.issue()
    ciphertext = sealing.seal(key.suite, key.public, content(), sealing.info("12", "ZB2026-001-01", "OTHER"))
    body = env.envelope_body(suite=key.suite, key_fingerprint=key.fingerprint, bidder=BIDDER_CODE,
                             ciphertext=ciphertext, sealed_at=demo_pki.now, **SECTION)
    data = env.pack_envelope(env.Envelope(body, signing.sign(holder.key, body), [pki.der(holder.certificate)],
                                          ciphertext))
    check(demo_pki, key, data)
    with pytest.raises(OpeningFailed) as failed:
        env.open_envelope(data, private_key=key.private, section_public_key=key.public)
    assert failed.value.code == "content_undecryptable" and failed.value.bidder_fault
    garbage = make(demo_pki, key, holder, data=b"not a bid container")
    check(demo_pki, key, garbage)
    with pytest.raises(OpeningFailed) as failed:
        env.open_envelope(garbage, private_key=key.private, section_public_key=key.public)
    assert failed.value.code == "content_malformed" and failed.value.bidder_fault


# Receipts.

def test_a_receipt_is_signed_by_the_seal_and_verifies_offline(demo_pki):
    key = sealing.generate()
    data = make(demo_pki, key)
    checked = check(demo_pki, key, data)
    received = clock.now().replace(microsecond=123456)
    receipt = env.sign_receipt(checked, sequence=7, received_at=received)
    certificate_pem = seal.current("seal").certificate_pem
    body = env.verify_receipt(receipt, certificate_pem)
    assert body == {"type": "eproc-bid-receipt", "version": 1, "section": {"id": "12", "code": "ZB2026-001-01"},
                    "bidder": BIDDER_CODE, "envelope": {"sha256": hashlib.sha256(data).hexdigest(),
                                                        "size": len(data)},
                    "received_at": received.isoformat(timespec="milliseconds").replace("+00:00", "") + "+00:00",
                    "sequence": 7, "certificate": seal.current("seal").certificate_sha256}
    assert body["received_at"].endswith(".123+00:00")
    wrapper = json.loads(receipt)
    tampered = json.dumps({"body": wrapper["body"].replace('"sequence":7', '"sequence":8'),
                           "signature": wrapper["signature"]}).encode()
    with pytest.raises(SignatureRefused) as refused:
        env.verify_receipt(tampered, certificate_pem)
    assert refused.value.code == "signature_invalid"
    with pytest.raises(SignatureRefused) as refused:
        env.verify_receipt(b"{}", certificate_pem)
    assert refused.value.code == "receipt_malformed"
    # Another certificate (e.g. a bidder's) does not verify it.
    with pytest.raises(SignatureRefused):
        env.verify_receipt(receipt, pki.pem(demo_pki.issue().certificate))
