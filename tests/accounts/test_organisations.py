"""Registration, approval and the organisation and user lifecycles, as the centre and admins see them."""
import pytest

from accounts import credit_code, organisations, states
from accounts.models import Organisation, User
from core import clock
from core.errors import DomainError
from core.extensions import db

VALID_CODE = credit_code.complete("91320102MA1Y00077")


def registration(**overrides):
    data = {"name": "南京测试科技有限公司", "credit_code": VALID_CODE, "kind": "bidder", "region_code": "320102",
            "contact_phone": "025-1234567", "person_name": "测试 员", "username": "newbidder",
            "email": "new@example.cn", "password": "a-good-pass-1", "confirm": "a-good-pass-1"}
    data.update(overrides)
    return data


def test_an_organisation_registers_and_waits_for_approval(client, demo):
    response = client.post("/register", data=registration())
    assert response.status_code == 302
    org = db.session.query(Organisation).filter_by(credit_code=VALID_CODE).one()
    assert org.status == "pending"
    assert org.users[0].role == "bidder"
    refused = client.post("/login", data={"username": "newbidder", "password": "a-good-pass-1"})
    assert refused.status_code == 403
    assert "waiting for the centre" in refused.text


def test_the_centre_approves_and_the_user_can_sign_in(client, login, demo):
    client.post("/register", data=registration())
    org = db.session.query(Organisation).filter_by(credit_code=VALID_CODE).one()
    centre = login("centre")
    assert org.name in centre.get("/approvals").text
    assert centre.post(f"/approvals/{org.id}", data={"action": "approve"}).status_code == 302
    signed_in = client.post("/login", data={"username": "newbidder", "password": "a-good-pass-1"})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/tender/")


def test_a_rejection_needs_a_reason(client, login, demo):
    client.post("/register", data=registration())
    org = db.session.query(Organisation).filter_by(credit_code=VALID_CODE).one()
    centre = login("centre")
    answer = centre.post(f"/approvals/{org.id}", data={"action": "reject", "reason": ""}, follow_redirects=True)
    assert "Give the reason" in answer.text
    assert db.session.get(Organisation, org.id).status == "pending"
    centre.post(f"/approvals/{org.id}", data={"action": "reject", "reason": "营业执照不清晰"})
    assert db.session.get(Organisation, org.id).status == "rejected"


@pytest.mark.parametrize("code, reason", [
    ("91320102MA1Y0007", "credit_code_length"),
    ("91320102MA1Y0007I" + "X", "credit_code_characters"),
    (VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1"), "credit_code_check"),
])
def test_an_invalid_credit_code_is_refused_with_its_reason(demo, code, reason):
    with pytest.raises(DomainError) as refused:
        organisations.validate_credit_code(code)
    assert refused.value.code == reason


def test_the_registration_page_explains_a_mistyped_credit_code(client, demo):
    wrong = VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1")
    response = client.post("/register", data=registration(credit_code=wrong), follow_redirects=True)
    assert "does not match" in response.text
    assert db.session.query(Organisation).filter_by(credit_code=wrong).count() == 0


def test_known_valid_credit_code_from_the_standard_passes():
    assert credit_code.problem("91350100M000100Y43") is None


def test_a_credit_code_registers_once(client, demo):
    client.post("/register", data=registration())
    again = client.post("/register", data=registration(username="other", email="other@example.cn"),
                        follow_redirects=True)
    assert "registered already" in again.text


@pytest.mark.parametrize("field, value, reason", [
    ("kind", "centre", "kind_not_allowed"),
    ("region_code", "999999", "region_unknown"),
    ("username", "bidder1", "username_taken"),
    ("email", "bidder1@demo.ggzy.example.cn", "email_taken"),
    ("password", "onlyletterspassword", "password_too_simple"),
    ("password", "short1", "password_too_short"),
])
def test_registration_refusals_have_reason_codes(demo, field, value, reason):
    data = registration(**{field: value})
    with pytest.raises(DomainError) as refused:
        organisations.register(name=data["name"], code=data["credit_code"], kind=data["kind"],
                               region_code=data["region_code"], contact_phone=data["contact_phone"],
                               username=data["username"], person_name=data["person_name"], email=data["email"],
                               password=data["password"], now=clock.now())
    assert refused.value.code == reason


def _org_in(status: str) -> Organisation:
    org = Organisation(name=f"Org {status}", credit_code=credit_code.complete(f"9132010{len(status):02d}MA1Y0000"[:17]),
                       kind="bidder", region_code="320100", status=status, contact_phone="", registered_at=clock.now(),
                       decision_reason="")
    db.session.add(org)
    db.session.flush()
    return org


ORG_STATES = sorted({s for s, _ in states.ORGANISATION} | set(states.ORGANISATION.values()))
ORG_ACTIONS = sorted({a for _, a in states.ORGANISATION})


@pytest.mark.parametrize("state", ORG_STATES)
@pytest.mark.parametrize("action", ORG_ACTIONS)
def test_every_organisation_state_and_action(demo, state, action):
    """Every pair in the table moves as the table says; every other pair is refused with its code."""
    org = _org_in(state)
    admin = demo["admin"]
    expected = states.ORGANISATION.get((state, action))
    if expected:
        organisations.decide(admin, org, action, "reason given", clock.now())
        assert org.status == expected and org.decided_by_id == admin.id
    else:
        with pytest.raises(DomainError) as refused:
            organisations.decide(admin, org, action, "reason given", clock.now())
        assert refused.value.code == "organisation_transition_refused"
        assert org.status == state


USER_STATES = sorted({s for s, _ in states.USER})
USER_ACTIONS = sorted({a for _, a in states.USER})


@pytest.mark.parametrize("state", USER_STATES)
@pytest.mark.parametrize("action", USER_ACTIONS)
def test_every_user_state_and_action(demo, state, action):
    user = db.session.get(User, demo["bidder2"].id)
    user.status = state
    expected = states.USER.get((state, action))
    if expected:
        organisations.set_user_status(demo["admin"], user, action, clock.now())
        assert user.status == expected
    else:
        with pytest.raises(DomainError) as refused:
            organisations.set_user_status(demo["admin"], user, action, clock.now())
        assert refused.value.code == "user_transition_refused"


def test_an_admin_cannot_deactivate_themselves(demo):
    with pytest.raises(DomainError) as refused:
        organisations.set_user_status(demo["admin"], demo["admin"], "deactivate", clock.now())
    assert refused.value.code == "cannot_change_self"


def test_admin_deactivates_an_organisation_and_its_users_are_signed_out(login, demo):
    bidder = login("bidder2")
    assert bidder.get("/tender/").status_code == 200
    admin = login("admin")
    org_id = demo["bidder2"].organisation_id
    admin.post(f"/admin/organisations/{org_id}/status", data={"action": "deactivate", "reason": "围标被查处"})
    assert db.session.get(Organisation, org_id).status == "deactivated"
    assert bidder.get("/tender/").status_code == 302


def test_admin_adds_a_user_with_a_role_the_organisation_may_have(login, demo):
    admin = login("admin")
    org_id = demo["bidder1"].organisation_id
    refused = admin.post(f"/admin/organisations/{org_id}/users", follow_redirects=True, data={
        "name": "王五", "username": "wangwu", "email": "wangwu@example.cn", "role": "admin",
        "password": "a-good-pass-1"})
    assert db.session.query(User).filter_by(username="wangwu").count() == 0
    assert refused.status_code == 422 and "role_not_allowed" in refused.text
    admin.post(f"/admin/organisations/{org_id}/users", data={
        "name": "王五", "username": "wangwu", "email": "wangwu@example.cn", "role": "bidder",
        "password": "a-good-pass-1"})
    assert db.session.query(User).filter_by(username="wangwu").one().role == "bidder"


def test_add_user_refuses_a_role_of_another_kind(demo):
    org = db.session.get(Organisation, demo["bidder1"].organisation_id)
    with pytest.raises(DomainError) as refused:
        organisations.add_user(demo["admin"], org, username="x1", name="x", email="x1@example.cn", role="admin",
                               password="a-good-pass-1", now=clock.now())
    assert refused.value.code == "role_not_allowed"


def test_the_registrant_is_told_the_decision_with_its_reason(app, client, login, demo):
    import email
    import email.policy
    from pathlib import Path

    from core.models import Notification
    client.post("/register", data=registration())
    org = db.session.query(Organisation).filter_by(credit_code=VALID_CODE).one()
    login("centre").post(f"/approvals/{org.id}", data={"action": "reject", "reason": "营业执照不清晰"})
    note = db.session.query(Notification).filter_by(user_id=org.users[0].id).one()
    assert "rejected" in note.title and "营业执照不清晰" in note.body
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    assert [m["To"] for m in mails] == ["new@example.cn"]
