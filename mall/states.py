"""Lifecycles of the mall: {(state, action): next_state}. The only place a status changes.

Orders: placed → confirmed (by the supplier within the confirmation period, else expired → cancelled) →
shipped → received → accepted (验收; some lines may be rejected; all rejected = returned) → settled
(invoice number, payment record) → rated by one party → rated by both (好差评). Cancellation before
shipping; a dispute after receipt, resolved by the centre, puts the order back to received.
"""
from flask_babel import gettext as _, lazy_gettext as _l

from core.errors import DomainError

STATE_LABELS = {
    # listings
    "submitted": _l("waiting for the centre's review"), "approved": _l("approved"), "refused": _l("refused"),
    "frozen": _l("frozen (price above the market reference)"), "suspended": _l("suspended"),
    "withdrawn": _l("withdrawn"),
    # orders
    "placed": _l("placed, waiting for the supplier"), "confirmed": _l("confirmed"), "shipped": _l("shipped"),
    "received": _l("received"), "accepted": _l("accepted"), "settled": _l("settled"),
    "half_rated": _l("rated by one party"), "rated": _l("rated by both parties"), "cancelled": _l("cancelled"),
    "returned": _l("returned"), "disputed": _l("in dispute"),
    # auctions
    "open": _l("open for quotes"), "awarded": _l("awarded"), "failed": _l("failed"),
}

ACTION_LABELS = {
    "approve": _l("approve"), "refuse": _l("refuse"), "resubmit": _l("resubmit"), "freeze": _l("freeze"),
    "suspend": _l("suspend"), "reinstate": _l("reinstate"), "withdraw": _l("withdraw"),
    "confirm": _l("confirm"), "decline": _l("decline"), "expire": _l("let expire"), "cancel": _l("cancel"),
    "ship": _l("ship"), "receive": _l("receive"), "accept": _l("accept"), "return": _l("return"),
    "dispute": _l("dispute"), "resolve": _l("resolve"), "settle": _l("settle"), "rate": _l("rate"),
    "award": _l("award"), "fail": _l("close without a winner"),
}

LISTING = {
    ("submitted", "approve"): "approved",
    ("submitted", "refuse"): "refused",
    ("refused", "resubmit"): "submitted",
    ("approved", "freeze"): "frozen",
    ("frozen", "resubmit"): "submitted",  # the supplier lowered the price: the centre looks again
    ("submitted", "suspend"): "suspended",
    ("approved", "suspend"): "suspended",
    ("frozen", "suspend"): "suspended",
    ("suspended", "reinstate"): "submitted",  # back to the centre's review, price checked afresh
    ("submitted", "withdraw"): "withdrawn",
    ("approved", "withdraw"): "withdrawn",
    ("frozen", "withdraw"): "withdrawn",
    ("refused", "withdraw"): "withdrawn",
}

ORDER = {
    ("placed", "confirm"): "confirmed",
    ("placed", "decline"): "cancelled",
    ("placed", "expire"): "cancelled",
    ("placed", "cancel"): "cancelled",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "ship"): "shipped",
    ("shipped", "receive"): "received",
    ("received", "accept"): "accepted",
    ("received", "return"): "returned",
    ("received", "dispute"): "disputed",
    ("disputed", "resolve"): "received",
    ("accepted", "settle"): "settled",
    ("settled", "rate"): "half_rated",
    ("half_rated", "rate"): "rated",
}

AUCTION = {
    ("open", "award"): "awarded",
    ("open", "fail"): "failed",
    ("open", "cancel"): "cancelled",
}

# Order states in which the order still holds part of its budget line.
ORDER_UNFINISHED = ("placed", "confirmed", "shipped", "received", "disputed", "accepted")


def require(table: dict, subject, action: str, what: str) -> None:
    """Refuse as ``advance`` would, without moving (for a service that must check before it works)."""
    if (subject.status, action) not in table:
        _refuse(subject, action, what)


def _refuse(subject, action: str, what: str):
    raise DomainError(f"{what}_transition_refused",
                      _("You cannot %(action)s it: it is %(status)s.",
                        action=ACTION_LABELS.get(action, action),
                        status=STATE_LABELS.get(subject.status, subject.status)), 409)


def advance(table: dict, subject, action: str, what: str) -> str:
    """Move ``subject.status`` along ``table`` or refuse with ``<what>_transition_refused`` (409)."""
    if (subject.status, action) not in table:
        _refuse(subject, action, what)
    subject.status = table[(subject.status, action)]
    return subject.status
