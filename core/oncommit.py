"""Work that must wait until the transaction it belongs to has committed.

A task enqueued inside a transaction may run before the transaction commits (and see nothing) or after
it rolls back (and act on rows that never existed). ``after_commit(callback)`` keeps the callback with the
current database session and runs it once the session's outermost transaction has committed; a rollback
drops it (a rolled-back savepoint drops only the callbacks registered inside it).

    notification = ...; db.session.flush()
    after_commit(lambda: mail_notification.delay(notification.id))

The data is already committed when a callback runs, so a failing callback is logged, not raised: the
caller's work succeeded and must not be reported as failed.
"""
import logging
from collections.abc import Callable

from sqlalchemy import event, update
from sqlalchemy.orm import Session, SessionTransaction

from core.extensions import db

log = logging.getLogger(__name__)
KEY = "core.oncommit.callbacks"


def after_commit(callback: Callable[[], object], session: Session | None = None) -> None:
    """Run ``callback()`` after the current transaction of ``session`` (the request's or task's
    session by default) commits; never if it rolls back."""
    session = session if session is not None else db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # nothing begun yet: the callback belongs to the transaction about to begin
        transaction = session.begin()
    session.info.setdefault(KEY, []).append((transaction, callback))


def pending(session: Session | None = None) -> int:
    """How many callbacks wait for a commit (for tests and diagnostics)."""
    session = session if session is not None else db.session()
    return len(session.info.get(KEY, ()))


def within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``ancestor`` or nested inside it."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint released: the work is not committed yet
        return
    callbacks = session.info.pop(KEY, [])
    for _transaction, callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - the transaction has committed; report, do not undo
            log.exception("a callback after commit failed: %r", callback)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    callbacks = session.info.get(KEY)
    if callbacks:
        session.info[KEY] = [(t, c) for t, c in callbacks if not within(t, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _drop_leftovers(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (closed, or the session removed): forget
    whatever it registered."""
    if transaction.parent is None:
        session.info.pop(KEY, None)


def queue_run(task, model, run_id: int, now) -> None:
    """For a page that starts a long job with a progress row (``model``, status "queued"): the caller has
    committed the row; send ``task(run_id)``, and if the broker cannot be reached mark the row "error" (and
    commit) so that its progress page says so instead of waiting, never a 500."""
    try:
        task.delay(run_id)
    except Exception:  # noqa: BLE001 - an unreachable broker raises whatever its transport raises
        log.exception("cannot queue %s for %s %s", task.name, model.__name__, run_id)
        db.session.execute(update(model).where(model.id == run_id).values(status="error", finished_at=now))
        db.session.commit()
