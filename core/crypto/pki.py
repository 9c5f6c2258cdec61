"""X.509 for the platform: its own CA, demo CAs for bidders and guarantors, leaf certificates and CRLs.

Certificates for organisations carry the organisation's unified social credit code (统一社会信用代码) in
the subject's ``serialNumber`` attribute (OID 2.5.4.5), besides O (the organisation's name) and CN (the
person or system holding the key); see docs/formats.md, "Certificates of bidders and guarantors".
CAs are ECDSA P-256 signed with SHA-256 (``make_ca(algorithm="ed25519")`` exists only to show that the
verifier refuses such a CA); leaf keys are ECDSA P-256 or Ed25519.
"""
import hashlib
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

ALGORITHMS = ("p256", "ed25519")


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_signing_key(algorithm: str = "p256"):
    """A fresh private key for signatures: ECDSA P-256 ("p256") or Ed25519 ("ed25519")."""
    if algorithm == "p256":
        return new_key()
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key algorithm {algorithm!r}: choose one of {ALGORITHMS}")


def _hash_for(signing_key):
    """Certificates and CRLs: ECDSA keys sign with SHA-256; Ed25519 takes no separate hash."""
    return None if isinstance(signing_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _name(common_name: str, organisation: str, credit_code: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if credit_code:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, credit_code))
    return x509.Name(attributes)


def make_ca(common_name: str, organisation: str, now: datetime, days: int = 3650, algorithm: str = "p256"):
    """A self-signed CA (basicConstraints CA:TRUE, pathlen 0; keyCertSign, cRLSign): (key, certificate)."""
    key = new_signing_key(algorithm)
    name = _name(common_name, organisation)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, _hash_for(key))
    )
    return key, certificate


def issue_signing_certificate(ca_key, ca_certificate: x509.Certificate, public_key, common_name: str,
                              organisation: str, now: datetime, days: int = 730, *,
                              credit_code: str | None = None, digital_signature: bool = True,
                              not_before: datetime | None = None) -> x509.Certificate:
    """A certificate for signatures (digitalSignature and contentCommitment / non-repudiation).

    ``credit_code`` goes into the subject's serialNumber; ``digital_signature=False`` makes a certificate
    the verifier must refuse for signing (``certificate_usage``); ``not_before`` back-dates it (expired
    certificates for tests and demos).
    """
    start = not_before or (now - timedelta(minutes=5))
    return (
        x509.CertificateBuilder().subject_name(_name(common_name, organisation, credit_code))
        .issuer_name(ca_certificate.subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=digital_signature, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=False, crl_sign=False, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, _hash_for(ca_key))
    )


def make_crl(ca_key, ca_certificate: x509.Certificate, now: datetime, revoked: list[tuple[int, datetime]] = (),
             number: int = 1, days: int = 7) -> x509.CertificateRevocationList:
    """A CRL of ``revoked`` (serial number, revocation time), valid for ``days``."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_certificate.subject)
               .last_update(now).next_update(now + timedelta(days=days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(ca_key, _hash_for(ca_key))


def revoke(ca_key, ca_certificate: x509.Certificate, crl: x509.CertificateRevocationList | None, serial: int,
           now: datetime, days: int = 7) -> x509.CertificateRevocationList:
    """The next CRL: every entry of ``crl`` plus ``serial`` revoked at ``now`` (a repeat changes nothing)."""
    entries = [(r.serial_number, r.revocation_date_utc) for r in (crl or [])]
    if serial not in {s for s, _ in entries}:
        entries.append((serial, now))
    return make_crl(ca_key, ca_certificate, now, entries, number=crl_number(crl) + 1, days=days)


def crl_number(crl: x509.CertificateRevocationList | None) -> int:
    if crl is None:
        return 0
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def credit_code_of(certificate: x509.Certificate) -> str | None:
    """The organisation's unified social credit code: the subject's serialNumber attribute."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else None


def organisation_of(certificate: x509.Certificate) -> str | None:
    values = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(values[0].value) if values else None


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER bytes, lower-case hex: how signed documents name a certificate."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def private_bytes(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # encrypted by the caller under MASTER_KEY


def private_pem(key, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with ``password`` when one is given (key files handed to demo users)."""
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_private(der: bytes):
    return serialization.load_der_private_key(der, password=None)


def load_private_pem(data: bytes, password: bytes | None = None):
    return serialization.load_pem_private_key(data, password=password)


def load_certificate(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())


def load_untrusted(data: bytes) -> x509.Certificate:
    """A certificate from someone else (DER, or PEM if it starts with "-----"), every field parsed now:
    cryptography parses lazily, and a damaged field would otherwise fail later with any exception.
    ValueError if it cannot be read whole."""
    try:
        certificate = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----")
                       else x509.load_der_x509_certificate(data))
        certificate.subject.rfc4514_string()
        certificate.issuer.rfc4514_string()
        list(certificate.extensions)
        certificate.public_key()
        certificate.not_valid_before_utc, certificate.not_valid_after_utc  # noqa: B018
    except Exception as error:  # noqa: BLE001 — untrusted bytes: any failure to parse is "unreadable"
        raise ValueError(f"certificate unreadable: {error}") from None
    return certificate


def read_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data``: one or more PEM blocks, or one DER certificate. ValueError if none."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def read_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL in PEM or DER. ValueError if it is neither."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)
