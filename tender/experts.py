"""The expert pool (评标专家库) and the random draw of a section's evaluation committee.

The centre keeps each evaluator's profile: the categories the expert may evaluate and the organisations
(by credit code) the expert works for or is linked to. A draw takes the active experts of the section's
category, leaves out (回避) those affiliated with the procuring unit or any bidder of the section, orders
the rest by user id and takes ``random.Random(seed).sample(candidates, size)`` with a fresh
``secrets.token_hex`` seed; the seed and the candidates are journaled, so anyone can replay the draw.
"""
import json
import random
import secrets
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts import credit_code as credit_codes
from accounts.models import User
from core import journal, settings
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender.models import CATEGORIES, BidResult, Committee, CommitteeMember, ExpertProfile, Section

settings.define(settings.Definition("tender.committee_size", int, 5,
                                    _l("Members of an evaluation committee (an odd number)"), _l("experts"), 3, 25))

MAX_AFFILIATIONS = 50


def _centre(actor: User) -> None:
    if actor.role != Role.CENTRE:
        raise DomainError("not_centre", _("Only the trading centre keeps the expert pool and draws committees."), 403)


def categories_of(profile: ExpertProfile) -> list[str]:
    return json.loads(profile.categories or "[]")


def affiliations_of(profile: ExpertProfile) -> list[str]:
    return json.loads(profile.affiliations or "[]")


def _affiliations(value) -> list[str]:
    """Credit codes from a list, or from text with one code per line or separated by commas."""
    if isinstance(value, str):
        value = value.replace(",", "\n").replace("，", "\n").split()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise DomainError("affiliations_invalid", _("Give the affiliations as credit codes (统一社会信用代码)."))
    codes = []
    for raw in value:
        code = raw.strip().upper()
        if not code:
            continue
        if credit_codes.problem(code) is not None:
            raise DomainError("affiliation_invalid", _("%(code)s is not a valid unified social credit code.",
                                                       code=code[:18]))
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_AFFILIATIONS:
        raise DomainError("affiliations_invalid", _("At most %(n)s affiliations.", n=MAX_AFFILIATIONS))
    return codes


def save_profile(actor: User, expert: User, *, categories, affiliations, active: bool, now: datetime) -> ExpertProfile:
    """Create or change an evaluator's profile in the pool."""
    _centre(actor)
    if expert.role != Role.EVALUATOR:
        raise DomainError("not_evaluator", _("Only evaluator accounts belong to the expert pool."), 422)
    if not isinstance(categories, list | tuple) or not categories or any(c not in CATEGORIES for c in categories):
        raise DomainError("categories_invalid", _("Choose at least one category the expert may evaluate."))
    chosen = [c for c in CATEGORIES if c in categories]
    codes = _affiliations(affiliations)
    profile = db.session.scalar(select(ExpertProfile).where(ExpertProfile.user_id == expert.id))
    before = None
    if profile is None:
        profile = ExpertProfile(user_id=expert.id)
        db.session.add(profile)
    else:
        before = {"categories": categories_of(profile), "affiliations": affiliations_of(profile),
                  "active": profile.active}
    profile.categories, profile.affiliations = json.dumps(chosen), json.dumps(codes)
    profile.active, profile.updated_at, profile.updated_by_id = bool(active), now, actor.id
    db.session.flush()
    journal.record("tender.expert.saved", "user", expert.id,
                   {"before": before, "categories": chosen, "affiliations": codes, "active": bool(active)},
                   actor=actor, now=now)
    return profile


def pool() -> list[tuple[User, ExpertProfile | None]]:
    """Every evaluator account with its profile (None: not in the pool yet), by name."""
    rows = db.session.execute(select(User, ExpertProfile).outerjoin(ExpertProfile, ExpertProfile.user_id == User.id)
                              .where(User.role == Role.EVALUATOR).order_by(User.id)).all()
    return [(user, profile) for user, profile in rows]


def parties(section: Section) -> set[str]:
    """Credit codes an expert of this section's committee may not be linked to: the procuring unit and
    every bidder of the section's latest opening (or, before one, every registered bidder)."""
    from tender.models import Registration
    codes = {section.project.procuring_credit_code}
    opening = section.openings[-1] if section.openings else None
    if opening is not None:
        codes |= {r.organisation.credit_code for r in opening.results}
    codes |= {r.organisation.credit_code for r in db.session.scalars(
        select(Registration).where(Registration.section_id == section.id))}
    return codes


def eligible(section: Section) -> tuple[list[int], list[dict]]:
    """(user ids of the eligible experts, ascending; the experts left out and why)."""
    conflicts = parties(section)
    chosen, excluded = [], []
    rows = db.session.execute(select(User, ExpertProfile).join(ExpertProfile, ExpertProfile.user_id == User.id)
                              .where(User.role == Role.EVALUATOR, User.status == "active",
                                     ExpertProfile.active.is_(True)).order_by(User.id)).all()
    for user, profile in rows:
        if section.category not in categories_of(profile):
            continue
        clash = sorted(conflicts & set(affiliations_of(profile)))
        if clash:
            excluded.append({"user": user.id, "affiliation": clash[0]})
        else:
            chosen.append(user.id)
    return chosen, excluded


def replay(seed: str, candidates: list[int], size: int) -> list[int]:
    """The members a draw with ``seed`` makes from ``candidates`` (user ids, ascending), chair first."""
    return random.Random(seed).sample(candidates, size)


def draw(actor: User, section: Section, now: datetime) -> Committee:
    """Draw the section's evaluation committee at random from the pool (once per section)."""
    from tender import evaluation  # the section must be ready for evaluation
    _centre(actor)
    evaluation.require_ready(section, now)
    if section.committee is not None:
        raise DomainError("committee_drawn", _("The committee of this section has been drawn already."), 409)
    size = settings.value("tender.committee_size", section.published_at or now)
    if size % 2 == 0:
        raise DomainError("committee_size_even", _("An evaluation committee has an odd number of members; the "
                                                   "setting says %(n)s.", n=size), 409)
    candidates, excluded = eligible(section)
    if len(candidates) < size:
        raise DomainError("pool_too_small",
                          _("The expert pool has %(have)s eligible experts for %(category)s after leaving out "
                            "those linked to the procuring unit or a bidder; the committee needs %(need)s.",
                            have=len(candidates), category=CATEGORIES[section.category], need=size), 409)
    seed = secrets.token_hex(16)
    members = replay(seed, candidates, size)
    committee = Committee(section=section, size=size, seed=seed, candidates=json.dumps(candidates),
                          excluded=json.dumps(excluded), drawn_at=now, drawn_by_id=actor.id)
    db.session.add(committee)
    for position, user_id in enumerate(members):
        db.session.add(CommitteeMember(committee=committee, user_id=user_id, position=position))
    db.session.flush()
    journal.record("tender.committee.drawn", "section", section.id,
                   {"committee": committee.id, "size": size, "seed": seed, "candidates": candidates,
                    "excluded": excluded, "members": members, "method": "random.Random(seed).sample"},
                   actor=actor, now=now)
    return committee


def member_of(section: Section, user) -> CommitteeMember | None:
    committee = section.committee
    if committee is None or user is None or not getattr(user, "is_authenticated", True):
        return None
    return next((m for m in committee.members if m.user_id == user.id), None)


def valid_results(section: Section) -> list[BidResult]:
    """The valid bids of the section's latest opening, in the opening's order."""
    opening = section.openings[-1] if section.openings else None
    return [r for r in opening.results if r.valid and r.price is not None] if opening else []
