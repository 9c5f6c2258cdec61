"""The one place for access rules: which roles may do what, and the decorators routes state them with.

A route says what it needs (``@roles_required(Role.ADMIN)``); object checks live on the models
(``organisation.can_view(user)``) and are called through ``check_object``.
"""
from enum import StrEnum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user


class Role(StrEnum):
    ADMIN = "admin"
    CENTRE = "centre"
    PROCURING = "procuring"
    BIDDER = "bidder"
    GUARANTOR = "guarantor"
    SUPPLIER = "supplier"
    EVALUATOR = "evaluator"
    SUPERVISOR = "supervisor"


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.CENTRE: _l("Centre staff"),
    Role.PROCURING: _l("Procuring unit"),
    Role.BIDDER: _l("Bidder"),
    Role.GUARANTOR: _l("Guarantor"),
    Role.SUPPLIER: _l("Supplier"),
    Role.EVALUATOR: _l("Evaluator"),
    Role.SUPERVISOR: _l("Supervisor"),
}

# Roles whose accounts must use a second factor (TOTP) to sign in.
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.CENTRE, Role.SUPERVISOR})

# Who may use each part of the platform (the home page of each blueprint and what hangs off it).
AREA_ROLES = {
    "tender": frozenset({Role.CENTRE, Role.PROCURING, Role.BIDDER, Role.GUARANTOR, Role.EVALUATOR,
                         Role.SUPERVISOR}),
    "mall": frozenset({Role.CENTRE, Role.PROCURING, Role.SUPPLIER, Role.SUPERVISOR}),
    "supervision": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "statistics": frozenset({Role.SUPERVISOR, Role.CENTRE, Role.ADMIN}),  # savings statistics (supervision/)
    "admin": frozenset({Role.ADMIN}),
    "approvals": frozenset({Role.CENTRE, Role.ADMIN}),
}

# Each role's landing page after sign-in.
ROLE_HOME = {
    Role.ADMIN: "accounts.admin_home",
    Role.CENTRE: "tender.home",
    Role.PROCURING: "tender.home",
    Role.BIDDER: "tender.home",
    Role.GUARANTOR: "tender.home",
    Role.EVALUATOR: "tender.home",
    Role.SUPPLIER: "mall.home",
    Role.SUPERVISOR: "supervision.home",
}


def has_role(user, *roles) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.role in roles)


def may_enter(user, area: str) -> bool:
    return has_role(user, *AREA_ROLES[area])


def roles_required(*roles):
    """Signed-in users of these roles only: others get 403, strangers the sign-in page."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from core.extensions import login_manager
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        wrapped.required_roles = frozenset(roles)
        return wrapped
    return decorator


def area_required(area: str):
    return roles_required(*AREA_ROLES[area])


def check_object(obj, user=None, action: str = "view"):
    """Object check: the model says who may do ``action`` with it; a stranger's object is a 404 so
    that ids of other organisations' records reveal nothing."""
    user = user or current_user
    allowed = getattr(obj, f"can_{action}")(user)
    if not allowed:
        abort(404)
    return obj
