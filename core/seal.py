"""The platform seal (电子见证章): an ECDSA P-256 key certified by the platform's own CA.

Private keys are stored only encrypted under MASTER_KEY (never in the database), so a copy of the
database alone cannot produce a seal signature. Rotation retires the current seal but keeps its
certificate, so that signatures made with it still verify.
"""
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from flask_babel import gettext as _

from core.crypto import pki, secretbox
from core.errors import DomainError
from core.extensions import db
from core.models import PlatformKey

ORGANISATION = "Public Resource Trading Platform"


def _purpose(key: PlatformKey) -> str:
    return f"platform-key:{key.purpose}:{key.certificate_sha256}"


def _store(purpose: str, private_key, certificate, now: datetime) -> PlatformKey:
    row = PlatformKey(purpose=purpose, certificate_pem=pki.pem(certificate),
                      certificate_sha256=pki.fingerprint(certificate), private_key_box=b"", created_at=now)
    row.private_key_box = secretbox.seal(pki.private_bytes(private_key), _purpose(row))
    db.session.add(row)
    db.session.flush()
    return row


def _private_key(row: PlatformKey):
    try:
        return pki.load_private(secretbox.open_(row.private_key_box, _purpose(row)))
    except ValueError:
        raise DomainError("seal_key_unavailable",
                          _("The platform's key cannot be opened with this installation's MASTER_KEY."), 503) from None


def current(purpose: str) -> PlatformKey | None:
    return db.session.scalars(select(PlatformKey).where(PlatformKey.purpose == purpose,
                                                        PlatformKey.retired_at.is_(None))
                              .order_by(PlatformKey.id.desc())).first()


def certificates(purpose: str) -> list[PlatformKey]:
    return list(db.session.scalars(select(PlatformKey).where(PlatformKey.purpose == purpose)
                                   .order_by(PlatformKey.id)))


def ensure(now: datetime) -> PlatformKey:
    """The current seal, making the CA and the seal on first use."""
    seal = current("seal")
    if seal is not None:
        return seal
    ca = current("ca")
    if ca is None:
        ca_key, ca_certificate = pki.make_ca("Platform Root CA", ORGANISATION, now)
        ca = _store("ca", ca_key, ca_certificate, now)
    return _issue_seal(ca, now)


def _issue_seal(ca: PlatformKey, now: datetime) -> PlatformKey:
    key = pki.new_key()
    certificate = pki.issue_signing_certificate(_private_key(ca), pki.load_certificate(ca.certificate_pem),
                                                key.public_key(), "Platform Seal 电子见证章", ORGANISATION, now)
    return _store("seal", key, certificate, now)


def rotate(now: datetime) -> PlatformKey:
    old = ensure(now)
    old.retired_at = now
    db.session.flush()
    return _issue_seal(current("ca"), now)


def sign(key: PlatformKey, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256 over ``data`` with the seal ``key`` (from ``ensure``); DER-encoded."""
    return _private_key(key).sign(data, ec.ECDSA(hashes.SHA256()))


def verify(data: bytes, signature: bytes, certificate_pem: str) -> bool:
    public_key = pki.load_certificate(certificate_pem).public_key()
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
