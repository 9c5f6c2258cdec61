from celery import shared_task

from accounts import auth
from core import clock
from core.api import purge_idempotency_records
from core.extensions import db


@shared_task
def housekeeping() -> dict:
    """Every 15 minutes (beat): forget expired sessions, reset links, tokens and idempotency records."""
    now = clock.now()
    counts = auth.purge_expired(now)
    counts["idempotency_records"] = purge_idempotency_records(now)
    db.session.commit()
    return counts
