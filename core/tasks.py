"""Kernel tasks. Tasks take plain values or ids, never objects."""
from celery import shared_task

from core import clock, mail, notifications
from core.extensions import db


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_mail(to: str, subject: str, body: str) -> None:
    mail.deliver(mail.build(to, subject, body))


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def mail_notification(notification_id: int) -> bool:
    """Mail one notification (enqueued after the commit that made it); run twice, it mails once."""
    sent = notifications.mail_one(notification_id, clock.now())
    db.session.commit()
    return sent


@shared_task
def send_due_warnings() -> int:
    """Every minute (beat): the deadline warnings that have fallen due, as notifications."""
    sent = notifications.send_due_warnings(clock.now())
    db.session.commit()
    return sent
