"""Moving a status along a lifecycle table {(state, action): next_state}, refusing any other move."""
from flask_babel import gettext as _

from core.errors import DomainError


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
