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

# One attempt at opening a section (tender.opening): keyholders release their shares within the window;
# with enough of them one job decrypts every bid; the host decides what fewer than three valid bids mean,
# seals the record, and bidders confirm or object while the host answers.
OPENING = {
    ("releasing", "sign_in"): "releasing",
    ("releasing", "release"): "releasing",
    ("releasing", "suspend"): "suspended",  # too few shares in the window: the section is rescheduled
    ("releasing", "decrypt"): "decrypting",
    ("decrypting", "sign_in"): "decrypting",
    ("decrypting", "finish_decrypting"): "decrypted",
    ("decrypted", "sign_in"): "decrypted",
    ("decrypted", "decide"): "decrypted",  # continue, or the section fails, with fewer than three valid bids
    ("decrypted", "seal"): "sealed",
    ("sealed", "respond"): "sealed",  # a bidder confirms or objects
    ("sealed", "answer"): "sealed",  # the host answers an objection
}
OPENING_LABELS = {"releasing": _p("opening", "waiting for key shares"), "suspended": _p("opening", "suspended"),
                  "decrypting": _p("opening", "decrypting"), "decrypted": _p("opening", "decrypted"),
                  "sealed": _p("opening", "record sealed")}
OPENING_ACTIONS = {"sign_in": _p("opening", "sign in to"), "release": _p("opening", "release a share to"),
                   "suspend": _p("opening", "suspend"), "decrypt": _p("opening", "decrypt the bids of"),
                   "finish_decrypting": _p("opening", "finish decrypting"),
                   "decide": _p("opening", "record a decision on"), "seal": _p("opening", "seal the record of"),
                   "respond": _p("opening", "confirm or object to"), "answer": _p("opening", "answer objections to")}

# Sections that take part in their project's acceptance (a cancelled one no longer does).
LIVE_BEFORE_PUBLICATION = ("draft", "submitted", "returned", "accepted", "accepted_with_gaps")


def advance(table: dict, subject, action: str, what: str) -> str:
    return lifecycle.advance(table, subject, action, what, STATE_LABELS, ACTION_LABELS)


def require(table: dict, subject, action: str, what: str) -> str:
    """Refuse now, before any other work, an action the lifecycle does not allow."""
    return lifecycle.require(table, subject, action, what, STATE_LABELS, ACTION_LABELS)


# A challenge (质疑) of a section's documents, opening or result, answered by the procuring unit within
# 7 working days; at most two extensions: the first (≤5 working days) by the unit, the second (≤10) only
# when a supervisor approves the unit's request. Overdue is not a state: a challenge is overdue while it
# is unanswered past its due date (tender.challenges). The challenger's satisfaction is recorded after
# the answer without a move.
CHALLENGE = {
    ("pending", "answer"): "answered",
    ("pending", "extend"): "extended",
    ("pending", "withdraw"): "withdrawn",
    ("extended", "answer"): "answered",
    ("extended", "request_extension"): "extension_requested",
    ("extended", "withdraw"): "withdrawn",
    ("extension_requested", "approve_extension"): "extended_twice",
    ("extension_requested", "refuse_extension"): "extension_refused",
    ("extension_requested", "answer"): "answered",
    ("extension_requested", "withdraw"): "withdrawn",
    ("extended_twice", "answer"): "answered",
    ("extended_twice", "withdraw"): "withdrawn",
    ("extension_refused", "answer"): "answered",
    ("extension_refused", "withdraw"): "withdrawn",
}
CHALLENGE_LABELS = {"pending": _p("challenge", "awaiting the answer"), "extended": _p("challenge", "extended once"),
                    "extension_requested": _p("challenge", "second extension requested"),
                    "extended_twice": _p("challenge", "extended twice"),
                    "extension_refused": _p("challenge", "second extension refused"),
                    "answered": _p("challenge", "answered"), "withdrawn": _p("challenge", "withdrawn")}
CHALLENGE_ACTIONS = {"answer": _p("challenge", "answer"), "extend": _p("challenge", "extend"),
                     "withdraw": _p("challenge", "withdraw"),
                     "request_extension": _p("challenge", "ask for a second extension of"),
                     "approve_extension": _p("challenge", "approve a second extension of"),
                     "refuse_extension": _p("challenge", "refuse a second extension of")}
CHALLENGE_OPEN = ("pending", "extended", "extension_requested", "extended_twice", "extension_refused")

# A complaint (投诉) to the supervisor about a challenge's answer, or its lack; decided within 30 working
# days. While "suspended" the section's procedure is suspended (award and evaluation refuse to proceed).
COMPLAINT = {
    ("filed", "suspend"): "suspended",
    ("filed", "uphold"): "upheld",
    ("filed", "dismiss"): "dismissed",
    ("filed", "withdraw"): "withdrawn",
    ("suspended", "resume"): "filed",
    ("suspended", "uphold"): "upheld",
    ("suspended", "dismiss"): "dismissed",
    ("suspended", "withdraw"): "withdrawn",
}
COMPLAINT_LABELS = {"filed": _p("complaint", "under review"),
                    "suspended": _p("complaint", "under review, procedure suspended"),
                    "upheld": _p("complaint", "upheld"), "dismissed": _p("complaint", "dismissed"),
                    "withdrawn": _p("complaint", "withdrawn")}
COMPLAINT_ACTIONS = {"suspend": _p("complaint", "suspend the procedure of"),
                     "resume": _p("complaint", "resume the procedure of"), "uphold": _p("complaint", "uphold"),
                     "dismiss": _p("complaint", "dismiss"), "withdraw": _p("complaint", "withdraw")}
COMPLAINT_OPEN = ("filed", "suspended")
