"""Each section's opening key, made at publication and never stored whole: its private half is split
k-of-n among three keyholders (centre, procuring unit, supervisor) and each share sealed to one
keyholder's personal key (core.crypto.custody); only the public half and the sealed shares are kept."""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts import keys, regions
from accounts.models import User
from core import journal, settings
from core.crypto import custody
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender.models import KeyShare, Section, SectionKey


def _with_key(users) -> tuple[User, object] | None:
    for user in users:
        if user is not None and user.status == "active":
            key = keys.current(user)
            if key is not None:
                return user, key
    return None


def keyholders(section: Section, actor: User) -> list[tuple[str, User, object]]:
    """(role, user, personal key) for the centre (the publisher), the procuring unit (the project's
    registrant, else a colleague) and a supervisor; refuses, naming who must set a PIN, when one lacks it."""
    unit = section.project.procuring_unit_id
    unit_users = db.session.scalars(select(User).where(User.organisation_id == unit, User.role == Role.PROCURING)
                                    .order_by(User.id)).all()
    registrant = next((u for u in unit_users if u.id == section.project.created_by_id), None)
    # The supervisor's share goes to a supervisor whose region takes in the section's (a city's supervisors
    # watch its districts' sections too).
    supervisors = [u for u in db.session.scalars(select(User).where(User.role == Role.SUPERVISOR).order_by(User.id))
                   if u.organisation is not None and regions.contains(u.organisation.region_code, section.region_code)]
    found = {"centre": _with_key([actor]), "procuring": _with_key([registrant, *unit_users]),
             "supervisor": _with_key(supervisors)}
    missing = {"centre": _("you (set your opening-key PIN on My account)"),
               "procuring": _("the procuring unit"),
               "supervisor": _("a supervisor of region %(region)s", region=section.region_code)}
    lacking = [str(missing[role]) for role, held in found.items() if held is None]
    if lacking:
        raise DomainError("keyholder_missing", _("Publication makes the section's opening key, split among three "
                                                 "keyholders, and these have no opening-key PIN yet: %(who)s.",
                                                 who="; ".join(lacking)), 409)
    return [(role, user, key) for role, (user, key) in found.items()]


def make(section: Section, actor: User, now: datetime) -> SectionKey:
    holders = keyholders(section, actor)
    threshold = settings.value("tender.key_threshold", now)
    opening = custody.make_opening_key(section.id, [(keys.holder_name(user), key.public) for _r, user, key in holders],
                                       suite=section.project.sealing_suite, threshold=threshold)
    section_key = SectionKey(section=section, suite=opening.suite, public_key=opening.public,
                             key_label=opening.key_label, threshold=threshold, created_at=now)
    db.session.add(section_key)
    for (role, user, key), share in zip(holders, opening.shares, strict=True):
        db.session.add(KeyShare(section_key=section_key, user_id=user.id, personal_key_id=key.id, holder=share.holder,
                                role=role, public=share.public, box=share.box))
    db.session.flush()
    journal.record("tender.section.opening_key_made", "section", section.id,
                   {"suite": opening.suite, "key_label": opening.key_label, "threshold": threshold,
                    "keyholders": [{"role": role, "user": user.id} for role, user, _k in holders]},
                   actor=actor, now=now)
    return section_key
