"""Notifications through a real Celery worker process on Redis: the mail task is enqueued on the broker
after the commit, and a separate worker process mails it and records it (elsewhere the suite runs tasks
eagerly, in the test's own process).

The worker is the one tests/core/test_worker.py starts (`celery -A worker worker --pool=solo` on a queue of
its own, with the test's database and instance folder); for the duration of the test this process's Celery
publishes to that broker and queue instead of running tasks eagerly."""
import email
import email.policy
import uuid
from pathlib import Path

import pytest

from core import clock
from core.extensions import db
from core.models import Notification
from core.notifications import notify
from tests.core.test_notifications import badge
from tests.core.test_worker import redis_url, worker_process  # noqa: F401 - fixtures

pytestmark = pytest.mark.services


def _forget_connections(celery) -> None:
    """Celery keeps its broker connection pool (made on first use, even by an eager task): drop it, so
    that the next publication connects to the broker the configuration names now."""
    from kombu import pools
    celery._pool = None
    celery.amqp._producer_pool = None
    pools.reset()  # also empties kombu's own registry of producer pools, keyed by connection


@pytest.fixture
def publishing_to(app, redis_url, worker_process):  # noqa: F811 - the imported fixtures
    """The app's Celery publishes to the worker's broker and queue, not eagerly, until the test ends."""
    celery = app.extensions["celery"]
    changed = {"broker_url": redis_url, "task_always_eager": False, "task_default_queue": worker_process.queue}
    saved = {key: celery.conf[key] for key in changed}
    _forget_connections(celery)
    celery.conf.update(changed)
    yield worker_process
    celery.conf.update(saved)
    _forget_connections(celery)  # nothing later publishes to the test's Redis


def _message_with(folder: Path, subject: str):
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["Subject"] == subject:
            return message
    return None


def _emailed_at(notification_id: int):
    value = db.session.get(Notification, notification_id, populate_existing=True).emailed_at
    db.session.commit()  # hold no transaction while the worker writes (SQLite begins them IMMEDIATE)
    return value


def test_notifications_reach_the_centre_and_the_mail_folder_through_the_worker(
        app, publishing_to, instance_dir, demo, login):
    worker = publishing_to
    bidder = demo["bidder1"]
    subject = f"Worker notification 通知 {uuid.uuid4().hex[:8]}"
    notification_id = notify([bidder.id], "test", subject, "Sent by the worker.", "/tender/", clock.now())[0].id
    mail_folder = Path(app.config["MAIL_FOLDER"])
    assert mail_folder == instance_dir / "mail"  # where the worker, on the same instance folder, writes
    assert _message_with(mail_folder, subject) is None
    db.session.commit()  # the task is published now, after the commit

    worker.wait_for(lambda: _message_with(mail_folder, subject) is not None, "mail file")
    worker.wait_for(lambda: _emailed_at(notification_id) is not None, "emailed_at")
    message = _message_with(mail_folder, subject)
    assert message["To"] == bidder.email
    assert "Sent by the worker." in message.get_content()
    assert "core.tasks.mail_notification" in worker.log()  # the worker ran it, not this process

    page = login("bidder1").get("/notifications")
    assert page.status_code == 200
    assert subject in page.text and badge(page.text) == 1
