"""Organisations register themselves; the centre approves or rejects them; admins deactivate them."""
from flask_babel import gettext as _, lazy_gettext as _l
from datetime import datetime

from sqlalchemy import select

from accounts import credit_code, states
from accounts.auth import check_password_rules, hash_password
from accounts.models import KIND_ROLES, OrgKind, Organisation, Region, User
from core import journal, notifications
from core.errors import DomainError
from core.extensions import db


def validate_credit_code(code: str) -> str:
    code = credit_code.normalise(code)
    problem = credit_code.problem(code)
    messages = {
        "credit_code_length": _("A unified social credit code has exactly 18 characters."),
        "credit_code_characters": _("A unified social credit code uses digits and capital letters except I, O, Z, S and V."),
        "credit_code_check": _("The last character of this unified social credit code does not match: check it for a typing error."),
    }
    if problem:
        raise DomainError(problem, messages[problem])
    return code


def _check_unique(username: str, email: str) -> None:
    if db.session.scalars(select(User.id).where(User.username == username)).first():
        raise DomainError("username_taken", _("That username is taken. Choose another."), 409)
    if db.session.scalars(select(User.id).where(User.email == email)).first():
        raise DomainError("email_taken", _("An account with that e-mail address exists already."), 409)


def add_user(actor: User | None, organisation: Organisation, *, username: str, name: str, email: str, role: str,
             password: str, now: datetime) -> User:
    username, email = username.strip(), email.strip().lower()
    if role not in KIND_ROLES[organisation.kind]:
        raise DomainError("role_not_allowed", _("An organisation of this kind cannot have users with the role %(role)s.", role=role))
    check_password_rules(password)
    _check_unique(username, email)
    user = User(organisation=organisation, username=username, name=name.strip(), email=email, role=role,
                status="active", password_hash=hash_password(password), created_at=now, failed_logins=0,
                locked=False)
    db.session.add(user)
    db.session.flush()
    journal.record("user.created", "user", user.id, {"username": username, "role": role, "email": email},
                   actor=actor, now=now, organisation_id=organisation.id)
    return user


def register(*, name: str, code: str, kind: str, region_code: str, contact_phone: str, username: str,
             person_name: str, email: str, password: str, now: datetime, language: str | None = None) -> Organisation:
    """Self-registration: the organisation waits for the centre's approval; its first user gets the
    role that goes with its kind and is told the decision in ``language``, the one it registered in."""
    code = validate_credit_code(code)
    if kind not in OrgKind.SELF_REGISTERED:
        raise DomainError("kind_not_allowed", _("This kind of organisation cannot register itself."))
    if db.session.get(Region, region_code) is None:
        raise DomainError("region_unknown", _("Choose the administrative division from the list."))
    if db.session.scalars(select(Organisation.id).where(Organisation.credit_code == code)).first():
        raise DomainError("credit_code_registered", _("An organisation with this credit code is registered already."), 409)
    organisation = Organisation(name=name.strip(), credit_code=code, kind=kind, region_code=region_code,
                                contact_phone=contact_phone.strip(), status="pending", registered_at=now,
                                decision_reason="")
    db.session.add(organisation)
    db.session.flush()
    journal.record("organisation.registered", "organisation", organisation.id,
                   {"name": organisation.name, "credit_code": code, "kind": kind, "region_code": region_code},
                   now=now, organisation_id=organisation.id)
    user = add_user(None, organisation, username=username, name=person_name, email=email, role=KIND_ROLES[kind][0],
                    password=password, now=now)
    user.language = language
    return organisation


def decide(actor: User, organisation: Organisation, action: str, reason: str, now: datetime) -> Organisation:
    """approve / reject (the centre), deactivate / reactivate (admins)."""
    if action in ("reject", "deactivate") and not reason.strip():
        raise DomainError("reason_required", _("Give the reason; the organisation is told it."))
    states.advance(states.ORGANISATION, organisation, action, "organisation")
    organisation.decided_at, organisation.decided_by_id = now, actor.id
    organisation.decision_reason = reason.strip()
    journal.record(f"organisation.{action}", "organisation", organisation.id,
                   {"status": organisation.status, "reason": organisation.decision_reason}, actor=actor, now=now)
    db.session.flush()
    _tell_members(organisation, now)
    return organisation


def _tell_members(organisation: Organisation, now: datetime) -> None:
    """The organisation's people learn the decision in the platform and by mail (the reason included)."""
    name = organisation.name
    title = {"approved": _l("%(name)s is approved: you can sign in and work on the platform.", name=name),
             "rejected": _l("The registration of %(name)s was rejected.", name=name),
             "deactivated": _l("%(name)s has been deactivated on the platform.", name=name)
             }.get(organisation.status) or _l("%(name)s can work on the platform again.", name=name)
    reason = organisation.decision_reason
    body = _l("Reason: %(reason)s", reason=reason) if reason else ""
    notifications.notify([user.id for user in organisation.users], "organisation_decision", title, body, "/", now)


def set_user_status(actor: User, user: User, action: str, now: datetime) -> User:
    if user.id == actor.id:
        raise DomainError("cannot_change_self", _("You cannot deactivate your own account."), 409)
    states.advance(states.USER, user, action, "user")
    journal.record(f"user.{action}", "user", user.id, {"status": user.status}, actor=actor, now=now)
    db.session.flush()
    return user


def unlock(actor: User, user: User, now: datetime) -> User:
    user.locked, user.locked_until, user.failed_logins = False, None, 0
    journal.record("user.unlock", "user", user.id, actor=actor, now=now)
    db.session.flush()
    return user


def member_ids(organisation_ids, role: str | None = None) -> list[int]:
    """Active users of these organisations (of one role, if given): whom to notify on their behalf."""
    ids = [i for i in ([organisation_ids] if isinstance(organisation_ids, int) else organisation_ids) if i is not None]
    if not ids:
        return []
    query = select(User.id).where(User.organisation_id.in_(ids), User.status == "active")
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query.order_by(User.id)))
