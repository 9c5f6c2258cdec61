"""Password reset by an e-mailed link (the embedded default writes mail files under instance/mail)."""
import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import time_machine

from accounts.models import LoginSession
from core import clock
from core.extensions import db


def _mails(app):
    folder = Path(app.config["MAIL_FOLDER"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _reset_link(app) -> str:
    message = email.message_from_bytes(_mails(app)[-1].read_bytes(), policy=email.policy.default)
    assert message["To"] == "bidder1@demo.ggzy.example.cn"
    text = message.get_content()
    return re.search(r"http://[^\s]+/password/reset/[\w-]+", text).group(0)


def test_a_forgotten_password_is_reset_through_the_mailed_link(app, client, demo):
    answer = client.post("/password/forgot", data={"email": "bidder1@demo.ggzy.example.cn"}, follow_redirects=True)
    assert "reset link is on its way" in answer.text
    path = _reset_link(app).split("127.0.0.1:5000", 1)[1]
    assert client.post(path, data={"password": "new-pass-2027", "confirm": "new-pass-2027"}).status_code == 302
    assert client.post("/login", data={"username": "bidder1", "password": "demo-pass-2026"}).status_code == 401
    assert client.post("/login", data={"username": "bidder1", "password": "new-pass-2027"}).status_code == 302
    # The link works once.
    again = client.post(path, data={"password": "other-pass-2028", "confirm": "other-pass-2028"})
    assert again.status_code == 400 and "reset_link_invalid" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client, demo):
    answer = client.post("/password/forgot", data={"email": "nobody@example.cn"}, follow_redirects=True)
    assert "reset link is on its way" in answer.text
    assert _mails(app) == []


def test_a_reset_link_expires_after_an_hour(app, client, demo):
    client.post("/password/forgot", data={"email": "bidder1@demo.ggzy.example.cn"})
    path = _reset_link(app).split("127.0.0.1:5000", 1)[1]
    with time_machine.travel(clock.now() + timedelta(minutes=61)):
        late = client.post(path, data={"password": "new-pass-2027", "confirm": "new-pass-2027"})
    assert late.status_code == 400


def test_a_reset_ends_every_session_and_unlocks(app, login, demo):
    signed_in = login("bidder1")
    from accounts.models import User
    user = db.session.get(User, demo["bidder1"].id)
    user.locked = True
    db.session.commit()
    client = app.test_client()
    client.post("/password/forgot", data={"email": "bidder1@demo.ggzy.example.cn"})
    path = _reset_link(app).split("127.0.0.1:5000", 1)[1]
    client.post(path, data={"password": "new-pass-2027", "confirm": "new-pass-2027"})
    assert signed_in.get("/tender/").status_code == 302
    assert db.session.query(LoginSession).count() == 0
    assert client.post("/login", data={"username": "bidder1", "password": "new-pass-2027"}).status_code == 302


def test_housekeeping_forgets_expired_sessions_and_links(app, login, demo):
    from accounts.tasks import housekeeping
    login("bidder1")
    app.test_client().post("/password/forgot", data={"email": "bidder1@demo.ggzy.example.cn"})
    with time_machine.travel(clock.now() + timedelta(hours=3)):
        counts = housekeeping.delay().get()
    assert counts["sessions"] == 1 and counts["password_resets"] == 1
