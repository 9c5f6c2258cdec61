"""Lifecycle of a red flag: {(state, action): next_state}. The only place a flag's status changes."""
from flask_babel import lazy_pgettext as _p

from core import lifecycle

RED_FLAG = {
    ("open", "confirm"): "confirmed",
    ("open", "dismiss"): "dismissed",
}

STATE_LABELS = {
    "open": _p("red flag", "open"),
    "confirmed": _p("red flag", "confirmed"),
    "dismissed": _p("red flag", "dismissed"),
}

ACTION_LABELS = {
    "confirm": _p("red flag", "confirm"),
    "dismiss": _p("red flag", "dismiss"),
}


def advance(flag, action: str) -> str:
    return lifecycle.advance(RED_FLAG, flag, action, "red_flag", STATE_LABELS, ACTION_LABELS)
