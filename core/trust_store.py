"""The trust store: a configured folder (TRUST_STORE_DIR) of CA certificates and their CRLs.

Each CA certificate is kept as ``<fingerprint>.pem``; each CA's current CRL as ``<CA fingerprint>.crl``
(PEM). Admins add certificates and CRLs on /admin/trust or with ``flask pki``; files an operator copies
into the folder by hand (``*.pem``, ``*.crt``, ``*.cer``, ``*.crl``, PEM or DER) count too.
The folder holds only public material.
"""
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import current_app
from flask_babel import gettext as _

from core import journal
from core.crypto import pki
from core.crypto.signing import TrustAnchors
from core.errors import DomainError

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer")
CRL_SUFFIX = ".crl"
MAX_FILE = 4 * 1024 * 1024  # a large CRL is a few hundred kilobytes


class TrustRefused(DomainError):
    status = 422


@dataclass(frozen=True)
class CaRow:
    certificate: x509.Certificate
    fingerprint: str
    subject: str
    not_before: datetime
    not_after: datetime
    crl: x509.CertificateRevocationList | None

    @property
    def crl_next_update(self) -> datetime | None:
        return self.crl.next_update_utc if self.crl is not None else None

    @property
    def revoked_count(self) -> int:
        return len(self.crl) if self.crl is not None else 0


def folder() -> Path:
    path = Path(current_app.config["TRUST_STORE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _files(suffixes) -> list[Path]:
    return sorted(p for p in folder().iterdir() if p.is_file() and p.suffix.lower() in suffixes)


_parsed: dict = {}  # folder -> (what its files were when read, the anchors read from them)


def _signature(folder_path: Path) -> tuple:
    return tuple((p.name, st.st_mtime_ns, st.st_size) for p in sorted(folder_path.iterdir()) if p.is_file()
                 for st in [p.stat()])


def load() -> TrustAnchors:
    """Every CA certificate and CRL in the folder; unreadable files are skipped (the page names them).
    Parsed again only when a file in the folder changes (each bid submission asks)."""
    path = folder()
    signature = _signature(path)
    cached = _parsed.get(str(path))
    if cached is not None and cached[0] == signature:
        return TrustAnchors(list(cached[1].cas), list(cached[1].crls))
    cas, seen = [], set()
    for file in _files(CERTIFICATE_SUFFIXES):
        try:
            for certificate in pki.read_certificates(file.read_bytes()):
                if pki.fingerprint(certificate) not in seen and pki.is_ca(certificate):
                    seen.add(pki.fingerprint(certificate))
                    cas.append(certificate)
        except ValueError:
            continue
    crls = []
    for file in _files((CRL_SUFFIX,)):
        try:
            crls.append(pki.read_crl(file.read_bytes()))
        except ValueError:
            continue
    anchors = TrustAnchors(cas, crls)
    _parsed[str(path)] = (signature, anchors)
    return TrustAnchors(list(cas), list(crls))


def unreadable_files() -> list[str]:
    names = []
    for path in _files(CERTIFICATE_SUFFIXES):
        try:
            pki.read_certificates(path.read_bytes())
        except ValueError:
            names.append(path.name)
    for path in _files((CRL_SUFFIX,)):
        try:
            pki.read_crl(path.read_bytes())
        except ValueError:
            names.append(path.name)
    return names


def _current_crl(anchors: TrustAnchors, ca: x509.Certificate):
    valid = [crl for crl in anchors.crls if crl.issuer == ca.subject and _crl_signed_by(crl, ca)]
    return max(valid, key=lambda crl: (pki.crl_number(crl), crl.last_update_utc), default=None)


def _crl_signed_by(crl, ca) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())
    except (TypeError, ValueError, InvalidSignature):
        return False


def rows() -> list[CaRow]:
    anchors = load()
    return [CaRow(ca, pki.fingerprint(ca), ca.subject.rfc4514_string(), ca.not_valid_before_utc,
                  ca.not_valid_after_utc, _current_crl(anchors, ca)) for ca in anchors.cas]


def _write(name: str, data: bytes) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    target = folder() / name
    fd, temporary = tempfile.mkstemp(dir=folder(), prefix=".upload-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(temporary, target)


def _key_acceptable(certificate: x509.Certificate) -> bool:
    """What the web-PKI rules of the verifier allow a CA: ECDSA P-256/P-384/P-521 or RSA ≥ 2048 bits."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return isinstance(key.curve, (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1))
    return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048


def add_file(data: bytes, actor, now: datetime) -> str:
    """Add a CA certificate or a CRL (PEM or DER; which one is read from the content). Returns "ca" or
    "crl"; TrustRefused with a reason code a person can act on."""
    if len(data) > MAX_FILE:
        raise TrustRefused("trust_file_too_large", _("The file is too large for a certificate or a CRL."))
    try:
        certificates = pki.read_certificates(data)
    except ValueError:
        certificates = None
    if certificates:
        for certificate in certificates:
            add_certificate(certificate, actor, now)
        return "ca"
    try:
        crl = pki.read_crl(data)
    except ValueError:
        raise TrustRefused("trust_file_unreadable", _("The file is neither a certificate nor a certificate "
                                                      "revocation list (PEM or DER).")) from None
    add_crl(crl, actor, now)
    return "crl"


def add_certificate(certificate: x509.Certificate, actor, now: datetime) -> None:
    fingerprint = pki.fingerprint(certificate)
    if not pki.is_ca(certificate):
        raise TrustRefused("trust_not_ca", _("This certificate is not a certification authority's "
                                             "(basicConstraints CA:TRUE is missing)."))
    if not _key_acceptable(certificate):
        raise TrustRefused("trust_key_refused", _("The platform accepts CAs with ECDSA P-256/P-384/P-521 or RSA "
                                                  "keys of 2048 bits or more; the signature verifier refuses "
                                                  "others (e.g. Ed25519)."))
    if certificate.not_valid_after_utc < now:
        raise TrustRefused("trust_expired", _("This CA certificate has expired."))
    if any(pki.fingerprint(ca) == fingerprint for ca in load().cas):
        raise TrustRefused("trust_duplicate", _("This CA certificate is in the trust store already."), 409)
    _write(f"{fingerprint}.pem", pki.pem(certificate).encode())
    journal.record("trust.ca_added", "certificate", fingerprint,
                   {"subject": certificate.subject.rfc4514_string(),
                    "not_after": certificate.not_valid_after_utc}, actor=actor, now=now)


def add_crl(crl: x509.CertificateRevocationList, actor, now: datetime) -> None:
    anchors = load()
    issuers = [ca for ca in anchors.cas if ca.subject == crl.issuer]
    if not issuers:
        raise TrustRefused("trust_crl_issuer_unknown", _("No CA in the trust store issued this revocation list: "
                                                         "add the CA's certificate first."))
    issuer = next((ca for ca in issuers if _crl_signed_by(crl, ca)), None)
    if issuer is None:
        raise TrustRefused("trust_crl_signature", _("The revocation list's signature is not its CA's."))
    current = _current_crl(anchors, issuer)
    if current is not None and (pki.crl_number(crl), crl.last_update_utc) < (pki.crl_number(current),
                                                                              current.last_update_utc):
        raise TrustRefused("trust_crl_older", _("The trust store has a newer revocation list of this CA."), 409)
    _write(f"{pki.fingerprint(issuer)}{CRL_SUFFIX}", pki.crl_pem(crl))
    journal.record("trust.crl_updated", "certificate", pki.fingerprint(issuer),
                   {"crl_number": pki.crl_number(crl), "revoked": len(crl),
                    "next_update": crl.next_update_utc}, actor=actor, now=now)
