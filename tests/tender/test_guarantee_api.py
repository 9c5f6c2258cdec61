"""/api/v1/tender/guarantees: a guarantor uploads the signed file as the raw body (with Idempotency-Key),
reads, revokes and claims; a bidder reads those issued for it; refusals carry the reason code."""
import base64
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from accounts import tokens
from core import clock
from core.extensions import db
from tender.models import Guarantee
from tests.tender.factories import GuarantorPki
from tests.tender.test_guarantees import Setting, award, own_trust_store


@pytest.fixture(autouse=True)
def _trust_store(app, tmp_path):
    yield from own_trust_store(app, tmp_path)


@pytest.fixture
def setting(demo, published):
    authority = GuarantorPki()
    authority.install()
    return Setting(demo, published, authority)


P = "/api/v1/tender/guarantees"


@pytest.fixture
def bearer(demo):
    def _bearer(username: str) -> dict:
        _token, secret = tokens.create(demo[username], "test", 30, clock.now())
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}
    return _bearer


def post_file(client, headers, signed: bytes, key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(P, data=signed, headers={**headers, **extra}, content_type="application/json")


def test_upload_read_and_list(client, bearer, setting: Setting):
    guarantor = bearer("guarantor")
    signed = setting.file()
    response = post_file(client, guarantor, signed, key="bh-1")
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["status"] == "issued" and body["amount"] == "20000.00" and body["section_code"] == setting.section.code
    assert body["applicant"] == {"name": setting.bidder.name, "credit_code": setting.bidder.credit_code}
    # A retry after a lost answer gets the first result, not a second guarantee nor number_reused.
    again = post_file(client, guarantor, signed, key="bh-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == body["id"]
    assert db.session.scalar(select(func.count(Guarantee.id))) == 1
    detail = client.get(f"{P}/{body['id']}", headers=bearer("bidder1")).get_json()
    assert base64.b64decode(detail["document_base64"]) == signed
    assert detail["check"] == {"ok": True, "reason": None, "message": ""}
    assert [row["id"] for row in client.get(P, headers=bearer("bidder1")).get_json()["guarantees"]] == [body["id"]]
    assert client.get(P, headers=bearer("bidder2")).get_json()["guarantees"] == []
    assert client.get(P, headers=bearer("centre")).get_json()["total"] == 1
    assert client.get(f"{P}?status=revoked", headers=guarantor).get_json()["total"] == 0
    assert client.get(f"{P}?status=lost", headers=guarantor).status_code == 400
    assert client.get(f"{P}/{body['id']}", headers=bearer("bidder2")).status_code == 404


def test_refusals_carry_the_reason_code_and_words(client, bearer, setting: Setting, demo):
    guarantor = bearer("guarantor")
    response = post_file(client, guarantor, setting.file(amount=Decimal("100.00")))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "amount_short"
    assert "below the section" in response.get_json()["error"]["message"]
    chinese = post_file(client, {**guarantor, "Accept-Language": "zh"}, setting.file(amount=Decimal("100.00")))
    assert "保函金额低于" in chinese.get_json()["error"]["message"]
    assert post_file(client, guarantor, b"{}").get_json()["error"]["code"] == "guarantee_malformed"
    assert post_file(client, guarantor, b"").get_json()["error"]["code"] == "guarantee_malformed"
    assert post_file(client, guarantor, b" " * 70000).status_code == 413
    refused = post_file(client, bearer("bidder1"), setting.file())
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")
    assert db.session.scalar(select(func.count(Guarantee.id))) == 0


def test_revoke_and_claims(client, bearer, setting: Setting):
    guarantor = bearer("guarantor")
    first = post_file(client, guarantor, setting.file(number="BH-A")).get_json()
    second = post_file(client, guarantor, setting.file(number="BH-B")).get_json()
    assert client.post(f"{P}/{first['id']}/revoke", json={"reason": 5}, headers=guarantor).status_code == 400
    revoked = client.post(f"{P}/{first['id']}/revoke", json={"reason": "申请人撤回"}, headers=guarantor)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert revoked.get_json()["revocation_reason"] == "申请人撤回"
    assert client.get(f"{P}/{first['id']}", headers=guarantor).get_json()["check"]["reason"] == "guarantee_revoked"
    early = client.post(f"{P}/{second['id']}/claims", json={"trigger": "contract_refused", "amount": "100.00"},
                        headers=guarantor)
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "claim_before_award")
    award(db.session.get(Guarantee, second["id"]).section)
    claim = {"trigger": "contract_refused", "amount": "12000.00", "note": "拒签合同"}
    made = client.post(f"{P}/{second['id']}/claims", json=claim, headers={**guarantor, "Idempotency-Key": "c1"})
    assert made.status_code == 201, made.text
    assert made.get_json()["amount"] == "12000.00" and made.get_json()["guarantee"]["status"] == "claimed"
    replay = client.post(f"{P}/{second['id']}/claims", json=claim, headers={**guarantor, "Idempotency-Key": "c1"})
    assert replay.get_json()["id"] == made.get_json()["id"]
    over = client.post(f"{P}/{second['id']}/claims", json={**claim, "amount": "8000.01"}, headers=guarantor)
    assert (over.status_code, over.get_json()["error"]["code"]) == (422, "claim_exceeds_guarantee")
    assert client.post(f"{P}/{second['id']}/claims", json={"trigger": "x", "amount": 1},
                       headers=guarantor).status_code == 400
    late = client.post(f"{P}/{second['id']}/revoke", json={"reason": "太晚"}, headers=guarantor)
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "guarantee_transition_refused")
    detail = client.get(f"{P}/{second['id']}", headers=bearer("supervisor")).get_json()
    assert [c["amount"] for c in detail["claims"]] == ["12000.00"]


def test_another_guarantors_guarantee_is_not_found(client, bearer, setting: Setting, demo):
    from tests.tender.factories import make_guarantor
    guarantee = post_file(client, bearer("guarantor"), setting.file()).get_json()
    other = make_guarantor("南京银行股份有限公司", "91320100MA1G99991")
    db.session.commit()
    _token, secret = tokens.create(other, "test", 30, clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{P}/{guarantee['id']}", headers=headers).status_code == 404
    assert client.post(f"{P}/{guarantee['id']}/revoke", json={"reason": "x"}, headers=headers).status_code == 404
    refused = post_file(client, headers, setting.file(number="BH-OTHER"))
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "guarantee_not_yours")
    assert json.loads(db.session.get(Guarantee, guarantee["id"]).document)["signature"]
