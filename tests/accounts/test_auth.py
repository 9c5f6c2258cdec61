"""Signing in as a person would: passwords, throttling and locking, the second factor, sessions."""
from datetime import timedelta

import time_machine

from accounts.models import LoginSession, User
from core import clock
from core.extensions import db
from tests.conftest import totp_now


def sign_in(client, username, password="demo-pass-2026"):
    return client.post("/login", data={"username": username, "password": password})


def test_each_role_lands_on_its_home_page(login):
    homes = {"bidder1": "/tender/", "procuring": "/tender/", "supplier": "/mall/", "supervisor": "/supervision/",
             "admin": "/admin", "centre": "/tender/", "guarantor": "/tender/", "expert1": "/tender/"}
    for username, home in homes.items():
        client = login(username)
        page = client.get("/", follow_redirects=True)
        assert page.status_code == 200
        assert page.request.path == home


def test_wrong_password_is_refused_with_a_reason(client, demo):
    response = sign_in(client, "bidder1", "wrong-password-1")
    assert response.status_code == 401
    assert "username or password is wrong" in response.text
    assert client.get("/tender/").status_code == 302  # still signed out


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, demo):
    unknown = sign_in(client, "nobody", "wrong-password-1")
    assert unknown.status_code == 401
    assert "username or password is wrong" in unknown.text


def test_repeated_failures_slow_then_lock_the_account(client, demo):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(5):
            assert sign_in(client, "bidder1", "wrong-password-1").status_code == 401
        # Past the slow-down threshold even the right password must wait.
        throttled = sign_in(client, "bidder1")
        assert throttled.status_code == 429
        assert "Wait a moment" in throttled.text
        traveller.shift(timedelta(seconds=31))
        for _ in range(5):
            sign_in(client, "bidder1", "wrong-password-1")
            traveller.shift(timedelta(minutes=16))
        locked = sign_in(client, "bidder1")
        assert locked.status_code == 423
        assert "locked" in locked.text


def test_admin_unlocks_a_locked_account(login, demo):
    user = db.session.get(User, demo["bidder1"].id)
    user.locked, user.failed_logins = True, 10
    db.session.commit()
    admin = login("admin")
    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert login("bidder1").get("/tender/").status_code == 200


def test_a_successful_sign_in_clears_the_failure_count(client, demo):
    for _ in range(3):
        sign_in(client, "bidder1", "wrong-password-1")
    assert sign_in(client, "bidder1").status_code == 302
    assert db.session.get(User, demo["bidder1"].id).failed_logins == 0


def test_second_factor_is_required_for_admins_centre_and_supervisors(client, demo):
    for username in ("admin", "centre", "supervisor"):
        c = client.application.test_client()
        first = sign_in(c, username)
        assert first.location.endswith("/login/code")
        # Not signed in yet: the password alone opens nothing.
        assert c.get("/admin").status_code == 302
        assert c.post("/login/code", data={"code": "000000"}).status_code == 400
        done = c.post("/login/code", data={"code": totp_now(username)})
        assert done.status_code == 302 and not done.location.endswith("/login/code")


def test_a_second_factor_code_cannot_be_used_twice(app, demo):
    with time_machine.travel(clock.now(), tick=False):
        code = totp_now("admin")
        first = app.test_client()
        sign_in(first, "admin")
        assert first.post("/login/code", data={"code": code}).status_code == 302
        second = app.test_client()
        sign_in(second, "admin")
        replay = second.post("/login/code", data={"code": code})
        assert replay.status_code == 400
        assert "already used" in replay.text


def test_second_factor_step_expires(client, demo):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        sign_in(client, "admin")
        traveller.shift(timedelta(minutes=6))
        late = client.post("/login/code", data={"code": totp_now("admin")})
        assert late.status_code == 302 and late.location.endswith("/login")


def test_a_role_that_needs_a_second_factor_sets_it_up_at_first_sign_in(app, demo):
    import base64
    import re

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    from accounts import auth
    user = db.session.get(User, demo["centre"].id)
    auth.set_totp_secret(user, None)
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, "centre").location.endswith("/login/code/setup")
    page = client.get("/login/code/setup")
    assert 'id="totp-qr"' in page.text and "data:image/svg+xml" in page.text  # scannable by a phone
    secret = base64.b32decode(re.search(r'id="totp-secret">([A-Z2-7=]+)<', page.text).group(1))
    code = TOTP(secret, 6, SHA1(), 30).generate(clock.now().timestamp()).decode()
    assert client.post("/login/code/setup", data={"code": code}).status_code == 302
    assert db.session.get(User, demo["centre"].id).has_totp
    assert client.get("/tender/").status_code == 200


def test_the_totp_secret_is_stored_only_encrypted(demo):
    from accounts.demo import USERS
    user = db.session.get(User, demo["admin"].id)
    seed = {u[0]: u[4] for u in USERS}["admin"]
    assert user.totp_secret_box and seed not in user.totp_secret_box


def test_sign_out_ends_the_session_on_the_server(login, demo):
    client = login("bidder1")
    cookie = client.get_cookie("session")
    assert client.post("/logout").status_code == 302
    assert db.session.query(LoginSession).count() == 0
    # Replaying the old cookie does not bring the session back.
    replay = client.application.test_client()
    replay.set_cookie("session", cookie.value)
    assert replay.get("/tender/").status_code == 302


def test_an_idle_session_expires(login, app):
    client = login("bidder1")
    with time_machine.travel(clock.now() + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)):
        assert client.get("/tender/").status_code == 302


def test_users_of_unapproved_or_deactivated_organisations_cannot_sign_in(client, demo):
    from accounts.models import Organisation
    org = db.session.get(Organisation, demo["bidder2"].organisation_id)
    org.status = "deactivated"
    db.session.commit()
    response = sign_in(client, "bidder2")
    assert response.status_code == 403
    assert "deactivated" in response.text


def test_session_cookie_is_http_only_and_same_site(client, demo):
    response = sign_in(client, "bidder1")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_password_hash_is_memory_hard():
    from core.config import from_environment
    assert from_environment()["PASSWORD_HASH_METHOD"].startswith("scrypt:32768")


def test_passwords_are_stored_only_hashed(demo):
    user = db.session.get(User, demo["bidder1"].id)
    assert "demo-pass-2026" not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:")


def test_many_failures_from_one_address_slow_that_address_whatever_the_accounts(client, demo):
    """Password spraying: one password tried on many accounts never locks any of them."""
    from accounts.auth import ADDRESS_LIMIT
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for i in range(ADDRESS_LIMIT):
            assert sign_in(client, f"someone{i}", "Spring2026!").status_code == 401
        refused = sign_in(client, "bidder1")
        assert refused.status_code == 429 and "from your network" in refused.text
        other_network = client.application.test_client()
        other_network.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        assert sign_in(other_network, "bidder1").status_code == 302
        traveller.shift(timedelta(minutes=16))
        assert sign_in(client, "bidder1").status_code == 302
