"""Tender's periodic work: closing sections to bids at their deadline."""
from celery import shared_task

from core import clock
from core.errors import DomainError
from core.extensions import db
from tender import publication


@shared_task(ignore_result=True)
def close_due_sections() -> int:
    closed = publication.close_due(clock.now())
    db.session.commit()
    return len(closed)


@shared_task(ignore_result=True)
def decrypt_bids(opening_id: int) -> int:
    """Decide every bid of an opening, a batch per transaction, the last one finishing the opening. Run again
    after a crash, it goes on with the bids not yet decided; run twice at once, the opening's row lock makes
    the second wait and find less. The opening key is rebuilt once, in this job's memory only."""
    from tender import opening as openings
    from tender.models import Opening
    total, keys = 0, {}
    while True:
        opening = db.session.get(Opening, opening_id)
        if opening is None or opening.status != "decrypting":  # a duplicate delivery finds it done
            return total
        try:
            total += openings.decrypt_batch(opening, clock.now(), keys=keys)
        except DomainError as refused:  # another worker finished it while this one waited for the lock
            db.session.rollback()
            if refused.code == "opening_transition_refused":
                return total
            raise
        finished = opening.status != "decrypting"
        db.session.commit()
        if finished:
            return total
