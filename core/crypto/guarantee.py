"""Electronic bid guarantees (电子投标保函): the document, the guarantor's signature, and the checks.

The guarantee is the canonical JSON (RFC 8785) of DOMAIN.md's fields, signed by the guarantor's key
(ECDSA P-256 / SHA-256 or Ed25519) certified by a CA of the trust store. The signed guarantee travels as
canonical JSON {"body": "<the body, a string>", "signature": "<hex>", "certificates": ["<PEM>", ...]}
(leaf first). docs/formats.md, "Electronic bid guarantee", says it byte by byte.

``verify_guarantee`` answers with the FIRST failing reason of DOMAIN.md, in its order.
"""
import json
import re
import unicodedata
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cryptography import x509
from flask_babel import lazy_gettext as _l

from core import money
from core.crypto import canonical, pki, signing
from core.crypto.signing import SignatureRefused, TrustAnchors

TYPE = "eproc-bid-guarantee"
VERSION = 1
CURRENCY = "CNY"
HEX64 = re.compile(r"[0-9a-f]{64}")
AMOUNT = re.compile(r"(0|[1-9][0-9]{0,15})\.[0-9]{2}")
PARTIES = ("guarantor", "applicant", "beneficiary")
FIELDS = {"type", "version", "number", "guarantor", "applicant", "beneficiary", "project", "section", "amount",
          "currency", "valid_from", "valid_to", "issued_at", "letter_sha256"}

REASONS = signing.REASONS | {
    "guarantee_malformed": _l("The file is not an electronic bid guarantee in the platform's format."),
    "applicant_mismatch": _l("The guarantee was issued for another bidder."),
    "beneficiary_mismatch": _l("The guarantee is in favour of another procuring unit."),
    "project_mismatch": _l("The guarantee is for another project."),
    "section_mismatch": _l("The guarantee is for another section."),
    "amount_short": _l("The guaranteed amount is below the section's required bid guarantee."),
    "validity_short": _l("The guarantee does not cover the bid deadline plus the bid validity period."),
    "guarantee_revoked": _l("The guarantor has revoked this guarantee."),
    "number_reused": _l("This guarantee number has already been presented for another bid."),
}


@dataclass(frozen=True)
class Party:
    name: str
    credit_code: str


@dataclass(frozen=True)
class Expectation:
    """What a guarantee presented with a bid must say."""
    bidder: Party
    procuring_unit: Party
    project_code: str
    section_code: str
    required_amount: Decimal
    deadline: datetime
    validity_days: int


@dataclass(frozen=True)
class Verdict:
    reason: str | None  # None: accepted
    guarantee: dict | None  # the body, once it could be read
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def message(self) -> str:
        return "" if self.reason is None else str(REASONS.get(self.reason, self.reason))


def guarantee_body(*, number: str, guarantor: Party, applicant: Party, beneficiary: Party, project_code: str,
                   section_code: str, amount: Decimal, valid_from: datetime, valid_to: datetime,
                   issued_at: datetime, letter_sha256: str | None = None, currency: str = CURRENCY) -> bytes:
    body = {
        "type": TYPE, "version": VERSION, "number": number,
        "guarantor": {"name": guarantor.name, "credit_code": guarantor.credit_code},
        "applicant": {"name": applicant.name, "credit_code": applicant.credit_code},
        "beneficiary": {"name": beneficiary.name, "credit_code": beneficiary.credit_code},
        "project": project_code, "section": section_code,
        "amount": money.to_json(amount), "currency": currency,
        "valid_from": valid_from, "valid_to": valid_to, "issued_at": issued_at,
        "letter_sha256": letter_sha256,
    }
    return canonical.canonical(body)


def sign_guarantee(body: bytes, signing_key, certificates: list[x509.Certificate]) -> bytes:
    """The signed guarantee file (canonical JSON, UTF-8) the guarantor issues."""
    return canonical.canonical({"body": body.decode("utf-8"), "signature": signing.sign(signing_key, body).hex(),
                                "certificates": [pki.pem(c) for c in certificates]})


def _read(signed: bytes):
    wrapper = json.loads(signed.decode("utf-8") if isinstance(signed, bytes) else signed)
    if not isinstance(wrapper, dict) or not isinstance(wrapper.get("body"), str) \
            or not isinstance(wrapper.get("signature"), str) or not isinstance(wrapper.get("certificates"), list) \
            or not wrapper["certificates"] or len(wrapper["certificates"]) > 4:
        raise ValueError("wrapper")
    if not all(isinstance(text, str) for text in wrapper["certificates"]):
        raise ValueError("certificates")
    certificates = [pki.load_untrusted(text.encode()) for text in wrapper["certificates"]]
    return wrapper["body"].encode("utf-8"), bytes.fromhex(wrapper["signature"]), certificates


def _moment(text) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without offset")
    return moment


def _fields_valid(body) -> bool:
    if not isinstance(body, dict) or set(body) != FIELDS or body["type"] != TYPE or body["version"] != VERSION:
        return False
    for party in PARTIES:
        if not isinstance(body[party], dict) or set(body[party]) != {"name", "credit_code"} \
                or not all(isinstance(v, str) for v in body[party].values()):
            return False
    if not all(isinstance(body[k], str) for k in ("number", "project", "section", "amount", "currency")):
        return False
    if not body["number"] or not AMOUNT.fullmatch(body["amount"]):
        return False
    if body["letter_sha256"] is not None and not (isinstance(body["letter_sha256"], str)
                                                  and HEX64.fullmatch(body["letter_sha256"])):
        return False
    try:
        for key in ("valid_from", "valid_to", "issued_at"):
            _moment(body[key])
    except (TypeError, ValueError):
        return False
    return True


def _same_name(a: str, b: str) -> bool:
    """Names compare after NFKC (full-width brackets are the ASCII ones) without white space."""
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())
    return norm(a) == norm(b)


def _party_matches(party: dict, expected: Party) -> bool:
    return party["credit_code"].strip().upper() == expected.credit_code.strip().upper() \
        and _same_name(party["name"], expected.name)


def verify_guarantee(signed: bytes, expected: Expectation, anchors: TrustAnchors, *, now: datetime,
                     revoked: bool = False, number_used: Callable[[str], bool] | Container[str] = ()) -> Verdict:
    """Check a signed guarantee presented with a bid at ``now`` (at upload and again at opening).

    ``revoked``: the guarantor has revoked it (the platform's record); ``number_used``: a callable
    ``number -> bool`` or a set of numbers already presented for another bid. The answer names the first
    failing reason in DOMAIN.md's order; the guarantor's certificate must be valid at the guarantee's
    issue time, not revoked by ``now``, and name the guarantor's credit code (else signature_invalid)."""
    try:
        body_bytes, signature, certificates = _read(signed)
    except (ValueError, TypeError, UnicodeDecodeError):
        return Verdict("guarantee_malformed", None)
    leaf = certificates[0]
    if not signing.signature_valid(leaf.public_key(), signature, body_bytes):
        return Verdict("signature_invalid", None)
    try:
        body = json.loads(body_bytes)
        if not _fields_valid(body) or canonical.canonical(body) != body_bytes:
            return Verdict("guarantee_malformed", None)
    except (ValueError, TypeError):
        return Verdict("guarantee_malformed", None)
    if pki.credit_code_of(leaf) != body["guarantor"]["credit_code"]:
        return Verdict("signature_invalid", body, "signed with a certificate of another organisation")
    try:
        signing.check_certificate(leaf, certificates[1:], anchors, _moment(body["issued_at"]), now)
    except SignatureRefused as refused:
        return Verdict(refused.code, body, refused.detail)
    if not _party_matches(body["applicant"], expected.bidder):
        return Verdict("applicant_mismatch", body)
    if not _party_matches(body["beneficiary"], expected.procuring_unit):
        return Verdict("beneficiary_mismatch", body)
    if body["project"] != expected.project_code:
        return Verdict("project_mismatch", body)
    if body["section"] != expected.section_code:
        return Verdict("section_mismatch", body)
    if body["currency"] != CURRENCY or Decimal(body["amount"]) < Decimal(expected.required_amount):
        return Verdict("amount_short", body)
    must_cover_until = expected.deadline + timedelta(days=expected.validity_days)
    if _moment(body["valid_from"]) > expected.deadline or _moment(body["valid_to"]) < must_cover_until:
        return Verdict("validity_short", body)
    if revoked:
        return Verdict("guarantee_revoked", body)
    used = number_used(body["number"]) if callable(number_used) else body["number"] in number_used
    if used:
        return Verdict("number_reused", body)
    return Verdict(None, body)
