"""Settings of the trade: defaults in code, changes in a table, effective-dated.

A change never rewrites the past: it takes effect from a moment, and ``value(key, at)`` answers what was
in force at that moment, so a section or order keeps the rules in force when it was published or placed.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, journal
from core.db import UTCDateTime
from core.errors import DomainError
from core.extensions import db


@dataclass(frozen=True)
class Definition:
    key: str
    kind: type  # int or Decimal
    default: object
    label: object
    unit: object = ""
    minimum: object = 0
    maximum: object = None


DEFINITIONS = {d.key: d for d in [
    Definition("tender.addendum_min_days", int, 15, _l("Days that must remain after an addendum"), _l("days"), 0, 60),
    Definition("opening.key_release_minutes", int, 30, _l("Window for keyholders to release key shares"), _l("minutes"), 5, 240),
    Definition("opening.objection_minutes", int, 30, _l("Window for bidders to confirm or object to the opening record"), _l("minutes"), 5, 240),
    Definition("opening.min_valid_bids", int, 3, _l("Valid bids below which the host is warned"), _l("bids"), 1, 10),
    Definition("award.publicity_days", int, 3, _l("Calendar days candidates are published (公示)"), _l("days"), 1, 30),
    Definition("mall.direct_purchase_limit", Decimal, Decimal("300000.00"), _l("Direct-purchase limit per unit, category and year"), _l("yuan"), Decimal("0.01"), None),
    Definition("mall.price_tolerance_percent", Decimal, Decimal("0"), _l("Tolerance of agreement price above the lowest market reference"), "%", Decimal("0"), Decimal("100")),
    Definition("mall.confirm_hours", int, 24, _l("Hours a supplier has to confirm an order"), _l("hours"), 1, 168),
    Definition("mall.reference_valid_days", int, 30, _l("Days a market reference price counts as current"), _l("days"), 1, 365),
    Definition("mall.misconduct_threshold", int, 12, _l("Misconduct points at which a supplier's listings are suspended"), _l("points"), 1, 1000),
    Definition("flags.narrow_band_percent", Decimal, Decimal("1"), _l("Narrow band: every valid price within this percent of the mean"), "%", Decimal("0"), Decimal("100")),
    Definition("flags.short_time_minutes", int, 10, _l("Short time for consecutive guarantees or submissions"), _l("minutes"), 1, 1440),
    Definition("flags.near_control_percent", Decimal, Decimal("0.5"), _l("Winning price within this percent of the control price"), "%", Decimal("0"), Decimal("100")),
    Definition("accounts.lock_after_failures", int, 10, _l("Failed sign-ins after which an account is locked"), _l("attempts"), 3, 100),
    Definition("accounts.slow_after_failures", int, 5, _l("Failed sign-ins after which each further attempt must wait"), _l("attempts"), 1, 100),
]}


def define(definition: Definition) -> None:
    """A blueprint's own setting of the trade (e.g. tender's minimum periods per category and method)."""
    DEFINITIONS[definition.key] = definition


class Setting(db.Model):
    """One change of one setting, in force from ``effective_from`` until the next change."""

    __tablename__ = "setting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    value: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")


def _convert(definition: Definition, raw) -> object:
    try:
        value = definition.kind(str(raw).strip())
    except (ValueError, InvalidOperation):
        raise DomainError("setting_invalid", _("'%(raw)s' is not a valid value for %(key)s.", raw=raw, key=definition.key)) from None
    if definition.minimum is not None and value < definition.minimum:
        raise DomainError("setting_out_of_range", _("%(key)s must be at least %(minimum)s.", key=definition.key, minimum=definition.minimum))
    if definition.maximum is not None and value > definition.maximum:
        raise DomainError("setting_out_of_range", _("%(key)s must be at most %(maximum)s.", key=definition.key, maximum=definition.maximum))
    return value


def value(key: str, at: datetime | None = None):
    """The value in force at ``at`` (now by default)."""
    definition = DEFINITIONS[key]
    at = at or clock.now()
    row = db.session.scalars(
        select(Setting).where(Setting.key == key, Setting.effective_from <= at)
        .order_by(Setting.effective_from.desc(), Setting.id.desc()).limit(1)).first()
    return definition.default if row is None else _convert(definition, row.value)


def values(keys, at: datetime | None = None) -> dict:
    """The values of several settings in force at ``at``, read in one query (for hot paths)."""
    at = at or clock.now()
    found = {}
    for row in db.session.execute(
            select(Setting.key, Setting.value).where(Setting.key.in_(keys), Setting.effective_from <= at)
            .order_by(Setting.effective_from.desc(), Setting.id.desc())):
        found.setdefault(row.key, row.value)
    return {key: _convert(DEFINITIONS[key], found[key]) if key in found else DEFINITIONS[key].default
            for key in keys}


def history(key: str) -> list[Setting]:
    return list(db.session.scalars(
        select(Setting).where(Setting.key == key).order_by(Setting.effective_from.desc(), Setting.id.desc())))


def change(actor, key: str, raw_value, effective_from: datetime | None, reason: str, now: datetime) -> Setting:
    """Schedule a new value. The past is never rewritten: a change cannot take effect before now."""
    if key not in DEFINITIONS:
        raise DomainError("setting_unknown", _("There is no setting called %(key)s.", key=key), 404)
    definition = DEFINITIONS[key]
    parsed = _convert(definition, raw_value)
    effective_from = effective_from or now
    if effective_from < now.replace(microsecond=0):
        raise DomainError("setting_backdated", _("A change cannot take effect in the past."))
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the setting changes."))
    row = Setting(key=key, value=str(parsed), effective_from=effective_from, changed_at=now,
                  changed_by_id=actor.id, reason=reason.strip())
    db.session.add(row)
    db.session.flush()
    journal.record("settings.changed", "setting", key, {"value": row.value, "effective_from": effective_from,
                                                        "reason": row.reason}, actor=actor, now=now)
    return row
