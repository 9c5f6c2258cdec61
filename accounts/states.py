"""Lifecycles of organisations and users: {(state, action): next_state}. The only place a status changes."""
from flask_babel import lazy_gettext as _l

from core import lifecycle

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
    return lifecycle.advance(table, subject, action, what, STATE_LABELS, ACTION_LABELS)
