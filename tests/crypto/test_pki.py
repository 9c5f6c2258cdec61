"""Certificates, the path to the trust store with its reason codes, the trust store page and `flask pki`."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from core import clock, trust_store
from core.crypto import pki, signing
from core.crypto.signing import SignatureRefused, TrustAnchors
from core.extensions import db
from core.models import JournalEntry
from tests.crypto.conftest import BIDDER_CODE


def reason(holder, anchors, at, now=None):
    with pytest.raises(SignatureRefused) as refused:
        signing.check_certificate(holder.certificate, [], anchors, at, now)
    return refused.value.code


@pytest.mark.parametrize("algorithm", ["p256", "ed25519"])
def test_a_leaf_of_a_trusted_ca_verifies_and_names_its_organisations_credit_code(demo_pki, algorithm):
    holder = demo_pki.issue(algorithm=algorithm)
    chain = signing.check_certificate(holder.certificate, [], demo_pki.anchors, demo_pki.now)
    assert chain == [holder.certificate, demo_pki.ca]
    assert pki.credit_code_of(holder.certificate) == BIDDER_CODE
    signature = signing.sign(holder.key, b"document")
    assert signing.check_signed(b"document", signature, holder.certificate, [], demo_pki.anchors, demo_pki.now)
    with pytest.raises(SignatureRefused) as refused:
        signing.check_signed(b"documenT", signature, holder.certificate, [], demo_pki.anchors, demo_pki.now)
    assert refused.value.code == "signature_invalid"


def test_a_ca_outside_the_trust_store_is_issuer_unknown(demo_pki):
    stranger_key, stranger = pki.make_ca("Other CA", "Elsewhere", demo_pki.now)
    key = pki.new_signing_key()
    leaf = pki.issue_signing_certificate(stranger_key, stranger, key.public_key(), "x", "y", demo_pki.now,
                                         credit_code=BIDDER_CODE)
    with pytest.raises(SignatureRefused) as refused:
        signing.check_certificate(leaf, [], demo_pki.anchors, demo_pki.now)
    assert refused.value.code == "issuer_unknown"


def test_a_ca_of_the_same_name_but_another_key_is_issuer_unknown(demo_pki):
    """A forger's CA copying the trusted CA's name: the leaf's signature is not the trusted CA's."""
    forged_key, _forged = pki.make_ca("Demo Signing CA", "Demo Certification Authority", demo_pki.now)
    key = pki.new_signing_key()
    leaf = pki.issue_signing_certificate(forged_key, demo_pki.ca, key.public_key(), "x", "y", demo_pki.now)
    with pytest.raises(SignatureRefused) as refused:
        signing.check_certificate(leaf, [], demo_pki.anchors, demo_pki.now)
    assert refused.value.code == "issuer_unknown"


def test_the_verifier_refuses_an_ed25519_signed_ca(demo_pki):
    ed_key, ed_ca = pki.make_ca("Ed25519 CA", "Demo", demo_pki.now, algorithm="ed25519")
    key = pki.new_signing_key()
    leaf = pki.issue_signing_certificate(ed_key, ed_ca, key.public_key(), "x", "y", demo_pki.now)
    anchors = TrustAnchors([ed_ca], [])
    with pytest.raises(SignatureRefused) as refused:
        signing.check_certificate(leaf, [], anchors, demo_pki.now)
    assert refused.value.code == "issuer_unknown"
    assert "public key algorithm" in refused.value.detail.lower()


def test_a_certificate_outside_its_validity_is_expired(demo_pki):
    old = demo_pki.issue(not_before=demo_pki.now - timedelta(days=20), days=10)
    assert reason(old, demo_pki.anchors, demo_pki.now) == "certificate_expired"
    # The same certificate was good while it was valid.
    assert signing.check_certificate(old.certificate, [], demo_pki.anchors, demo_pki.now - timedelta(days=15))
    fresh = demo_pki.issue()
    assert reason(fresh, demo_pki.anchors, demo_pki.now - timedelta(days=1)) == "certificate_expired"


def test_a_certificate_on_its_issuers_crl_is_revoked_from_the_revocation_time(demo_pki):
    holder = demo_pki.issue()
    demo_pki.revoke(holder, demo_pki.now + timedelta(hours=1))
    assert signing.check_certificate(holder.certificate, [], demo_pki.anchors, demo_pki.now)
    assert reason(holder, demo_pki.anchors, demo_pki.now, demo_pki.now + timedelta(hours=2)) == "certificate_revoked"


def test_a_crl_not_signed_by_the_issuer_revokes_nothing(demo_pki):
    holder = demo_pki.issue()
    forged_key, _ = pki.make_ca("Demo Signing CA", "Demo Certification Authority", demo_pki.now)
    forged_crl = pki.make_crl(forged_key, demo_pki.ca, demo_pki.now, [(holder.certificate.serial_number,
                                                                      demo_pki.now)])
    demo_pki.anchors.crls = [forged_crl]
    assert signing.check_certificate(holder.certificate, [], demo_pki.anchors, demo_pki.now)


def test_a_certificate_without_digital_signature_is_refused_for_usage(demo_pki):
    holder = demo_pki.issue(digital_signature=False)
    assert reason(holder, demo_pki.anchors, demo_pki.now) == "certificate_usage"


def test_expiry_is_reported_before_usage_and_revocation_before_usage(demo_pki):
    both = demo_pki.issue(digital_signature=False, not_before=demo_pki.now - timedelta(days=20), days=10)
    assert reason(both, demo_pki.anchors, demo_pki.now) == "certificate_expired"
    revoked = demo_pki.issue(digital_signature=False)
    demo_pki.revoke(revoked)
    assert reason(revoked, demo_pki.anchors, demo_pki.now) == "certificate_revoked"


# The trust store and its page.

def test_the_admin_adds_a_ca_and_its_crl_and_sees_them_listed(login, demo_pki):
    admin = login("admin")
    page = admin.get("/admin/trust")
    assert page.status_code == 200 and "The trust store is empty" in page.text
    response = admin.post("/admin/trust", data={"file": (io.BytesIO(pki.pem(demo_pki.ca).encode()), "ca.pem")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "The CA certificate was added to the trust store." in response.text
    assert pki.fingerprint(demo_pki.ca) in response.text and "CN=Demo Signing CA" in response.text
    holder = demo_pki.issue()
    crl = pki.revoke(demo_pki.ca_key, demo_pki.ca, None, holder.certificate.serial_number, demo_pki.now)
    der = crl.public_bytes(serialization.Encoding.DER)
    response = admin.post("/admin/trust", data={"file": (io.BytesIO(der), "ca.crl")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "The revocation list was updated." in response.text and "1 revoked" in response.text
    anchors = trust_store.load()
    assert anchors.cas == [demo_pki.ca]
    assert reason(holder, anchors, clock.now()) == "certificate_revoked"
    actions = [e.action for e in db.session.query(JournalEntry).order_by(JournalEntry.seq)]
    assert actions[-2:] == ["trust.ca_added", "trust.crl_updated"]


def _upload(client, data: bytes, name="file.pem"):
    return client.post("/admin/trust", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_bad_files_are_refused_with_a_reason(login, demo_pki):
    admin = login("admin")
    assert "neither a certificate nor a certificate revocation list" in _upload(admin, b"hello").text
    leaf = demo_pki.issue().certificate
    assert "is not a certification authority" in _upload(admin, pki.pem(leaf).encode()).text
    _ed_key, ed_ca = pki.make_ca("Ed CA", "Demo", demo_pki.now, algorithm="ed25519")
    assert "refuses others (e.g. Ed25519)" in _upload(admin, pki.pem(ed_ca).encode()).text
    crl = pki.make_crl(demo_pki.ca_key, demo_pki.ca, demo_pki.now)
    assert "No CA in the trust store issued this revocation list" in _upload(admin, pki.crl_pem(crl), "x.crl").text
    _upload(admin, pki.pem(demo_pki.ca).encode())
    assert "in the trust store already" in _upload(admin, pki.pem(demo_pki.ca).encode()).text
    forged_key, _ = pki.make_ca("Demo Signing CA", "Demo Certification Authority", demo_pki.now)
    forged = pki.make_crl(forged_key, demo_pki.ca, demo_pki.now)
    assert "signature is not its CA" in _upload(admin, pki.crl_pem(forged), "x.crl").text
    newer = pki.make_crl(demo_pki.ca_key, demo_pki.ca, demo_pki.now, number=5)
    _upload(admin, pki.crl_pem(newer), "x.crl")
    assert "has a newer revocation list" in _upload(admin, pki.crl_pem(crl), "x.crl").text
    trust_actions = [e.action for e in db.session.query(JournalEntry).order_by(JournalEntry.seq)
                     if e.action.startswith("trust.")]
    assert trust_actions == ["trust.ca_added", "trust.crl_updated"]  # the refused uploads left no trace


def test_the_upload_needs_a_csrf_token(app, login, demo_pki):
    admin = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _upload(admin, pki.pem(demo_pki.ca).encode())
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and "The form has expired" in response.text
    assert trust_store.load().cas == []


# flask pki.

def test_flask_pki_makes_a_ca_issues_certificates_and_revokes_them(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pki", "make-ca", "--out", str(tmp_path / "ca")])
    assert result.exit_code == 0, result.output
    ca_key, ca_cert = str(tmp_path / "ca" / "ca.key.pem"), str(tmp_path / "ca" / "ca.pem")
    assert oct(Path(ca_key).stat().st_mode & 0o777) == "0o600"
    made = {}
    for algorithm in ("p256", "ed25519"):
        out = str(tmp_path / f"bidder-{algorithm}")
        result = runner.invoke(args=["pki", "issue", "--ca-key", ca_key, "--ca-cert", ca_cert, "--name", "张三",
                                     "--organisation", "闽江建设工程有限公司", "--credit-code", BIDDER_CODE.lower(),
                                     "--algorithm", algorithm, "--out", out])
        assert result.exit_code == 0, result.output
        made[algorithm] = pki.read_certificates(Path(out + ".pem").read_bytes())[0]
        pki.load_private_pem(Path(out + ".key.pem").read_bytes())
    anchors = trust_store.load()
    for certificate in made.values():
        assert pki.credit_code_of(certificate) == BIDDER_CODE
        assert signing.check_certificate(certificate, [], anchors, clock.now())
    result = runner.invoke(args=["pki", "revoke", "--ca-key", ca_key, "--ca-cert", ca_cert,
                                 str(tmp_path / "bidder-p256.pem")])
    assert result.exit_code == 0, result.output
    anchors = trust_store.load()
    with pytest.raises(SignatureRefused) as refused:
        signing.check_certificate(made["p256"], [], anchors, clock.now() + timedelta(seconds=1))
    assert refused.value.code == "certificate_revoked"
    assert signing.check_certificate(made["ed25519"], [], anchors, clock.now())
    listing = runner.invoke(args=["pki", "list"])
    assert "CN=Demo Signing CA" in listing.output and "1 revoked" in listing.output


def test_make_ca_defaults_to_ecdsa_p256_and_a_leaf_is_not_a_ca(demo_pki):
    assert demo_pki.ca.signature_hash_algorithm.name == "sha256"
    assert pki.is_ca(demo_pki.ca) and not pki.is_ca(demo_pki.issue().certificate)
    usage = demo_pki.issue().certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment


def test_the_trust_store_page_speaks_chinese(login, demo_pki):
    admin = login("admin")
    admin.set_cookie("lang", "zh")
    _upload(admin, pki.pem(demo_pki.ca).encode())
    page = admin.get("/admin/trust")
    assert "信任库" in page.text and "吊销列表：下次更新" in page.text


def test_the_administration_page_links_to_the_trust_store(login):
    assert 'href="/admin/trust"' in login("admin").get("/admin").text
