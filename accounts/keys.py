"""Keyholders' personal keys: the key each share of an opening key is sealed to, kept only boxed under the
keyholder's PIN and the pepper (core.crypto.custody). Set, changed, or reset (a new key, for sections
published from then on)."""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import PersonalKey, User
from core import journal
from core.crypto import custody
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role

# Who holds a share of each section's opening key (DOMAIN.md: centre, procuring unit, supervisor).
KEYHOLDER_ROLES = (Role.CENTRE, Role.PROCURING, Role.SUPERVISOR)


def holder_name(user: User) -> str:
    """The name a share is bound to."""
    return f"user:{user.id}"


def current(user: User) -> PersonalKey | None:
    return db.session.scalar(select(PersonalKey).where(PersonalKey.user_id == user.id,
                                                       PersonalKey.retired_at.is_(None)))


def _check_keyholder(actor: User) -> None:
    if actor.role not in KEYHOLDER_ROLES:
        raise DomainError("not_keyholder", _("Only centre staff, procuring units and supervisors hold opening keys."), 403)


def _confirm(pin: str, repeated: str) -> None:
    if pin != repeated:
        raise DomainError("pin_mismatch", _("The two PINs differ: type the same PIN twice."))


def _record(action: str, actor: User, key: PersonalKey, now: datetime) -> None:
    journal.record(action, "user", actor.id, {"personal_key": key.id, "public": key.public.hex()},
                   actor=actor, now=now)


def set_pin(actor: User, pin: str, repeated: str, now: datetime) -> PersonalKey:
    _check_keyholder(actor)
    _confirm(pin, repeated)
    if current(actor) is not None:
        raise DomainError("pin_set_already", _("You have a PIN already: change it, or reset it if you lost it."), 409)
    made = custody.make_personal_key(holder_name(actor), pin)
    key = PersonalKey(user_id=actor.id, public=made.public, box=made.box, created_at=now)
    db.session.add(key)
    db.session.flush()
    _record("user.personal_key_created", actor, key, now)
    return key


def change_pin(actor: User, old_pin: str, pin: str, repeated: str, now: datetime) -> PersonalKey:
    _check_keyholder(actor)
    _confirm(pin, repeated)
    key = current(actor)
    if key is None:
        raise DomainError("pin_not_set", _("Set your PIN first."), 409)
    changed = custody.change_pin(custody.PersonalKey(key.public, key.box), holder_name(actor), old_pin, pin)
    key.box = changed.box
    _record("user.pin_changed", actor, key, now)
    return key


def reset_pin(actor: User, pin: str, repeated: str, now: datetime) -> PersonalKey:
    """A lost PIN: a new personal key. Shares sealed to the old one can no longer be opened by this
    keyholder; the other keyholders still make the threshold."""
    _check_keyholder(actor)
    _confirm(pin, repeated)
    old = current(actor)
    if old is None:
        raise DomainError("pin_not_set", _("Set your PIN first."), 409)
    made = custody.make_personal_key(holder_name(actor), pin)
    old.retired_at = now
    key = PersonalKey(user_id=actor.id, public=made.public, box=made.box, created_at=now)
    db.session.add(key)
    db.session.flush()
    _record("user.pin_reset", actor, key, now)
    return key
