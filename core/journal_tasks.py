"""Journal tasks: signed checkpoints (beat) and verification runs started from the journal page."""
from celery import shared_task
from sqlalchemy import update

from core import clock, journal
from core.extensions import db
from core.models import JournalVerification


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
