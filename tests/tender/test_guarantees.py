"""Electronic bid guarantees in tendering: each reason code produced through the upload by a real artefact
(certificates and CRLs made as `flask pki` makes them, bytes changed in a real signed file), who may upload,
the deadline, the check again at the opening, revocation and claims, every lifecycle pair, and the pages."""
import hashlib
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from core import clock
from core.crypto import guarantee as g
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry, Notification
from tender import guarantees, participation, states
from tender.models import Guarantee, GuaranteeClaim
from tests.tender.factories import GuarantorPki, guarantee_file, make_guarantor
from tests.tender.evaluation_factories import breached


def own_trust_store(app, tmp_path):
    """A trust store folder of the test's own (a generator for an autouse fixture)."""
    saved = app.config.get("TRUST_STORE_DIR")
    app.config["TRUST_STORE_DIR"] = str(tmp_path / "trust")
    yield
    app.config["TRUST_STORE_DIR"] = saved


@pytest.fixture(autouse=True)
def _trust_store(app, tmp_path):
    yield from own_trust_store(app, tmp_path)


@pytest.fixture
def ca(app):
    authority = GuarantorPki()
    authority.install()
    return authority


class Setting:
    def __init__(self, demo, section, ca):
        self.demo, self.section, self.ca = demo, section, ca
        self.guarantor = demo["guarantor"]
        self.bank = self.guarantor.organisation
        self.bidder = demo["bidder1"].organisation
        self.signer = ca.certify(self.bank)

    def file(self, signer=None, **changes) -> bytes:
        return guarantee_file(signer or self.signer, self.bank, self.section, self.bidder, **changes)

    def upload(self, signed: bytes, actor=None, now=None) -> Guarantee:
        return guarantees.issue(actor or self.guarantor, signed, now or clock.now())

    def refusal(self, signed: bytes, actor=None) -> DomainError:
        with pytest.raises(DomainError) as refused:
            self.upload(signed, actor)
        db.session.rollback()
        return refused.value


@pytest.fixture
def setting(demo, published, ca):
    return Setting(demo, published, ca)


def journaled(action: str, guarantee_id: int) -> JournalEntry | None:
    db.session.commit()
    return db.session.scalar(select(JournalEntry).where(JournalEntry.action == action,
                                                        JournalEntry.subject_type == "guarantee",
                                                        JournalEntry.subject_id == str(guarantee_id)))


def tamper(signed: bytes, old: str, new: str) -> bytes:
    wrapper = json.loads(signed)
    assert old in wrapper["body"]
    wrapper["body"] = wrapper["body"].replace(old, new, 1)
    return json.dumps(wrapper, ensure_ascii=False).encode()


def award(section):
    """Awarded to bidder1, who then refused the contract, gave no security and withdrew (the claims' triggers)."""
    breached(section)


# Issue.

def test_a_good_guarantee_is_kept_byte_for_byte_journaled_and_the_bidder_told(setting):
    signed = setting.file()
    guarantee = setting.upload(signed)
    db.session.commit()
    assert guarantee.status == "issued" and guarantee.document == signed
    assert guarantee.section_id == setting.section.id and guarantee.applicant_code == setting.bidder.credit_code
    assert guarantee.amount == Decimal("20000.00") and guarantee.guarantor_id == setting.bank.id
    entry = journaled("tender.guarantee.issued", guarantee.id)
    assert json.loads(entry.payload)["sha256"] == hashlib.sha256(signed).hexdigest()
    assert json.loads(entry.payload)["number"] == guarantee.number and json.loads(entry.payload)["section"] == setting.section.id
    assert json.loads(entry.payload)["applicant"] == setting.bidder.credit_code
    told = db.session.scalars(select(Notification).where(Notification.user_id == setting.demo["bidder1"].id,
                                                         Notification.kind == "guarantee_issued")).all()
    assert len(told) == 1 and guarantee.number in told[0].body and told[0].link == f"/tender/guarantees/{guarantee.id}"
    assert not db.session.scalars(select(Notification).where(Notification.user_id == setting.demo["bidder2"].id)).all()


def test_an_ed25519_signer_is_accepted(setting):
    signer = setting.ca.certify(setting.bank, algorithm="ed25519")
    assert setting.upload(setting.file(signer)).status == "issued"


def test_each_reason_code_through_the_upload(setting, demo):
    now, ca, bank = clock.now(), setting.ca, setting.bank
    reasons = {}
    reasons["guarantee_malformed"] = setting.refusal(b"this is not a guarantee")
    broken = json.loads(setting.file())
    broken["certificates"] = ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
    reasons["guarantee_malformed (certificate)"] = setting.refusal(json.dumps(broken).encode())
    reasons["guarantee_malformed (deep)"] = setting.refusal(b"[" * 50000)
    reasons["signature_invalid"] = setting.refusal(tamper(setting.file(), '"20000.00"', '"90000.00"'))
    # Signed with another organisation's certificate, the document naming our bank.
    impostor = ca.certify(demo["bidder2"].organisation)
    reasons["signature_invalid (impostor)"] = setting.refusal(setting.file(impostor))
    # A CA outside the trust store.
    stranger = GuarantorPki()
    reasons["issuer_unknown"] = setting.refusal(setting.file(stranger.certify(bank)))
    # Not valid when the guarantee was issued.
    expired = ca.certify(bank, not_before=now - timedelta(days=20), days=10)
    reasons["certificate_expired"] = setting.refusal(setting.file(expired))
    # On the CA's revocation list in the trust store.
    revoked = ca.certify(bank)
    signed_by_revoked = setting.file(revoked)
    ca.revoke(revoked[1], now - timedelta(seconds=1))
    ca.install()
    reasons["certificate_revoked"] = setting.refusal(signed_by_revoked)
    reasons["certificate_usage"] = setting.refusal(setting.file(ca.certify(bank, digital_signature=False)))
    bidder = setting.bidder
    reasons["applicant_mismatch"] = setting.refusal(setting.file(applicant=g.Party("别的公司", bidder.credit_code)))
    reasons["applicant_mismatch (unknown)"] = setting.refusal(setting.file(
        applicant=g.Party("不在平台的公司", "91320100MA1X0000XX")))
    other_unit = demo["procuring2"].organisation
    reasons["beneficiary_mismatch"] = setting.refusal(setting.file(
        beneficiary=g.Party(other_unit.name, other_unit.credit_code)))
    reasons["project_mismatch"] = setting.refusal(setting.file(project_code="NO-SUCH-PROJECT"))
    reasons["section_mismatch"] = setting.refusal(setting.file(section_code=setting.section.project.code + "-99"))
    reasons["amount_short"] = setting.refusal(setting.file(amount=Decimal("19999.99")))
    deadline = setting.section.deadline
    reasons["validity_short"] = setting.refusal(setting.file(valid_to=deadline + timedelta(days=90, seconds=-1)))
    reasons["validity_short (starts late)"] = setting.refusal(setting.file(valid_from=deadline + timedelta(seconds=1)))
    # Revoked by the guarantor, then presented again.
    first = setting.upload(setting.file(number="BH-REVOKED"))
    guarantees.revoke(setting.guarantor, first, "申请人撤回", clock.now())
    db.session.commit()
    reasons["guarantee_revoked"] = setting.refusal(setting.file(number="BH-REVOKED"))
    # The same number for another bid (another bidder's).
    setting.upload(setting.file(number="BH-TWICE"))
    db.session.commit()
    second = guarantee_file(setting.signer, bank, setting.section, demo["bidder2"].organisation, number="BH-TWICE")
    reasons["number_reused"] = setting.refusal(second)
    got = {name: (error.code, error.status) for name, error in reasons.items()}
    assert got == {name: (name.split(" ")[0], 422) for name in reasons}
    for error in reasons.values():  # words a person understands, not the code
        assert error.message and error.code not in error.message
    assert "91320100MA1X0000XX" in reasons["applicant_mismatch (unknown)"].message
    assert db.session.scalar(select(Guarantee.id).where(Guarantee.number == "BH-TWICE",
                                                        Guarantee.applicant_code != bidder.credit_code)) is None


def test_a_project_found_with_the_section_of_another_project_is_a_project_mismatch(setting, demo):
    from tests.tender.factories import accept, make_project, publish
    other = make_project(demo["procuring"], name="另一个项目")
    from tender import projects
    projects.submit(demo["procuring"], other, clock.now())
    accept(demo["centre"], other)
    publish(demo["centre"], other.sections[0])
    db.session.commit()
    refused = setting.refusal(setting.file(project_code=other.code))
    assert refused.code == "project_mismatch"


def test_the_first_failing_reason_wins_and_a_bad_signature_outranks_an_unknown_section(setting):
    assert setting.refusal(setting.file(amount=Decimal("1.00"), valid_to=setting.section.deadline)).code \
        == "amount_short"
    unknown = tamper(setting.file(section_code="NOWHERE-01"), '"20000.00"', '"90000.00"')
    assert setting.refusal(unknown).code == "signature_invalid"


def test_the_database_refuses_a_second_guarantee_of_the_same_number_at_the_same_moment(setting, monkeypatch):
    setting.upload(setting.file(number="BH-RACE"))
    db.session.commit()
    # The check before the insert saw nothing (a concurrent upload): the unique constraint still refuses.
    monkeypatch.setattr(guarantees, "_number_used", lambda *args, **kwargs: (lambda number: False))
    refused = setting.refusal(setting.file(number="BH-RACE"))
    assert refused.code == "number_reused"
    assert len(db.session.scalars(select(Guarantee).where(Guarantee.number == "BH-RACE")).all()) == 1


def test_only_the_guarantor_named_in_the_document_uploads_it(setting, demo):
    other_bank = make_guarantor("南京银行股份有限公司", "91320100MA1G99991")
    db.session.commit()
    refused = setting.refusal(setting.file(), actor=other_bank)
    assert (refused.code, refused.status) == ("guarantee_not_yours", 403)
    assert setting.bank.name in refused.message
    refused = setting.refusal(setting.file(), actor=demo["bidder1"])
    assert (refused.code, refused.status) == ("not_guarantor", 403)
    assert db.session.scalar(select(Guarantee.id)) is None


def test_too_large_a_file_is_refused_before_it_is_read(setting):
    refused = setting.refusal(b" " * (guarantees.MAX_DOCUMENT + 1))
    assert (refused.code, refused.status) == ("guarantee_too_large", 413)


def test_uploads_close_at_the_deadline(setting):
    signed = setting.file()
    with time_machine.travel(setting.section.deadline - timedelta(milliseconds=1), tick=False):
        assert setting.upload(signed, now=clock.now()).status == "issued"
    db.session.rollback()
    with time_machine.travel(setting.section.deadline, tick=False):
        with pytest.raises(DomainError) as refused:
            setting.upload(signed, now=clock.now())
    assert (refused.value.code, refused.value.status) == ("section_not_open", 409)


def test_an_unpublished_section_takes_no_guarantee(setting, demo):
    from tests.tender.factories import make_project
    draft = make_project(demo["procuring"], name="未发布项目")
    db.session.commit()
    refused = setting.refusal(setting.file(project_code=draft.code, section_code=draft.sections[0].code))
    assert refused.code == "project_mismatch"


# Checked again at the opening.

def test_at_the_opening_a_good_guarantee_still_passes(setting):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    assert guarantees.verify_at_opening(guarantee, setting.section.deadline + timedelta(minutes=5)).ok


def test_at_the_opening_a_certificate_revoked_after_upload_is_refused(setting):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    setting.ca.revoke(setting.signer[1], clock.now())
    setting.ca.install()
    verdict = guarantees.verify_at_opening(guarantee, setting.section.deadline + timedelta(minutes=5))
    assert verdict.reason == "certificate_revoked" and "吊销" in verdict.message  # Chinese outside a request


def test_at_the_opening_a_guarantee_the_guarantor_revoked_is_refused(setting):
    guarantee = setting.upload(setting.file())
    guarantees.revoke(setting.guarantor, guarantee, "申请人未缴纳保费", clock.now())
    db.session.commit()
    assert guarantees.verify_at_opening(guarantee, setting.section.deadline).reason == "guarantee_revoked"


def test_at_the_opening_a_deadline_moved_past_the_guarantee_is_validity_short(setting, demo):
    deadline = setting.section.deadline
    guarantee = setting.upload(setting.file(valid_to=deadline + timedelta(days=90)))  # just enough
    long_enough = setting.upload(guarantee_file(setting.signer, setting.bank, setting.section,
                                                demo["bidder2"].organisation, number="BH-LONG-1",
                                                valid_to=deadline + timedelta(days=200)))
    db.session.commit()
    with time_machine.travel(deadline - timedelta(days=2), tick=False):  # a late addendum moves the deadline
        participation.addendum(demo["centre"], setting.section, title="补遗", body="延期", documents=[],
                               now=clock.now())
    db.session.commit()
    assert setting.section.deadline > deadline
    assert guarantees.verify_at_opening(guarantee, setting.section.deadline).reason == "validity_short"
    assert guarantees.verify_at_opening(long_enough, setting.section.deadline).ok
    # Told at once, while a new guarantee can still be issued: the bidder and the guarantor, of that one only.
    told = db.session.scalars(select(Notification).where(Notification.kind == "guarantee_validity_short")).all()
    assert sorted(n.user_id for n in told) == sorted([demo["bidder1"].id, demo["guarantor"].id])
    assert all(guarantee.number in n.title and "validity_short" in n.body for n in told)


def test_at_the_opening_a_ca_gone_from_the_trust_store_is_issuer_unknown(setting, app, tmp_path):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    app.config["TRUST_STORE_DIR"] = str(tmp_path / "empty")
    assert guarantees.verify_at_opening(guarantee, setting.section.deadline).reason == "issuer_unknown"


def test_for_bid_finds_the_bidders_guarantees_for_the_section(setting, demo):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    assert guarantees.for_bid(setting.section, setting.bidder) == [guarantee]
    assert guarantees.for_bid(setting.section, demo["bidder2"].organisation) == []


# Revocation and claims.

def test_revoking_before_the_deadline_with_a_reason(setting):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        guarantees.revoke(setting.guarantor, guarantee, "  ", clock.now())
    assert refused.value.code == "reason_invalid"
    guarantees.revoke(setting.guarantor, guarantee, "申请人撤回申请", clock.now())
    assert guarantee.status == "revoked" and guarantee.revocation_reason == "申请人撤回申请"
    entry = journaled("tender.guarantee.revoked", guarantee.id)
    assert json.loads(entry.payload)["reason"] == "申请人撤回申请"
    assert db.session.scalar(select(Notification.id).where(Notification.kind == "guarantee_revoked",
                                                           Notification.user_id == setting.demo["bidder1"].id))


def test_no_revoking_at_or_after_the_deadline(setting):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        guarantees.revoke(setting.guarantor, guarantee, "太晚了", setting.section.deadline)
    assert (refused.value.code, refused.value.status) == ("deadline_passed", 409)
    assert guarantee.status == "issued"


def test_only_the_issuing_guarantor_revokes_or_claims(setting, demo):
    guarantee = setting.upload(setting.file())
    other_bank = make_guarantor("南京银行股份有限公司", "91320100MA1G99991")
    db.session.commit()
    for actor in (other_bank, demo["bidder1"], demo["centre"]):
        with pytest.raises(DomainError) as refused:
            guarantees.revoke(actor, guarantee, "不是我的", clock.now())
        assert refused.value.status == 403
        with pytest.raises(DomainError) as refused:
            guarantees.claim(actor, guarantee, trigger="contract_refused", amount="1.00", note="", now=clock.now())
        assert refused.value.status == 403


def test_claims_only_after_award_within_the_guaranteed_amount(setting):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        guarantees.claim(setting.guarantor, guarantee, trigger="winner_withdrew", amount="100.00", note="",
                         now=clock.now())
    assert (refused.value.code, refused.value.status) == ("claim_before_award", 409)
    award(setting.section)
    for trigger, amount, code in (("bribery", "1.00", "claim_trigger_invalid"),
                                  ("contract_refused", "0", "claim_amount_invalid"),
                                  ("contract_refused", "12.345", "amount_precision"),
                                  ("contract_refused", "20000.01", "claim_exceeds_guarantee")):
        with pytest.raises(DomainError) as refused:
            guarantees.claim(setting.guarantor, guarantee, trigger=trigger, amount=amount, note="", now=clock.now())
        assert refused.value.code == code
        db.session.rollback()
    first = guarantees.claim(setting.guarantor, guarantee, trigger="contract_refused", amount="15000.00",
                             note="中标人拒签合同", now=clock.now())
    assert guarantee.status == "claimed" and first.amount == Decimal("15000.00")
    entry = journaled("tender.guarantee.claimed", guarantee.id)
    assert json.loads(entry.payload)["trigger"] == "contract_refused" and json.loads(entry.payload)["amount"] == "15000.00"
    with pytest.raises(DomainError) as refused:
        guarantees.claim(setting.guarantor, guarantee, trigger="no_performance_security", amount="5000.01",
                         note="", now=clock.now())
    assert refused.value.code == "claim_exceeds_guarantee" and "5,000.00" in refused.value.message
    db.session.rollback()
    guarantees.claim(setting.guarantor, guarantee, trigger="no_performance_security", amount="5000.00", note="",
                     now=clock.now())
    db.session.commit()
    assert guarantees.claimed_total(guarantee) == Decimal("20000.00")
    assert len(db.session.scalars(select(GuaranteeClaim)).all()) == 2


# Every (state, action) pair of the guarantee's lifecycle.

GUARANTEE_STATES = sorted({s for s, _ in states.GUARANTEE} | set(states.GUARANTEE.values()))
GUARANTEE_ACTIONS = sorted({a for _, a in states.GUARANTEE})


def _guarantee_in(setting, state) -> Guarantee:
    guarantee = setting.upload(setting.file())
    if state == "revoked":
        guarantees.revoke(setting.guarantor, guarantee, "撤销", clock.now())
    db.session.commit()
    if state == "claimed":
        award(setting.section)
        guarantees.claim(setting.guarantor, guarantee, trigger="winner_withdrew", amount="100.00", note="",
                         now=clock.now())
        db.session.commit()
    assert guarantee.status == state
    return guarantee


def _act(setting, guarantee, action):
    if action == "revoke":
        guarantees.revoke(setting.guarantor, guarantee, "撤销", clock.now())
    else:
        if guarantee.section.status == "published":
            award(guarantee.section)
        guarantees.claim(setting.guarantor, guarantee, trigger="winner_withdrew", amount="100.00", note="",
                         now=clock.now())


@pytest.mark.parametrize("state", GUARANTEE_STATES)
@pytest.mark.parametrize("action", GUARANTEE_ACTIONS)
def test_every_guarantee_state_and_action(setting, state, action):
    guarantee = _guarantee_in(setting, state)
    seq_before = db.session.scalar(select(JournalEntry.seq).order_by(JournalEntry.seq.desc()).limit(1))
    expected = states.GUARANTEE.get((state, action))
    if expected:
        _act(setting, guarantee, action)
        db.session.commit()
        assert guarantee.status == expected
        entry = db.session.scalar(select(JournalEntry).where(
            JournalEntry.action == f"tender.guarantee.{action}d" if action == "revoke" else
            JournalEntry.action == "tender.guarantee.claimed", JournalEntry.seq > seq_before))
        assert entry is not None and json.loads(entry.payload)["from"] == state and json.loads(entry.payload)["to"] == expected
    else:
        with pytest.raises(DomainError) as refused:
            _act(setting, guarantee, action)
        assert (refused.value.code, refused.value.status) == ("guarantee_transition_refused", 409)
        db.session.rollback()
        assert db.session.get(Guarantee, guarantee.id).status == state


# The pages.

def test_the_guarantor_uploads_lists_and_revokes_on_the_pages(setting, login):
    client = login("guarantor")
    page = client.get("/tender/guarantees/new")
    assert page.status_code == 200 and 'type="file"' in page.text
    response = client.post("/tender/guarantees/new", data={"file": (io.BytesIO(setting.file()), "保函.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    guarantee = db.session.scalar(select(Guarantee))
    listing = client.get("/tender/guarantees/")
    assert guarantee.number in listing.text and setting.section.code in listing.text
    detail = client.get(f"/tender/guarantees/{guarantee.id}")
    assert detail.status_code == 200 and 'id="revoke-form"' in detail.text and 'id="current-check"' in detail.text
    response = client.post(f"/tender/guarantees/{guarantee.id}/revoke", data={"reason": "申请人撤回"})
    assert response.status_code == 302
    assert "申请人撤回" in client.get(f"/tender/guarantees/{guarantee.id}").text
    assert db.session.get(Guarantee, guarantee.id).status == "revoked"


def test_a_refused_upload_shows_the_reason_in_words(setting, login):
    client = login("guarantor")
    response = client.post("/tender/guarantees/new",
                           data={"file": (io.BytesIO(setting.file(amount=Decimal("1.00"))), "保函.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and 'data-code="amount_short"' in response.text
    assert "The guaranteed amount is below the section" in response.text
    chinese = login("guarantor")
    chinese.set_cookie("lang", "zh")
    response = chinese.post("/tender/guarantees/new",
                            data={"file": (io.BytesIO(setting.file(amount=Decimal("1.00"))), "保函.json")},
                            content_type="multipart/form-data")
    assert response.status_code == 422 and "保函金额低于本标段要求的投标保证金" in response.text


def test_a_claim_form_after_award(setting, login):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    client = login("guarantor")
    assert 'id="claim-form"' not in client.get(f"/tender/guarantees/{guarantee.id}").text
    award(setting.section)
    assert 'id="claim-form"' in client.get(f"/tender/guarantees/{guarantee.id}").text
    response = client.post(f"/tender/guarantees/{guarantee.id}/claims",
                           data={"trigger": "contract_refused", "amount": "8000.00", "note": "拒签"})
    assert response.status_code == 302
    detail = client.get(f"/tender/guarantees/{guarantee.id}")
    assert "8,000.00" in detail.text and "拒签" in detail.text


def test_the_bidder_sees_its_guarantees_and_the_notice_says_so(setting, login):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    bidder = login("bidder1")
    assert guarantee.number in bidder.get("/tender/guarantees/").text
    page = bidder.get(f"/tender/guarantees/{guarantee.id}")
    assert page.status_code == 200 and 'id="revoke-form"' not in page.text
    notice = bidder.get(f"/tender/notices/{setting.section.id}")
    assert 'id="my-guarantees"' in notice.text and guarantee.number in notice.text
    other = login("bidder2")
    assert guarantee.number not in other.get("/tender/guarantees/").text
    assert other.get(f"/tender/guarantees/{guarantee.id}").status_code == 404
    assert 'id="my-guarantees"' not in other.get(f"/tender/notices/{setting.section.id}").text


def test_the_centre_and_supervisors_see_all_and_download_the_signed_file(setting, login):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    for username in ("centre", "supervisor"):
        client = login(username)
        assert guarantee.number in client.get("/tender/guarantees/").text
        download = client.get(f"/tender/guarantees/{guarantee.id}/document")
        assert download.status_code == 200 and download.data == guarantee.document
    assert login("procuring").get("/tender/guarantees/").status_code == 403


def test_the_pages_in_chinese(setting, login):
    guarantee = setting.upload(setting.file())
    db.session.commit()
    client = login("guarantor")
    client.set_cookie("lang", "zh")
    assert "保函" in client.get("/tender/guarantees/").text
    assert "撤销" in client.get(f"/tender/guarantees/{guarantee.id}").text


# The demo path: `flask pki make-ca`, `flask pki issue`, `flask tender sign-guarantee`, then the upload page.

def test_a_guarantee_signed_with_the_flask_commands_is_accepted_on_the_upload_page(app, demo, published, login,
                                                                                     tmp_path):
    runner = app.test_cli_runner()
    bank = demo["guarantor"].organisation
    steps = [["pki", "make-ca", "--out", str(tmp_path / "ca")],
             ["pki", "issue", "--ca-key", str(tmp_path / "ca" / "ca.key.pem"), "--ca-cert", str(tmp_path / "ca" / "ca.pem"),
              "--name", "保函系统", "--organisation", bank.name, "--credit-code", bank.credit_code,
              "--out", str(tmp_path / "bank")],
             ["tender", "sign-guarantee", "--key", str(tmp_path / "bank.key.pem"), "--cert", str(tmp_path / "bank.pem"),
              "--section", published.code, "--bidder", demo["bidder1"].organisation.credit_code,
              "--number", "BH-DEMO-1", "--out", str(tmp_path / "guarantee.json")]]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    assert "BH-DEMO-1" in (tmp_path / "guarantee.json").read_text()
    client = login("guarantor")
    response = client.post("/tender/guarantees/new",
                           data={"file": ((tmp_path / "guarantee.json").open("rb"), "guarantee.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    assert db.session.scalar(select(Guarantee.number)) == "BH-DEMO-1"
    refused = runner.invoke(args=["tender", "sign-guarantee", "--key", str(tmp_path / "bank.key.pem"), "--cert",
                                  str(tmp_path / "bank.pem"), "--section", "NO-SUCH", "--bidder", "X",
                                  "--out", str(tmp_path / "x.json")])
    assert refused.exit_code != 0 and "no published section" in refused.output


def test_the_demo_guarantee(app, demo, published, tmp_path, monkeypatch):
    from tender import demo as tender_demo
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    tender_demo.demo_guarantee(clock.now(), published)
    tender_demo.demo_guarantee(clock.now(), published)  # idempotent
    db.session.commit()
    kept = db.session.scalars(select(Guarantee)).all()
    assert [row.number for row in kept] == ["BH-DEMO-0001"] and kept[0].applicant_code == demo["bidder1"].organisation.credit_code
    assert (tmp_path / "instance" / "demo-pki" / "guarantor.key.pem").stat().st_mode & 0o777 == 0o600
    assert guarantees.verify_at_opening(kept[0], published.deadline).ok
