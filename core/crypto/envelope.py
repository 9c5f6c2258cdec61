"""Sealed bid envelopes, the bid inside them, and the platform's receipts (docs/formats.md).

- ``pack_content`` / ``unpack_content``: the plaintext — price, quoted terms and documents in one
  deterministic container ("EPROCBID").
- ``seal_bid``: what the bidder's tool does (bidtool/ has its own copy of these few lines): HPKE-seal the
  content to the section's key, sign the envelope body with the bidder's certified key ("EPROCENV").
- ``check_envelope``: what the platform does before accepting one: structure, signature, certificate path
  to the trust store, and that it is for this section, this section's key and this bidder.
- ``open_envelope``: at the opening, with the rebuilt private key; failures say whether the bidder is to blame.
- ``check_and_open``: both at the opening, from one parse and one hash of the envelope.
- ``receipt_body`` / ``sign_receipt`` / ``verify_receipt``: the receipt signed with the platform seal.
"""
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from cryptography import x509
from cryptography.exceptions import InvalidTag
from flask_babel import lazy_gettext as _l

from core.crypto import canonical, pki, sealing, signing
from core.crypto.signing import SignatureRefused, TrustAnchors
from core.errors import DomainError

ENVELOPE_MAGIC = b"EPROCENV"
CONTENT_MAGIC = b"EPROCBID"
VERSION = 1
ENVELOPE_TYPE = "eproc-bid-envelope"
RECEIPT_TYPE = "eproc-bid-receipt"
MAX_BODY = 64 * 1024
MAX_SIGNATURE = 512
MAX_CERTIFICATES = 4
MAX_CERTIFICATE = 16 * 1024
MAX_NAME = 255
HEX64 = re.compile(r"[0-9a-f]{64}")
PRICE = re.compile(r"(0|[1-9][0-9]{0,15})\.[0-9]{2}")

REASONS = signing.REASONS | {
    "envelope_malformed": _l("The file is not a sealed bid envelope made by the bidding tool, or it was cut "
                             "short or changed."),
    "ciphertext_mismatch": _l("The sealed bid inside the envelope is not the one the bidder signed."),
    "section_mismatch": _l("This envelope was sealed for another section."),
    "key_mismatch": _l("This envelope was sealed to another opening key than this section's: download the "
                       "section's key again and seal the bid anew."),
    "bidder_mismatch": _l("This envelope was sealed and signed for another bidder."),
}
OPEN_REASONS = {
    # The bidder is to blame: the envelope was accepted as signed, but its sealed content is unusable.
    "content_undecryptable": _l("The bid does not decrypt with this section's key: the bidder's tool did "
                                "not seal it for this section and bidder."),
    "content_malformed": _l("The bid decrypts but its content is not a valid bid."),
    # The platform is to blame: the stored envelope or the rebuilt key is not what it should be.
    "envelope_changed": _l("The stored envelope differs from the one received (its hash does not match "
                           "the receipt)."),
    "opening_key_wrong": _l("The opening key rebuilt from the shares is not this section's key."),
}
BIDDER_FAULTS = frozenset({"content_undecryptable", "content_malformed"})


class EnvelopeRefused(SignatureRefused):
    """An envelope refused at submission; ``code`` is one of REASONS."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail, REASONS.get(code, code))


class OpeningFailed(DomainError):
    """An envelope that could not be opened; ``bidder_fault`` says who is to blame."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, str(OPEN_REASONS[code]), 422)
        self.detail = detail
        self.bidder_fault = code in BIDDER_FAULTS


# The content.

@dataclass(frozen=True)
class Document:
    name: str
    type: str
    data: bytes
    sha256: str = field(default="", compare=False, repr=False)  # of ``data``, when unpacked (checked there)


@dataclass(frozen=True)
class BidContent:
    price: Decimal
    terms: dict[str, str]
    documents: list[Document]


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME or any(c in name for c in "/\\\x00") or name in (".", ".."):
        raise ValueError(f"document name {name!r} is not allowed")


def pack_content(price, terms: dict[str, str], documents: list[Document]) -> bytes:
    """"EPROCBID" ‖ 0x01 ‖ uint32 header length ‖ canonical JSON header ‖ documents' bytes in order."""
    price_text = str(Decimal(price).quantize(Decimal("0.01"))) if not isinstance(price, str) else price
    if not PRICE.fullmatch(price_text):
        raise ValueError("price must be a non-negative amount with two decimals, e.g. '1234.50'")
    names = set()
    for document in documents:
        _check_name(document.name)
        if document.name in names:
            raise ValueError(f"two documents are named {document.name!r}")
        names.add(document.name)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in terms.items()):
        raise ValueError("quoted terms are text: {name: value}")
    header = canonical.canonical({
        "price": price_text,
        "terms": dict(terms),
        "documents": [{"name": d.name, "type": d.type, "size": len(d.data),
                       "sha256": hashlib.sha256(d.data).hexdigest()} for d in documents],
    })
    return CONTENT_MAGIC + bytes([VERSION]) + struct.pack(">I", len(header)) + header + b"".join(
        d.data for d in documents)


def unpack_content(data: bytes) -> BidContent:
    """The bid in ``data``; ValueError naming what is wrong."""
    if data[:8] != CONTENT_MAGIC or data[8:9] != bytes([VERSION]) or len(data) < 13:
        raise ValueError("not a bid content container")
    (length,) = struct.unpack(">I", data[9:13])
    header_bytes = data[13:13 + length]
    if len(header_bytes) != length:
        raise ValueError("header cut short")
    header = json.loads(header_bytes.decode("utf-8"))
    if canonical.canonical(header) != header_bytes:
        raise ValueError("header is not canonical JSON")
    if set(header) != {"price", "terms", "documents"} or not PRICE.fullmatch(str(header["price"])):
        raise ValueError("header fields")
    terms = header["terms"]
    if not isinstance(terms, dict) or not all(isinstance(v, str) for v in terms.values()):
        raise ValueError("terms")
    documents, offset = [], 13 + length
    for entry in header["documents"]:
        if set(entry) != {"name", "type", "size", "sha256"} or not isinstance(entry["size"], int) \
                or entry["size"] < 0:
            raise ValueError("document entry")
        _check_name(entry["name"])
        blob = data[offset:offset + entry["size"]]
        if len(blob) != entry["size"] or hashlib.sha256(blob).hexdigest() != entry["sha256"]:
            raise ValueError(f"document {entry['name']!r} does not match its hash")
        documents.append(Document(entry["name"], entry["type"], blob, entry["sha256"]))
        offset += entry["size"]
    if offset != len(data):
        raise ValueError("bytes after the last document")
    return BidContent(Decimal(header["price"]), terms, documents)


# The section key file the platform publishes for bidders' tools.

SECTION_KEY_TYPE = "eproc-section-key"


def section_key_file(*, section_id, section_code: str, suite: str, public_key: bytes) -> bytes:
    """Canonical JSON {"type": "eproc-section-key", "version": 1, "suite", "section": {"id", "code"},
    "public_key": "<hex of the public key bytes>"}: what a bidder downloads to seal with."""
    return canonical.canonical({"type": SECTION_KEY_TYPE, "version": VERSION, "suite": suite,
                                "section": {"id": str(section_id), "code": section_code},
                                "public_key": public_key.hex()})


# The envelope.

@dataclass(frozen=True)
class Envelope:
    body_bytes: bytes
    signature: bytes
    certificates: list[bytes]  # DER, leaf first
    ciphertext: bytes


def pack_envelope(envelope: Envelope) -> bytes:
    parts = [ENVELOPE_MAGIC, bytes([VERSION]), struct.pack(">I", len(envelope.body_bytes)), envelope.body_bytes,
             struct.pack(">H", len(envelope.signature)), envelope.signature, bytes([len(envelope.certificates)])]
    for certificate in envelope.certificates:
        parts += [struct.pack(">I", len(certificate)), certificate]
    parts += [struct.pack(">Q", len(envelope.ciphertext)), envelope.ciphertext]
    return b"".join(parts)


def parse_envelope(data: bytes) -> Envelope:
    """The envelope's parts, or EnvelopeRefused("envelope_malformed")."""
    view, offset = memoryview(data), 0

    def take(size: int) -> bytes:
        nonlocal offset
        if size < 0 or offset + size > len(view):
            raise EnvelopeRefused("envelope_malformed", "cut short")
        chunk = bytes(view[offset:offset + size])
        offset += size
        return chunk

    if take(8) != ENVELOPE_MAGIC or take(1) != bytes([VERSION]):
        raise EnvelopeRefused("envelope_malformed", "not an envelope of version 1")
    (body_length,) = struct.unpack(">I", take(4))
    if body_length > MAX_BODY:
        raise EnvelopeRefused("envelope_malformed", "body too long")
    body = take(body_length)
    (signature_length,) = struct.unpack(">H", take(2))
    if signature_length > MAX_SIGNATURE:
        raise EnvelopeRefused("envelope_malformed", "signature too long")
    signature = take(signature_length)
    count = take(1)[0]
    if not 1 <= count <= MAX_CERTIFICATES:
        raise EnvelopeRefused("envelope_malformed", "number of certificates")
    certificates = []
    for _ in range(count):
        (length,) = struct.unpack(">I", take(4))
        if length > MAX_CERTIFICATE:
            raise EnvelopeRefused("envelope_malformed", "certificate too long")
        certificates.append(take(length))
    (ciphertext_length,) = struct.unpack(">Q", take(8))
    ciphertext = take(ciphertext_length)
    if offset != len(view):
        raise EnvelopeRefused("envelope_malformed", "bytes after the ciphertext")
    return Envelope(body, signature, certificates, ciphertext)


def envelope_body(*, suite: str, key_fingerprint: str, section_id: str, section_code: str, bidder: str,
                  ciphertext: bytes, sealed_at: datetime) -> bytes:
    return canonical.canonical({
        "type": ENVELOPE_TYPE, "version": VERSION, "suite": suite, "key": key_fingerprint,
        "section": {"id": str(section_id), "code": section_code}, "bidder": bidder,
        "ciphertext": {"sha256": hashlib.sha256(ciphertext).hexdigest(), "size": len(ciphertext)},
        "sealed_at": sealed_at,
    })


def seal_bid(*, suite: str, section_public_key: bytes, section_id: str, section_code: str, bidder: str,
             content: bytes, signing_key, certificates: list[x509.Certificate], now: datetime) -> bytes:
    """The envelope the bidder's tool makes: ``content`` (from pack_content) sealed to the section's key
    with the info string binding section and bidder; the body signed by ``signing_key`` whose certificate
    is ``certificates[0]`` (any intermediates follow)."""
    ciphertext = sealing.seal(suite, section_public_key, content, sealing.info(section_id, section_code, bidder))
    body = envelope_body(suite=suite, key_fingerprint=sealing.key_fingerprint(section_public_key),
                         section_id=section_id, section_code=section_code, bidder=bidder,
                         ciphertext=ciphertext, sealed_at=now)
    return pack_envelope(Envelope(body, signing.sign(signing_key, body), [pki.der(c) for c in certificates],
                                  ciphertext))


@dataclass(frozen=True)
class CheckedEnvelope:
    sha256: str  # of the whole envelope file: what the receipt names
    size: int
    suite: str
    body: dict
    certificate_fingerprint: str  # the bidder's signing certificate
    signer: str  # the certificate's subject, for the journal and the opening record


def _body_fields(body_bytes: bytes) -> dict:
    try:
        body = json.loads(body_bytes.decode("utf-8"))
        good = (canonical.canonical(body) == body_bytes
                and body["type"] == ENVELOPE_TYPE and body["version"] == VERSION
                and body["suite"] in sealing.SUITES and HEX64.fullmatch(body["key"])
                and isinstance(body["section"]["id"], str) and isinstance(body["section"]["code"], str)
                and isinstance(body["bidder"], str) and isinstance(body["sealed_at"], str)
                and HEX64.fullmatch(body["ciphertext"]["sha256"])
                and isinstance(body["ciphertext"]["size"], int))
    except (KeyError, TypeError, ValueError):
        good = False
    if not good:
        raise EnvelopeRefused("envelope_malformed", "body fields")
    return body


def _body_or_none(body_bytes: bytes) -> dict | None:
    """The body's fields, or None when malformed (check_envelope refuses that after the signature)."""
    try:
        return _body_fields(body_bytes)
    except EnvelopeRefused:
        return None


def check_envelope(data: bytes, *, section_id, section_code: str, section_public_key: bytes, bidder: str,
                   anchors: TrustAnchors, now: datetime) -> CheckedEnvelope:
    """Accept or refuse an envelope for this section (its id, code and public key) from this bidder
    (credit code), at ``now``. Refusals (EnvelopeRefused.code), first failing in this order:
    envelope_malformed, signature_invalid, ciphertext_mismatch, issuer_unknown, certificate_expired,
    certificate_revoked, certificate_usage, section_mismatch, key_mismatch, bidder_mismatch."""
    envelope = parse_envelope(data)
    return _check_parsed(envelope, _body_or_none(envelope.body_bytes), hashlib.sha256(data).hexdigest(), len(data),
                         section_id=section_id, section_code=section_code, section_public_key=section_public_key,
                         bidder=bidder, anchors=anchors, now=now)


def _check_parsed(envelope: Envelope, body: dict | None, sha256: str, size: int, *, section_id, section_code: str,
                  section_public_key: bytes, bidder: str, anchors: TrustAnchors, now: datetime) -> CheckedEnvelope:
    """check_envelope's checks on an envelope parsed already (``body`` from _body_or_none: a malformed body is
    refused after the signature, in check_envelope's order)."""
    try:
        certificates = [pki.load_untrusted(c) for c in envelope.certificates]
    except ValueError:
        raise EnvelopeRefused("envelope_malformed", "certificate unreadable") from None
    leaf = certificates[0]
    if not signing.signature_valid(leaf.public_key(), envelope.signature, envelope.body_bytes):
        raise EnvelopeRefused("signature_invalid")
    if body is None:
        raise EnvelopeRefused("envelope_malformed", "body fields")
    if body["ciphertext"] != {"sha256": hashlib.sha256(envelope.ciphertext).hexdigest(),
                              "size": len(envelope.ciphertext)}:
        raise EnvelopeRefused("ciphertext_mismatch")
    try:
        signing.check_certificate(leaf, certificates[1:], anchors, now)
    except SignatureRefused as refused:
        raise EnvelopeRefused(refused.code, refused.detail) from None
    if body["section"] != {"id": str(section_id), "code": section_code}:
        raise EnvelopeRefused("section_mismatch", f"sealed for {body['section']}")
    if body["key"] != sealing.key_fingerprint(section_public_key):
        raise EnvelopeRefused("key_mismatch")
    if body["bidder"] != bidder or pki.credit_code_of(leaf) != bidder:
        raise EnvelopeRefused("bidder_mismatch",
                              f"envelope names {body['bidder']}, certificate {pki.credit_code_of(leaf)}")
    return CheckedEnvelope(sha256, size, body["suite"], body, pki.fingerprint(leaf), leaf.subject.rfc4514_string())


def open_envelope(data: bytes, *, private_key: bytes, section_public_key: bytes, expected_sha256: str | None = None
                  ) -> BidContent:
    """The bid inside an envelope accepted earlier, with the section's private key (rebuilt from the
    shares). OpeningFailed.bidder_fault tells whose fault a failure is."""
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise OpeningFailed("envelope_changed")
    try:
        envelope = parse_envelope(data)
        body = _body_fields(envelope.body_bytes)
    except EnvelopeRefused as refused:
        raise OpeningFailed("envelope_changed", refused.detail) from None
    return _open_parsed(envelope, body, private_key=private_key, section_public_key=section_public_key)


def _open_parsed(envelope: Envelope, body: dict, *, private_key: bytes, section_public_key: bytes) -> BidContent:
    suite = body["suite"]
    try:
        public = sealing.public_from_private(suite, private_key)
    except ValueError:
        raise OpeningFailed("opening_key_wrong", "key size") from None
    if public != section_public_key or body["key"] != sealing.key_fingerprint(public):
        raise OpeningFailed("opening_key_wrong")
    info = sealing.info(body["section"]["id"], body["section"]["code"], body["bidder"])
    try:
        plaintext = sealing.open_(suite, private_key, envelope.ciphertext, info)
    except InvalidTag:
        raise OpeningFailed("content_undecryptable") from None
    try:
        return unpack_content(plaintext)
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise OpeningFailed("content_malformed", str(error)) from None


def check_and_open(data: bytes, *, expected_sha256: str, section_id, section_code: str, section_public_key: bytes,
                   bidder: str, anchors: TrustAnchors, now: datetime, private_key: bytes
                   ) -> tuple[CheckedEnvelope, BidContent]:
    """At the opening: ``check_envelope`` (as at its receipt, at ``now``) then ``open_envelope``, from one parse
    and one hash of the envelope. Raises OpeningFailed("envelope_changed") when ``data`` is not the envelope
    received (``expected_sha256``), then what check_envelope refuses (EnvelopeRefused), then what
    open_envelope fails with (OpeningFailed)."""
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != expected_sha256:
        raise OpeningFailed("envelope_changed")
    envelope = parse_envelope(data)
    body = _body_or_none(envelope.body_bytes)
    checked = _check_parsed(envelope, body, sha256, len(data), section_id=section_id, section_code=section_code,
                            section_public_key=section_public_key, bidder=bidder, anchors=anchors, now=now)
    return checked, _open_parsed(envelope, body, private_key=private_key, section_public_key=section_public_key)


# Receipts.

def received_at_text(moment: datetime) -> str:
    """Receipt times: UTC to the millisecond, e.g. "2026-11-23T05:07:09.123+00:00"."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def receipt_body(*, section_id, section_code: str, bidder: str, envelope_sha256: str, envelope_size: int,
                 received_at: datetime, sequence: int, certificate_fingerprint: str) -> bytes:
    return canonical.canonical({
        "type": RECEIPT_TYPE, "version": VERSION,
        "section": {"id": str(section_id), "code": section_code}, "bidder": bidder,
        "envelope": {"sha256": envelope_sha256, "size": envelope_size},
        "received_at": received_at_text(received_at), "sequence": sequence,
        "certificate": certificate_fingerprint,
    })


def sign_receipt(checked: CheckedEnvelope, *, sequence: int, received_at: datetime, key=None) -> bytes:
    """The receipt file for an accepted envelope: canonical JSON {"body": "<receipt body>", "signature":
    "<hex>"}, signed with ``key`` or else the current platform seal (made on first use; the caller commits)."""
    from core import seal  # the seal's key lives in the database
    key = key or seal.ensure(received_at)
    body = receipt_body(section_id=checked.body["section"]["id"], section_code=checked.body["section"]["code"],
                        bidder=checked.body["bidder"], envelope_sha256=checked.sha256,
                        envelope_size=checked.size, received_at=received_at, sequence=sequence,
                        certificate_fingerprint=key.certificate_sha256)
    return canonical.canonical({"body": body.decode("utf-8"), "signature": seal.sign(key, body).hex()})


def verify_receipt(receipt: bytes, certificate_pem: str) -> dict:
    """The receipt's body if the seal certificate ``certificate_pem`` signed it; else
    SignatureRefused("signature_invalid") (or "receipt_malformed")."""
    try:
        wrapper = json.loads(receipt.decode("utf-8"))
        body_bytes = wrapper["body"].encode("utf-8")
        signature = bytes.fromhex(wrapper["signature"])
        body = json.loads(body_bytes)
        good = isinstance(body, dict) and body.get("type") == RECEIPT_TYPE
    except (ValueError, KeyError, TypeError, AttributeError):
        good = False
    if not good:
        raise SignatureRefused("receipt_malformed", message=_l("This is not a receipt of the platform."))
    certificate = pki.load_certificate(certificate_pem)
    if body.get("certificate") != pki.fingerprint(certificate) or not signing.signature_valid(
            certificate.public_key(), signature, body_bytes):
        raise SignatureRefused("signature_invalid")
    return body
