"""Notifications: the in-app centre and its unread badge, mail after commit (never after a rollback, never
twice), and deadline warnings sent by the beat task when they fall due.

Celery is eager here: a task enqueued after a commit runs at once, in this process."""
import email
import email.policy
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core import clock, notifications
from core.extensions import db
from core.models import DeadlineWarning, Notification
from core.notifications import cancel_deadline_warning, notify, schedule_deadline_warning
from core.tasks import mail_notification, send_due_warnings


def mails(app) -> list:
    """The messages written to MAIL_FOLDER (no SMTP server in tests)."""
    from pathlib import Path
    folder = Path(app.config["MAIL_FOLDER"])
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))]


def badge(html: str) -> int:
    """The unread count the navbar's bell shows (0 when it shows none)."""
    match = re.search(r'id="unread-count">\s*(\d+)\s*<span class="visually-hidden">unread</span>', html)
    return int(match.group(1)) if match else 0


def count(model, *where) -> int:
    value = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.commit()  # hold no transaction while a task writes (SQLite begins them IMMEDIATE)
    return value


# The in-app centre.

def test_a_notification_shows_in_the_centre_with_the_unread_badge(login, demo):
    bidder = demo["bidder1"]
    now = clock.now()
    notify([bidder.id], "test", "Older: the bid opening moved", "Opening is now on Friday.", "/tender/", now)
    notify([bidder.id, bidder.id], "test", "Newer: order 17 waits", "Confirm order 17 <b>today</b>.", "/mall/",
           now + timedelta(minutes=1))
    db.session.commit()

    client = login("bidder1")
    page = client.get("/notifications")
    assert page.status_code == 200
    assert page.text.index("Newer: order 17 waits") < page.text.index("Older: the bid opening moved")
    assert "Confirm order 17 &lt;b&gt;today&lt;/b&gt;." in page.text  # escaped, never markup
    assert page.text.count("notification-unread") == 2  # the same user named twice is notified once
    assert badge(page.text) == 2
    assert "Notifications" in page.text and badge(client.get("/profile").text) == 2  # the bell on every page

    # Nobody else sees them.
    other = login("bidder2")
    assert "order 17" not in other.get("/notifications").text
    assert badge(other.get("/profile").text) == 0


def test_the_centre_shows_twenty_a_page(login, demo):
    bidder = demo["bidder1"]
    start = clock.now()
    for number in range(21):
        notify([bidder.id], "test", f"Message number {number:02d}", "body", "", start + timedelta(seconds=number))
    db.session.commit()
    client = login("bidder1")
    first = client.get("/notifications")
    assert first.text.count('id="notification-') == 20
    assert "Message number 20" in first.text and "Message number 00" not in first.text
    second = client.get("/notifications?page=2")
    assert second.text.count('id="notification-') == 1 and "Message number 00" in second.text
    assert badge(first.text) == 21


def test_signing_in_is_needed(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.location


def test_mark_one_read_then_all(login, demo):
    bidder = demo["bidder1"]
    made = notify([bidder.id], "test", "First", "body", "/mall/", clock.now())
    made += notify([bidder.id], "test", "Second", "body", "", clock.now())
    made += notify([bidder.id], "test", "Third", "body", "", clock.now())
    first, second, third = (n.id for n in made)
    db.session.commit()
    client = login("bidder1")

    response = client.post(f"/notifications/{second}/read")
    assert response.status_code == 302
    page = client.get(response.location)
    assert badge(page.text) == 2 and page.text.count("notification-unread") == 2
    assert db.session.get(Notification, second).read_at is not None

    # Opening follows the link and marks it read.
    response = client.post(f"/notifications/{first}/read", data={"open": "1"})
    assert response.status_code == 302 and response.location == "/mall/"
    assert badge(client.get("/notifications").text) == 1

    response = client.post("/notifications/read-all")
    assert response.status_code == 302
    page = client.get(response.location)
    assert badge(page.text) == 0 and "notification-unread" not in page.text
    assert "All your notifications are marked as read." in page.text
    db.session.expire_all()
    assert db.session.get(Notification, third).read_at is not None


def test_another_users_notification_answers_404_and_stays_unread(login, demo):
    theirs = notify([demo["bidder2"].id], "test", "Private to bidder2", "body", "", clock.now())[0].id
    mine = notify([demo["bidder1"].id], "test", "Mine", "body", "", clock.now())[0].id
    db.session.commit()
    client = login("bidder1")

    assert client.post(f"/notifications/{theirs}/read").status_code == 404
    assert client.post(f"/notifications/{theirs + 1000}/read").status_code == 404  # as a missing one
    client.post("/notifications/read-all")
    db.session.expire_all()
    assert db.session.get(Notification, theirs).read_at is None
    assert db.session.get(Notification, mine).read_at is not None
    assert "Private to bidder2" not in client.get("/notifications").text
    assert badge(login("bidder2").get("/profile").text) == 1


def test_links_stay_inside_the_platform(demo):
    for link in ("https://evil.example.com/", "//evil.example.com", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notify([demo["bidder1"].id], "test", "t", "b", link, clock.now())


# Mail after the commit.

def test_the_mail_goes_out_after_the_commit(app, demo):
    bidder = demo["bidder1"]
    made = [n.id for n in notify([bidder.id, demo["bidder2"].id], "test", "订单 17 待确认 Order 17",
                                 "Please confirm.", "/mall/", clock.now())]
    assert mails(app) == []  # not before the commit
    db.session.commit()
    sent = {m["To"]: m for m in mails(app)}
    assert set(sent) == {bidder.email, demo["bidder2"].email}
    message = sent[bidder.email]
    assert message["Subject"] == "订单 17 待确认 Order 17"
    assert "Please confirm." in message.get_content()
    assert app.config["BASE_URL"].rstrip("/") + "/mall/" in message.get_content()
    db.session.expire_all()
    assert all(db.session.get(Notification, n).emailed_at is not None for n in made)


def test_nothing_is_mailed_when_the_transaction_rolls_back(app, demo):
    notify([demo["bidder1"].id], "test", "Never happened", "body", "", clock.now())
    db.session.rollback()
    notify([demo["bidder2"].id], "test", "Happened", "body", "", clock.now())
    db.session.commit()  # a later commit does not send what was rolled back
    assert [m["Subject"] for m in mails(app)] == ["Happened"]
    assert count(Notification) == 1


def test_a_rolled_back_savepoint_mails_nothing_a_released_one_waits_for_the_commit(app, demo):
    with db.session.begin_nested() as savepoint:
        notify([demo["bidder1"].id], "test", "In the undone savepoint", "body", "", clock.now())
        savepoint.rollback()
    with db.session.begin_nested():
        notify([demo["bidder2"].id], "test", "In the kept savepoint", "body", "", clock.now())
    assert mails(app) == []  # released, not committed
    db.session.commit()
    assert [m["Subject"] for m in mails(app)] == ["In the kept savepoint"]


def test_the_mail_task_run_twice_mails_once(app, demo):
    notification_id = notify([demo["bidder1"].id], "test", "Only once", "body", "", clock.now())[0].id
    db.session.commit()
    assert len(mails(app)) == 1
    emailed_at = db.session.get(Notification, notification_id).emailed_at
    assert emailed_at is not None
    db.session.commit()  # hold no transaction while the task writes (SQLite begins them IMMEDIATE)
    assert mail_notification.delay(notification_id).get() is False
    assert len(mails(app)) == 1
    assert db.session.get(Notification, notification_id).emailed_at == emailed_at


# Deadline warnings.

@pytest.mark.parametrize(("allowed", "warned_after"), [
    (timedelta(days=7), timedelta(days=6)),        # one day before
    (timedelta(hours=24), timedelta(hours=18)),    # shorter than two days: at three quarters
    (timedelta(days=2), timedelta(days=1)),        # exactly two days: one day before
    (timedelta(hours=47), timedelta(hours=35, minutes=15)),
])
def test_when_a_deadline_is_warned(demo, allowed, warned_after):
    now = clock.now()
    warning = schedule_deadline_warning("order:1:confirm", [demo["supplier"].id], "Confirm order 1", "body",
                                        "/mall/", now + allowed, now)
    assert warning.warn_at == now + warned_after
    # The time allowed counts from when it began, not from when the warning is scheduled.
    began = now - timedelta(hours=12)
    later = schedule_deadline_warning("order:1:confirm", [demo["supplier"].id], "Confirm order 1", "body",
                                      "/mall/", began + allowed, now, allowed_from=began)
    assert later.warn_at == began + warned_after
    assert count(DeadlineWarning) == 1  # the same key replaces the warning not yet sent


def test_the_beat_sends_a_due_warning_once(app, demo):
    start = clock.now()
    supplier, procuring = demo["supplier"], demo["procuring"]
    with time_machine.travel(start, tick=False) as traveller:
        schedule_deadline_warning("order:17:confirm", [supplier.id, procuring.id], "Order 17: confirm by tomorrow",
                                  "Confirm or refuse order 17.", "/mall/", start + timedelta(hours=24), start)
        db.session.commit()

        traveller.move_to(start + timedelta(hours=17, minutes=59))
        assert send_due_warnings.delay().get() == 0
        assert count(Notification) == 0

        traveller.move_to(start + timedelta(hours=18))
        assert send_due_warnings.delay().get() == 1
        traveller.move_to(start + timedelta(hours=18, minutes=1))
        assert send_due_warnings.delay().get() == 0  # the next tick sends nothing again

    sent = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert sorted(n.user_id for n in sent) == sorted([supplier.id, procuring.id])
    assert {(n.kind, n.title, n.link) for n in sent} == {
        ("deadline_warning", "Order 17: confirm by tomorrow", "/mall/")}
    assert db.session.scalar(select(DeadlineWarning.sent_at)) == start + timedelta(hours=18)
    assert sorted(m["To"] for m in mails(app)) == sorted([supplier.email, procuring.email])


def test_a_cancelled_warning_is_never_sent(app, demo):
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        schedule_deadline_warning("order:18:confirm", [demo["supplier"].id], "Order 18", "body", "/mall/",
                                  start + timedelta(days=3), start)
        db.session.commit()
        traveller.move_to(start + timedelta(hours=30))
        assert cancel_deadline_warning("order:18:confirm", clock.now()) is True
        db.session.commit()
        for hours in (48, 60, 71):
            traveller.move_to(start + timedelta(hours=hours))
            assert send_due_warnings.delay().get() == 0
    assert count(Notification) == 0 and mails(app) == []


def test_a_sent_warning_is_not_cancelled_and_a_moved_deadline_is_warned_again(demo):
    start = clock.now()
    supplier = demo["supplier"]
    with time_machine.travel(start, tick=False) as traveller:
        schedule_deadline_warning("order:19:confirm", [supplier.id], "Order 19", "body", "", start + timedelta(hours=8),
                                  start)
        db.session.commit()
        traveller.move_to(start + timedelta(hours=6))
        assert send_due_warnings.delay().get() == 1
        assert cancel_deadline_warning("order:19:confirm", clock.now()) is False
        # The same deadline again: already warned.
        schedule_deadline_warning("order:19:confirm", [supplier.id], "Order 19", "body", "",
                                  start + timedelta(hours=8), clock.now(), allowed_from=start)
        db.session.commit()
        traveller.move_to(start + timedelta(hours=7))
        assert send_due_warnings.delay().get() == 0
        # The deadline moved: warned afresh, at three quarters of the 32 hours now allowed.
        warning = schedule_deadline_warning("order:19:confirm", [supplier.id], "Order 19 (extended)", "body", "",
                                            start + timedelta(hours=32), clock.now(), allowed_from=start)
        assert warning.warn_at == start + timedelta(hours=24)
        db.session.commit()
        traveller.move_to(start + timedelta(hours=24))
        assert send_due_warnings.delay().get() == 1
    assert [n.title for n in db.session.scalars(select(Notification).order_by(Notification.id))] == [
        "Order 19", "Order 19 (extended)"]


def test_a_warning_due_after_its_deadline_passed_is_not_sent(demo):
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        schedule_deadline_warning("order:20:confirm", [demo["supplier"].id], "Order 20", "body", "",
                                  start + timedelta(hours=4), start)
        db.session.commit()
        traveller.move_to(start + timedelta(hours=5))  # the beat was down through the warning and deadline
        assert send_due_warnings.delay().get() == 0
    assert count(Notification) == 0


def test_two_overlapping_ticks_send_a_warning_once(app, demo):
    start = clock.now()
    for number in range(5):
        schedule_deadline_warning(f"order:{number}:confirm", [demo["supplier"].id], f"Order {number}", "body", "",
                                  start + timedelta(hours=1), start, allowed_from=start - timedelta(hours=10))
    db.session.commit()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def tick():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(notifications.send_due_warnings(clock.now()))
                db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(results) == 5  # between them, each warning once
    assert count(Notification) == 5
    assert len(mails(app)) == 5


def test_a_notification_whose_mail_was_lost_is_mailed_by_the_sweep(app, demo, monkeypatch):
    from core.models import Notification
    from core.tasks import mail_unmailed_notifications
    monkeypatch.setattr(notifications, "_enqueue_mail", lambda _id: None)  # broker down: the task never ran
    notifications.notify([demo["bidder1"].id], "test", "Lost mail", "body", "/", clock.now())
    db.session.commit()
    assert mail_unmailed_notifications.delay().get() == 0  # too recent: its own task may still come
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        assert mail_unmailed_notifications.delay().get() == 1
    db.session.commit()
    assert db.session.scalars(db.select(Notification.emailed_at)).one() is not None
