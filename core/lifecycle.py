"""Moving a status along a lifecycle table {(state, action): next_state}, refusing any other move."""
from flask_babel import gettext as _

from core import journal
from core.errors import DomainError
from core.extensions import db


def require(table: dict, subject, action: str, what: str, state_labels: dict, action_labels: dict) -> str:
    """The state ``action`` leads to from ``subject.status``, or a refusal ``<what>_transition_refused``
    (409) in words a person reads in their language rather than our codes."""
    try:
        return table[(subject.status, action)]
    except KeyError:
        raise DomainError(f"{what}_transition_refused",
                          _("You cannot %(action)s it: it is %(status)s.",
                            action=action_labels.get(action, action),
                            status=state_labels.get(subject.status, subject.status)), 409) from None


def advance(table: dict, subject, action: str, what: str, state_labels: dict, action_labels: dict) -> str:
    subject.status = require(table, subject, action, what, state_labels, action_labels)
    return subject.status


def move(table: dict, subject, action: str, what: str, state_labels: dict, action_labels: dict, *, journal_as: str,
         actor, now, payload: dict | None = None) -> str:
    """One journaled step: ``advance``, flush, and the journal entry ``<journal_as>.<action>`` on the subject
    (subject type ``what``) with {"from", "to", **payload}."""
    before = subject.status
    advance(table, subject, action, what, state_labels, action_labels)
    db.session.flush()
    journal.record(f"{journal_as}.{action}", what, subject.id,
                   {"from": before, "to": subject.status, **(payload or {})}, actor=actor, now=now)
    return subject.status
