"""Signatures by certified keys, and the path from a certificate to the trust store, with reason codes.

Path validation is ``cryptography.x509.verification``'s (client verifier, web-PKI CA rules, an end-entity
policy requiring KeyUsage digitalSignature instead of subjectAltName and clientAuth). It checks neither
revocation nor says why it refused in a form a program can read, so ``check_certificate`` checks the
issuer's CRL itself and, when the verifier refuses, finds the reason with checks of its own:

- ``issuer_unknown``       no CA of the trust store issued it (or the verifier refuses the path, e.g. an
                           Ed25519-signed CA, which the web-PKI rules do not allow);
- ``certificate_expired``  the certificate or its CA is not valid at the time asked about;
- ``certificate_revoked``  on its issuer's CRL (a CRL whose signature the issuer made);
- ``certificate_usage``    its KeyUsage lacks digitalSignature.
A signature that does not verify with the certificate's key is ``signature_invalid``.
"""
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError
from flask_babel import lazy_gettext as _l

from core.errors import DomainError

MAX_CHAIN_DEPTH = 4

REASONS = {
    "signature_invalid": _l("The signature does not match the document: it was changed after signing, or "
                            "signed with another key."),
    "issuer_unknown": _l("The certificate was not issued by a certification authority in the platform's "
                         "trust store."),
    "certificate_expired": _l("The certificate was not valid at the time that counts."),
    "certificate_revoked": _l("The certificate has been revoked by its certification authority."),
    "certificate_usage": _l("The certificate may not be used for digital signatures."),
}


class SignatureRefused(DomainError):
    """A signature or certificate refused; ``code`` is one of REASONS (or of the caller's own table)."""

    def __init__(self, code: str, detail: str = "", message=None):
        super().__init__(code, str(message or REASONS.get(code, code)), 422)
        self.detail = detail


@dataclass
class TrustAnchors:
    """The CA certificates trusted a priori and the CRLs they published (core.trust_store loads them)."""
    cas: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)

    def revocation(self, certificate: x509.Certificate, issuer: x509.Certificate):
        """The entry revoking ``certificate`` on a CRL signed by ``issuer``, or None."""
        for crl in self.crls:
            if crl.issuer != issuer.subject:
                continue
            try:
                if not crl.is_signature_valid(issuer.public_key()):
                    continue
            except (TypeError, ValueError):
                continue
            entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if entry is not None:
                return entry
        return None


# Signatures.

def sign(private_key, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256 (DER-encoded) or Ed25519 (64 bytes), by the key's kind."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise ValueError("signing keys are ECDSA P-256 or Ed25519")


def signature_valid(public_key, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


# Certificates.

def _require_digital_signature(policy, certificate, key_usage: x509.KeyUsage) -> None:
    if not key_usage.digital_signature:
        raise ValueError("KeyUsage lacks digitalSignature")


def verifier(anchors: TrustAnchors, at: datetime):
    """The client verifier of the issue: web-PKI CA rules; end entities need KeyUsage digitalSignature and
    may carry subjectAltName and extendedKeyUsage or not."""
    ee_policy = (ExtensionPolicy.webpki_defaults_ee()
                 .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
                 .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
                 .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature))
    return (PolicyBuilder().store(Store(anchors.cas)).time(at).max_chain_depth(MAX_CHAIN_DEPTH)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
            .build_client_verifier())


def _valid_at(certificate: x509.Certificate, at: datetime) -> bool:
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def _has_digital_signature(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except x509.ExtensionNotFound:
        return False


def _issuer(certificate: x509.Certificate, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _revoked(entry, now: datetime) -> bool:
    return entry is not None and entry.revocation_date_utc <= now


def check_certificate(leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: TrustAnchors,
                      at: datetime, now: datetime | None = None) -> list[x509.Certificate]:
    """The verified chain (leaf first, trust anchor last) of ``leaf`` valid at ``at`` and not revoked by
    ``now`` (default ``at``); else SignatureRefused with the first reason of the module docstring."""
    now = now or at
    if not anchors.cas:  # cryptography builds no store without a certificate: nothing can chain to it
        raise SignatureRefused("issuer_unknown", "the trust store holds no CA certificate")
    try:
        chain = verifier(anchors, at).verify(leaf, list(intermediates)).chain
    except VerificationError as refusal:
        raise SignatureRefused(_diagnose(leaf, intermediates, anchors, at, now), str(refusal)) from None
    for certificate, issuer in zip(chain, chain[1:], strict=False):
        if _revoked(anchors.revocation(certificate, issuer), now):
            raise SignatureRefused("certificate_revoked", f"serial {certificate.serial_number:x}")
    return chain


def _diagnose(leaf, intermediates, anchors: TrustAnchors, at: datetime, now: datetime) -> str:
    """Why the verifier refused, in the order of the reason codes."""
    path, current = [leaf], leaf
    while len(path) <= MAX_CHAIN_DEPTH:
        issuer = _issuer(current, anchors.cas + list(intermediates))
        if issuer is None:
            return "issuer_unknown"
        path.append(issuer)
        if any(issuer is ca for ca in anchors.cas):
            break
        current = issuer
    else:
        return "issuer_unknown"
    if not all(_valid_at(certificate, at) for certificate in path):
        return "certificate_expired"
    if any(_revoked(anchors.revocation(c, i), now) for c, i in zip(path, path[1:], strict=False)):
        return "certificate_revoked"
    if not _has_digital_signature(leaf):
        return "certificate_usage"
    return "issuer_unknown"  # a path the web-PKI rules refuse (e.g. an Ed25519 CA, a CA without keyCertSign)


def check_signed(data: bytes, signature: bytes, leaf: x509.Certificate, intermediates: list[x509.Certificate],
                 anchors: TrustAnchors, at: datetime, now: datetime | None = None) -> list[x509.Certificate]:
    """``signature`` over ``data`` by ``leaf``'s key, and ``leaf``'s path: the verified chain, or
    SignatureRefused (``signature_invalid`` first, then the certificate's reasons)."""
    if not signature_valid(leaf.public_key(), signature, data):
        raise SignatureRefused("signature_invalid")
    return check_certificate(leaf, intermediates, anchors, at, now)
