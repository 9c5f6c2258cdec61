"""Lifecycles of projects and sections: {(state, action): next_state}. The only place a status changes.

Acceptance is per project: its actions move the project and every live section of it together. From
publication on, each section goes its own way. The opening, evaluation and award actions are driven by
the services of those stages; this table is the whole lifecycle, so that each stage can only follow it.
"""
# Lifecycle words in the tender's sense, in a context of their own: "accepted" is 已受理 here, 已验收 in the mall.
from flask_babel import lazy_pgettext as _p

from core import lifecycle

STATE_LABELS = {
    "draft": _p("tender", "draft"),
    "submitted": _p("tender", "submitted for acceptance"),
    "returned": _p("tender", "returned"),
    "accepted": _p("tender", "accepted"),
    "accepted_with_gaps": _p("tender", "accepted with gaps"),
    "published": _p("tender", "published"),
    "closed": _p("tender", "closed to bids"),
    "opening": _p("tender", "being opened"),
    "opened": _p("tender", "opened"),
    "evaluated": _p("tender", "evaluated"),
    "publicised": _p("tender", "candidates publicised"),
    "awarded": _p("tender", "awarded"),
    "contracted": _p("tender", "contracted"),
    "failed": _p("tender", "failed"),
    "cancelled": _p("tender", "cancelled"),
}

# Verbs for "You cannot %(action)s it".
ACTION_LABELS = {
    "submit": _p("tender", "submit"),
    "accept": _p("tender", "accept"),
    "return": _p("tender", "return"),
    "accept_with_gaps": _p("tender", "accept with gaps"),
    "clear_gaps": _p("tender", "clear the gaps of"),
    "publish": _p("tender", "publish"),
    "close": _p("tender", "close"),
    "start_opening": _p("tender", "start opening"),
    "suspend_opening": _p("tender", "suspend the opening of"),
    "finish_opening": _p("tender", "finish opening"),
    "evaluate": _p("tender", "evaluate"),
    "publicise": _p("tender", "publicise"),
    "award": _p("tender", "award"),
    "contract": _p("tender", "record the contract of"),
    "fail": _p("tender", "declare failed"),
    "cancel": _p("tender", "cancel"),
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

# An electronic bid guarantee: the guarantor revokes it before the deadline, or records claims after award.
GUARANTEE = {
    ("issued", "revoke"): "revoked",
    ("issued", "claim"): "claimed",
    ("claimed", "claim"): "claimed",  # a further claim on the same guarantee
}
GUARANTEE_LABELS = {"issued": _p("guarantee", "issued"), "revoked": _p("guarantee", "revoked"),
                    "claimed": _p("guarantee", "claimed")}
GUARANTEE_ACTIONS = {"revoke": _p("guarantee", "revoke"), "claim": _p("guarantee", "record a claim on")}

# Sections that take part in their project's acceptance (a cancelled one no longer does).
LIVE_BEFORE_PUBLICATION = ("draft", "submitted", "returned", "accepted", "accepted_with_gaps")


def advance(table: dict, subject, action: str, what: str) -> str:
    return lifecycle.advance(table, subject, action, what, STATE_LABELS, ACTION_LABELS)


def require(table: dict, subject, action: str, what: str) -> str:
    """Refuse now, before any other work, an action the lifecycle does not allow."""
    return lifecycle.require(table, subject, action, what, STATE_LABELS, ACTION_LABELS)
