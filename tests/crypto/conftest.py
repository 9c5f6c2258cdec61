"""Fixtures for the cryptographic layer: a trust store folder per test, cheap KDF costs, and a demo PKI
made by core.crypto.pki (the functions behind `flask pki`)."""
from dataclasses import dataclass
from datetime import timedelta

import pytest

from core import clock
from core.crypto import pki
from core.crypto.signing import TrustAnchors

CHEAP_KDF = {"iterations": 1, "memory_cost": 64, "lanes": 1}  # production's cost: test_custody asserts it
BIDDER_CODE = "91350100M000100Y43"
OTHER_BIDDER_CODE = "91350200MA2XYZ0Q1B"
GUARANTOR_CODE = "91110000100000589B"
PROCURING_CODE = "12350100003660000X"


@pytest.fixture(autouse=True)
def _crypto_config(app, tmp_path):
    saved = {key: app.config.get(key) for key in ("TRUST_STORE_DIR", "CUSTODY_KDF")}
    app.config.update(TRUST_STORE_DIR=str(tmp_path / "trust"), CUSTODY_KDF=CHEAP_KDF)
    yield
    app.config.update(saved)


@dataclass
class Holder:
    key: object
    certificate: object


@dataclass
class DemoPki:
    now: object
    ca_key: object
    ca: object
    anchors: TrustAnchors

    def issue(self, credit_code=BIDDER_CODE, organisation="闽江建设工程有限公司", algorithm="p256", **options):
        key = pki.new_signing_key(algorithm)
        certificate = pki.issue_signing_certificate(self.ca_key, self.ca, key.public_key(), "Signer", organisation,
                                                    self.now, credit_code=credit_code, **options)
        return Holder(key, certificate)

    def revoke(self, holder: Holder, when=None):
        current = self.anchors.crls[-1] if self.anchors.crls else None
        crl = pki.revoke(self.ca_key, self.ca, current, holder.certificate.serial_number, when or self.now)
        self.anchors.crls = [crl]
        return crl


@pytest.fixture
def demo_pki():
    now = clock.now()
    ca_key, ca = pki.make_ca("Demo Signing CA", "Demo Certification Authority", now - timedelta(days=30))
    return DemoPki(now, ca_key, ca, TrustAnchors([ca], [pki.make_crl(ca_key, ca, now)]))
