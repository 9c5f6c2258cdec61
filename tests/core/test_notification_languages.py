"""Each person is told in their own language: the one they registered or last signed in with, or chose;
the platform's default (Chinese) before that. Whoever caused the notification reads another language."""
from datetime import timedelta

import time_machine
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import clock
from core.extensions import db
from core.models import Notification
from core.notifications import notify, schedule_deadline_warning
from core.tasks import send_due_warnings
from tests.core.test_notifications import mails


def _speaking(demo, **languages):
    for username, language in languages.items():
        demo[username].language = language
    db.session.commit()


def _told(user) -> Notification:
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)).one()


def test_one_notification_reaches_each_person_in_their_language(app, demo):
    _speaking(demo, bidder1="en", bidder2="zh", bidder3=None)
    notify([demo["bidder1"].id, demo["bidder2"].id, demo["bidder3"].id], "addendum",
           _l("Addendum to %(code)s", code="ZB-1"), _l("Reason: %(reason)s", reason="工期调整"), "/tender/", clock.now())
    db.session.commit()

    assert (_told(demo["bidder1"]).title, _told(demo["bidder1"]).body) == ("Addendum to ZB-1", "Reason: 工期调整")
    assert (_told(demo["bidder2"]).title, _told(demo["bidder2"]).body) == ("标段 ZB-1 补遗", "原因：工期调整")
    assert _told(demo["bidder3"]).title == "标段 ZB-1 补遗"  # no language known yet: the platform's default
    sent = {m["To"]: m for m in mails(app)}
    assert sent[demo["bidder1"].email]["Subject"] == "Addendum to ZB-1"
    assert "Open: " in sent[demo["bidder1"].email].get_content()
    assert sent[demo["bidder2"].email]["Subject"] == "标段 ZB-1 补遗"
    assert "查看：" in sent[demo["bidder2"].email].get_content()


def test_a_deadline_warning_is_sent_in_each_persons_language(app, demo):
    _speaking(demo, supplier="zh", procuring="en")
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        schedule_deadline_warning(
            "order:17:confirm", [demo["supplier"].id, demo["procuring"].id],
            _l("New mall order %(number)s: confirm it by %(deadline)s.", number="MO17", deadline="2026-12-08 10:00"),
            "", "/mall/", start + timedelta(hours=24), start)
        db.session.commit()
        # A person who changes language before the warning falls due reads it in the new one.
        _speaking(demo, procuring="zh", supplier="en")
        traveller.move_to(start + timedelta(hours=18))
        assert send_due_warnings.delay().get() == 1

    assert _told(demo["procuring"]).title == "新的商城订单 MO17：请在 2026-12-08 10:00 前确认。"
    assert _told(demo["supplier"]).title == "New mall order MO17: confirm it by 2026-12-08 10:00."


def test_signing_in_and_choosing_a_language_set_the_language_the_platform_writes_in(app, demo):
    _speaking(demo, bidder1=None)
    client = app.test_client()
    client.set_cookie("lang", "zh")
    response = client.post("/login", data={"username": "bidder1", "password": "demo-pass-2026"})
    assert response.status_code == 302
    db.session.expire_all()
    assert demo["bidder1"].language == "zh"

    client.post("/language", data={"lang": "en", "next": "/"})
    db.session.expire_all()
    assert demo["bidder1"].language == "en"


def test_registering_in_english_is_told_the_decision_in_english(app, demo, login):
    from accounts.models import Organisation
    from tests.accounts.test_organisations import VALID_CODE, registration
    client = app.test_client()
    client.set_cookie("lang", "en")
    client.post("/register", data=registration())
    organisation = db.session.scalars(select(Organisation).where(Organisation.credit_code == VALID_CODE)).one()
    centre = login("centre")
    centre.set_cookie("lang", "zh")  # the centre decides in Chinese
    centre.post(f"/approvals/{organisation.id}", data={"action": "reject", "reason": "营业执照不清晰"})
    note = _told(organisation.users[0])
    assert "rejected" in note.title and note.body == "Reason: 营业执照不清晰"
