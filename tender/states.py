"""Lifecycles of projects and sections: {(state, action): next_state}. The only place a status changes.

Acceptance is per project: its actions move the project and every live section of it together. From
publication on, each section goes its own way. The opening, evaluation and award actions are driven by
the services of those stages; this table is the whole lifecycle, so that each stage can only follow it.
"""
from flask_babel import lazy_gettext as _l

from core import lifecycle

STATE_LABELS = {
    "draft": _l("draft"), "submitted": _l("submitted for acceptance"), "returned": _l("returned"),
    "accepted": _l("accepted"), "accepted_with_gaps": _l("accepted with gaps"), "published": _l("published"),
    "closed": _l("closed to bids"), "opening": _l("being opened"), "opened": _l("opened"),
    "evaluated": _l("evaluated"), "publicised": _l("candidates publicised"), "awarded": _l("awarded"),
    "contracted": _l("contracted"), "failed": _l("failed"), "cancelled": _l("cancelled"),
}

ACTION_LABELS = {
    "submit": _l("submit"), "accept": _l("accept"), "return": _l("return"),
    "accept_with_gaps": _l("accept with gaps"), "clear_gaps": _l("clear the gaps of"), "publish": _l("publish"),
    "close": _l("close"), "start_opening": _l("start opening"), "suspend_opening": _l("suspend the opening of"),
    "finish_opening": _l("finish opening"), "evaluate": _l("evaluate"), "publicise": _l("publicise"),
    "award": _l("award"), "contract": _l("record the contract of"), "fail": _l("declare failed"),
    "cancel": _l("cancel"),
}

# The acceptance part, shared by projects and their sections.
_ACCEPTANCE = {
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "accept"): "accepted",
    ("submitted", "return"): "returned",
    ("submitted", "accept_with_gaps"): "accepted_with_gaps",
    ("accepted_with_gaps", "clear_gaps"): "accepted",
    ("draft", "cancel"): "cancelled",
    ("returned", "cancel"): "cancelled",
}

PROJECT = dict(_ACCEPTANCE)

SECTION = {
    **_ACCEPTANCE,
    ("accepted", "cancel"): "cancelled",
    ("accepted_with_gaps", "cancel"): "cancelled",
    ("accepted", "publish"): "published",
    ("published", "cancel"): "cancelled",
    ("published", "close"): "closed",
    ("closed", "start_opening"): "opening",
    ("closed", "fail"): "failed",  # no bids at all
    ("closed", "cancel"): "cancelled",
    ("opening", "suspend_opening"): "closed",  # too few key shares in time: rescheduled
    ("opening", "finish_opening"): "opened",
    ("opened", "evaluate"): "evaluated",
    ("opened", "fail"): "failed",  # fewer valid bids than the law asks
    ("evaluated", "publicise"): "publicised",
    ("evaluated", "fail"): "failed",
    ("publicised", "award"): "awarded",
    ("publicised", "fail"): "failed",
    ("awarded", "contract"): "contracted",
    ("awarded", "fail"): "failed",  # the winner refuses and no candidate remains
}

# Sections that take part in their project's acceptance (a cancelled one no longer does).
LIVE_BEFORE_PUBLICATION = ("draft", "submitted", "returned", "accepted", "accepted_with_gaps")


def advance(table: dict, subject, action: str, what: str) -> str:
    return lifecycle.advance(table, subject, action, what, STATE_LABELS, ACTION_LABELS)


def require(table: dict, subject, action: str, what: str) -> str:
    """Refuse now, before any other work, an action the lifecycle does not allow."""
    return lifecycle.require(table, subject, action, what, STATE_LABELS, ACTION_LABELS)
