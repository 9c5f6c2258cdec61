"""Lifecycle of a red flag: {(state, action): next_state}. The only place a flag's status changes."""
from flask_babel import lazy_pgettext as _p

from core import lifecycle

RED_FLAG = {
    ("open", "confirm"): "confirmed",
    ("open", "dismiss"): "dismissed",
    ("open", "withdraw"): "withdrawn",  # the recomputation no longer finds it (e.g. results changed)
    ("withdrawn", "raise"): "open",  # ... and finds it again
}
SUPERVISOR_ACTIONS = ("confirm", "dismiss")  # withdraw and raise are the recomputation's

STATE_LABELS = {
    "open": _p("red flag", "open"),
    "confirmed": _p("red flag", "confirmed"),
    "dismissed": _p("red flag", "dismissed"),
    "withdrawn": _p("red flag", "withdrawn"),
}

ACTION_LABELS = {
    "confirm": _p("red flag", "confirm"),
    "dismiss": _p("red flag", "dismiss"),
    "withdraw": _p("red flag", "withdraw"),
    "raise": _p("red flag", "raise again"),
}


def advance(flag, action: str) -> str:
    return lifecycle.advance(RED_FLAG, flag, action, "red_flag", STATE_LABELS, ACTION_LABELS)
