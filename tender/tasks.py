"""Tender's periodic work: closing sections to bids at their deadline."""
from celery import shared_task

from core import clock
from core.extensions import db
from tender import publication


@shared_task(ignore_result=True)
def close_due_sections() -> int:
    closed = publication.close_due(clock.now())
    db.session.commit()
    return len(closed)
