"""Lifecycles of organisations and users: {(state, action): next_state}. The only place a status changes."""
from flask_babel import gettext as _
from core.errors import DomainError

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
                          _("This action (%(action)s) is not possible while the %(what)s is %(status)s.",
                            action=action, what=what, status=subject.status), 409) from None
    return subject.status
