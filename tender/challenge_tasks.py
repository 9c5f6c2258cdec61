"""The beat's work on challenges and complaints: noting, once, each one that has become overdue (the
warnings one day before each due date are core.tasks.send_due_warnings')."""
from celery import shared_task

from core import clock
from core.extensions import db
from tender import challenges, complaints


@shared_task(ignore_result=True)
def note_overdue() -> int:
    now = clock.now()
    noted = len(challenges.note_overdue(now)) + len(complaints.note_overdue(now))
    db.session.commit()
    return noted
