"""Kernel tasks. Tasks take plain values or ids, never objects."""
from celery import shared_task
from sqlalchemy import update

from core import clock, journal, mail, notifications, workdays
from core.extensions import db
from core.models import JournalVerification


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


@shared_task
def warn_admins_of_uncovered_calendar() -> list[int]:
    """Daily (beat): tell the administrators of a year with no holiday table, once per year."""
    told = workdays.warn_admins_of_uncovered_years(clock.now())
    db.session.commit()
    return told


@shared_task
def mail_unmailed_notifications() -> int:
    """Every 15 minutes (beat): queue again the mail of notifications whose first task was lost."""
    ids = notifications.unmailed(clock.now())
    db.session.commit()
    for notification_id in ids:
        mail_notification.delay(notification_id)
    return len(ids)

@shared_task
def journal_checkpoint() -> int | None:
    row = journal.checkpoint(clock.now())
    db.session.commit()
    return row.seq if row else None


@shared_task
def verify_journal(verification_id: int) -> None:
    run = db.session.get(JournalVerification, verification_id)
    if run is None or run.status != "queued":
        return  # a duplicate delivery: the run is underway or done
    run.status = "running"
    db.session.commit()

    def progress(checked: int, total: int) -> None:
        db.session.execute(update(JournalVerification).where(JournalVerification.id == verification_id)
                           .values(checked=checked, total=total))
        db.session.commit()

    try:
        verdict = journal.verify(progress=progress)
    except Exception:
        db.session.rollback()
        db.session.execute(update(JournalVerification).where(JournalVerification.id == verification_id)
                           .values(status="error", finished_at=clock.now()))
        db.session.commit()
        raise
    run = db.session.get(JournalVerification, verification_id)
    run.status = "passed" if verdict.ok else "failed"
    run.checked, run.first_bad_seq = verdict.checked, verdict.first_bad_seq
    run.reason, run.detail, run.finished_at = verdict.reason, verdict.detail[:300], clock.now()
    db.session.commit()
