"""Lifecycles of organisations and users: {(state, action): next_state}. The only place a status changes."""
from flask_babel import gettext as _, lazy_gettext as _l

from core.errors import DomainError

# Words for the refusal message, so that a person reads their language, not our codes.
STATE_LABELS = {"pending": _l("waiting for approval"), "approved": _l("approved"), "rejected": _l("rejected"),
                "deactivated": _l("deactivated"), "active": _l("active")}
ACTION_LABELS = {"approve": _l("approve"), "reject": _l("reject"), "deactivate": _l("deactivate"),
                 "reactivate": _l("reactivate")}

ORGANISATION = {
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("approved", "deactivate"): "deactivated",
    ("deactivated", "reactivate"): "approved",
}

USER = {
    ("active", "deactivate"): "deactivated",
    ("deactivated", "reactivate"): "active",
}


def advance(table: dict, subject, action: str, what: str) -> str:
    """Move ``subject.status`` along ``table`` or refuse with ``<what>_transition_refused``."""
    try:
        subject.status = table[(subject.status, action)]
    except KeyError:
        raise DomainError(f"{what}_transition_refused",
                          _("You cannot %(action)s it: it is %(status)s.",
                            action=ACTION_LABELS.get(action, action),
                            status=STATE_LABELS.get(subject.status, subject.status)), 409) from None
    return subject.status
