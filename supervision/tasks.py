"""Supervision's periodic and long work: red flags after each opening and award, and over the whole history."""
from celery import shared_task
from sqlalchemy import update

from core import clock
from core.extensions import db
from supervision import red_flags, rollup
from supervision.models import RedFlagRun


@shared_task(ignore_result=True)
def compute_due_red_flags() -> int:
    """Every minute (beat): the flags of sections sealed or awarded since their flags were computed. The
    opening service writes tender.section.finish_opening when it seals the record; tender cannot call
    supervision, so supervision looks."""
    computed = red_flags.compute_due(clock.now())
    db.session.commit()
    return computed


@shared_task(ignore_result=True)
def recompute_red_flags(run_id: int) -> None:
    """A supervisor's recomputation over the whole history, a batch per transaction, with its progress."""
    run = db.session.get(RedFlagRun, run_id)
    if run is None or run.status != "queued":
        return  # a duplicate delivery: underway or done
    run.status = "running"
    db.session.commit()

    def progress(checked: int, total: int) -> None:
        db.session.execute(update(RedFlagRun).where(RedFlagRun.id == run_id).values(checked=checked, total=total))
        db.session.commit()

    try:
        raised = red_flags.compute_all(clock.now(), progress=progress, commit=db.session.commit)
    except Exception:
        db.session.rollback()
        db.session.execute(update(RedFlagRun).where(RedFlagRun.id == run_id)
                           .values(status="error", finished_at=clock.now()))
        db.session.commit()
        raise
    db.session.execute(update(RedFlagRun).where(RedFlagRun.id == run_id)
                       .values(status="passed", raised=raised, finished_at=clock.now()))
    db.session.commit()


@shared_task(ignore_result=True)
def refresh_statistics() -> int:
    """Every minute (beat): the statistics rollup takes in the awards, failures and imports journaled since
    its watermark (supervision/rollup.py), so the dashboard is at most a minute behind."""
    months = rollup.refresh(clock.now())
    db.session.commit()
    return months
