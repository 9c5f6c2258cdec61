"""The platform's formats as the bidder's side needs them (docs/formats.md): the bid container, the
sealed envelope, the section key file and the receipt. Deliberately a copy, not an import, of the
platform's code: a third party could write the same from the document."""
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, x25519

ENVELOPE_MAGIC, CONTENT_MAGIC, VERSION = b"EPROCENV", b"EPROCBID", 1
SUITES = {
    "x25519": hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    "mlkem768-x25519": hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
PUBLIC_SIZE = {"x25519": 32, "mlkem768-x25519": 1216}
PRICE = re.compile(r"(0|[1-9][0-9]{0,15})\.[0-9]{2}")


class FormatError(Exception):
    """Input that is not in the platform's format (the message says what)."""


@dataclass(frozen=True)
class SectionKey:
    section_id: str
    section_code: str
    suite: str
    public: bytes

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.public).hexdigest()


def read_section_key(data: bytes) -> SectionKey:
    """The section key file the platform publishes: {"type": "eproc-section-key", "version": 1, "suite",
    "section": {"id", "code"}, "public_key": hex}."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if doc["type"] != "eproc-section-key" or doc["version"] != VERSION or doc["suite"] not in SUITES:
            raise FormatError("not a section key file of version 1")
        public = bytes.fromhex(doc["public_key"])
        section = doc["section"]
        key = SectionKey(str(section["id"]), str(section["code"]), doc["suite"], public)
    except (ValueError, KeyError, TypeError) as error:
        raise FormatError(f"not a section key file: {error}") from None
    if len(public) != PUBLIC_SIZE[key.suite]:
        raise FormatError("the public key has the wrong size for its suite")
    return key


def _public_key(suite: str, public: bytes):
    if suite == "x25519":
        return x25519.X25519PublicKey.from_public_bytes(public)
    return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(public[:1184]),
                                        x25519.X25519PublicKey.from_public_bytes(public[1184:]))


def _field(value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def info(section_id: str, section_code: str, bidder: str) -> bytes:
    return b"eproc-bid-seal/1" + _field(section_id) + _field(section_code) + _field(bidder)


def pack_content(price: str, terms: dict[str, str], documents: list[tuple[str, str, bytes]]) -> bytes:
    """The bid: "EPROCBID" 0x01, uint32 header length, canonical JSON header, the documents' bytes."""
    if not PRICE.fullmatch(price):
        raise FormatError("the price is an amount with two decimals, e.g. 1234.50")
    names = [name for name, _type, _data in documents]
    if len(set(names)) != len(names) or any(not n or len(n) > 255 or any(c in n for c in "/\\\x00")
                                            or n in (".", "..") for n in names):
        raise FormatError("document names must be unique file names without folders")
    header = rfc8785.dumps({"price": price, "terms": dict(terms), "documents": [
        {"name": name, "type": kind, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, kind, data in documents]})
    return CONTENT_MAGIC + bytes([VERSION]) + struct.pack(">I", len(header)) + header + b"".join(
        data for _name, _kind, data in documents)


def sign(private_key, data: bytes) -> bytes:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise FormatError("the bidder's key must be ECDSA P-256 or Ed25519")


def credit_code(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
    if not values:
        raise FormatError("the certificate names no credit code (subject serialNumber)")
    return str(values[0].value)


def seal(section: SectionKey, content: bytes, signing_key, certificates: list[x509.Certificate],
         now: datetime | None = None) -> bytes:
    """The envelope: content HPKE-sealed to the section's key, body signed by the bidder."""
    bidder = credit_code(certificates[0])
    ciphertext = SUITES[section.suite].encrypt(content, _public_key(section.suite, section.public),
                                               info=info(section.section_id, section.section_code, bidder))
    sealed_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    body = rfc8785.dumps({
        "type": "eproc-bid-envelope", "version": VERSION, "suite": section.suite, "key": section.fingerprint,
        "section": {"id": section.section_id, "code": section.section_code}, "bidder": bidder,
        "ciphertext": {"sha256": hashlib.sha256(ciphertext).hexdigest(), "size": len(ciphertext)},
        "sealed_at": sealed_at,
    })
    signature = sign(signing_key, body)
    parts = [ENVELOPE_MAGIC, bytes([VERSION]), struct.pack(">I", len(body)), body,
             struct.pack(">H", len(signature)), signature, bytes([len(certificates)])]
    for certificate in certificates:
        der = certificate.public_bytes(serialization.Encoding.DER)
        parts += [struct.pack(">I", len(der)), der]
    parts += [struct.pack(">Q", len(ciphertext)), ciphertext]
    return b"".join(parts)


def verify_receipt(receipt: bytes, seal_certificate: x509.Certificate, ca: x509.Certificate | None = None,
                   envelope: bytes | None = None) -> dict:
    """The receipt's body if the platform's seal signed it (and, if given, the seal certificate was issued
    by ``ca`` and the receipt names ``envelope``); FormatError saying what fails."""
    try:
        wrapper = json.loads(receipt.decode("utf-8"))
        body_bytes = wrapper["body"].encode("utf-8")
        signature = bytes.fromhex(wrapper["signature"])
        body = json.loads(body_bytes)
        if body["type"] != "eproc-bid-receipt":
            raise FormatError("not a bid receipt")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FormatError(f"not a receipt of the platform: {error}") from None
    fingerprint = hashlib.sha256(seal_certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    if body.get("certificate") != fingerprint:
        raise FormatError("the receipt names another seal certificate")
    try:
        seal_certificate.public_key().verify(signature, body_bytes, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, TypeError, AttributeError):
        raise FormatError("the seal's signature does not match the receipt") from None
    if ca is not None:
        try:
            seal_certificate.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            raise FormatError("the seal certificate was not issued by this CA") from None
    if envelope is not None and body["envelope"] != {"sha256": hashlib.sha256(envelope).hexdigest(),
                                                     "size": len(envelope)}:
        raise FormatError("the receipt is for another envelope")
    return body


def load_signing_key(data: bytes, password: bytes | None = None):
    return serialization.load_pem_private_key(data, password=password)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def price_text(value: str) -> str:
    """A price typed by a person ("1,234.5") as the container wants it ("1234.50")."""
    try:
        amount = Decimal(value.replace(",", "").strip())
    except ArithmeticError:
        raise FormatError(f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise FormatError("the price is a non-negative amount with at most two decimals")
    return str(amount.quantize(Decimal("0.01")))
