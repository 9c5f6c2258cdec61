"""Red flags (DOMAIN.md, "Supervision"): indicators of collusion, of a bent process, of concentration and of
splitting, each computed from what tender and the mall stored, each with its evidence as JSON.

Section indicators read the section's latest sealed opening (its bids, sign-ins, results and guarantees) and,
once it is awarded, its award; thresholds are the settings in force when the opening record was sealed.
Unit indicators (concentration per procuring unit and year, splitting per unit and category) read the awards
and the mall's direct orders. ``compute_section`` / ``compute_units`` write one RedFlag per (kind, subject):
a new flag is journaled; recomputing an open flag updates its evidence; a decided flag is left as decided.
"""
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Float, String, cast, func, literal, select, true
from sqlalchemy.orm import selectinload

from accounts.models import Organisation
from core import clock, journal, lifecycle, settings
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from core.settings import Definition
from mall.models import Order, OrderLine
from supervision import states
from supervision.models import RedFlag, RedFlagCheck
from tender.models import Award, Bid, BidResult, Guarantee, Opening, Project, Section

HUNDRED = Decimal("100")

# Thresholds not defined by core.settings (narrow band, short time and near control are defined there).
for _definition in [
    Definition("flags.narrow_band_min_bids", int, 3, _l("Narrow band: the fewest valid bids it is looked for in"),
               _l("bids"), 2, 100),
    Definition("flags.progression_tolerance_percent", Decimal, Decimal("1"),
               _l("Prices in progression: the steps may differ by this percent of the mean step"), "%",
               Decimal("0"), Decimal("100")),
    Definition("flags.progression_min_bids", int, 3, _l("Prices in progression: the fewest valid bids"), _l("bids"),
               3, 100),
    Definition("flags.gap_min_history", int, 20,
               _l("Unusual gap between the two lowest bids: the fewest sealed openings of history to compare with"),
               _l("sections"), 4, 100000),
    Definition("flags.concentration_share_percent", Decimal, Decimal("50"),
               _l("Concentration: one supplier winning more than this share of a unit's sections in a year"), "%",
               Decimal("0"), Decimal("100")),
    Definition("flags.concentration_min_sections", int, 5,
               _l("Concentration: the fewest awarded sections of a unit in a year"), _l("sections"), 2, 10000),
    Definition("flags.splitting_window_days", int, 30,
               _l("Splitting: direct purchases within this many days count together"), _l("days"), 1, 366),
    Definition("flags.splitting_margin_percent", Decimal, Decimal("10"),
               _l("Splitting: an order within this percent under the direct-purchase limit is just under it"), "%",
               Decimal("0"), Decimal("100")),
    Definition("flags.splitting_min_orders", int, 2,
               _l("Splitting: the fewest orders just under the limit within the window"), _l("orders"), 2, 100),
]:
    settings.define(_definition)

KINDS = {
    "same_ip": _l("Several bidders from one IP address"),
    "same_documents": _l("Identical documents across bidders"),
    "consecutive_guarantees": _l("Consecutive guarantees for different bidders"),
    "identical_prices": _l("Identical prices"),
    "price_progression": _l("Prices in arithmetic or geometric progression"),
    "narrow_band": _l("All prices within a narrow band"),
    "short_period": _l("Submission period shorter than the statutory one"),
    "single_bid": _l("A single valid bid"),
    "lowest_gap": _l("Unusual gap between the two lowest bids"),
    "others_disqualified": _l("Every bid but the winner's disqualified"),
    "lowest_disqualified": _l("The lowest bid disqualified under lowest-price evaluation"),
    "near_control": _l("Winning price next to the control price"),
    "concentration": _l("One supplier winning most of a unit's sections"),
    "splitting": _l("Direct purchases split just under the limit"),
}
UNIT_KINDS = ("concentration", "splitting")


# Evidence.

def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))


def bidder(organisation: Organisation | None, code: str = "") -> dict:
    if organisation is None:
        return {"name": "", "credit_code": code}
    return {"name": organisation.name, "credit_code": organisation.credit_code}


def _percent(value: Decimal) -> Decimal:
    return (value * HUNDRED).quantize(Decimal("0.0001"))


# What a section's indicators read.

@dataclass
class Fences:
    """The interquartile fences of the relative gap between the two lowest valid bids over the history."""
    count: int
    q1: Decimal | None = None
    q3: Decimal | None = None

    @property
    def iqr(self) -> Decimal:
        return self.q3 - self.q1

    @property
    def lower(self) -> Decimal:
        return self.q1 - Decimal("1.5") * self.iqr

    @property
    def upper(self) -> Decimal:
        return self.q3 + Decimal("1.5") * self.iqr


@dataclass
class Facts:
    section: Section
    opening: Opening
    results: list[BidResult]
    award: Award | None
    fences: Fences | None = None
    cache: dict = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        """Thresholds are those in force when the opening record was sealed."""
        return self.opening.sealed_at

    def setting(self, key: str):
        return settings.value(key, self.at)

    @property
    def valid(self) -> list[BidResult]:
        """Valid bids with a price, cheapest first (ties in order of receipt)."""
        return sorted((r for r in self.results if r.valid and r.price is not None), key=lambda r: (r.price, r.id))


def _priced(results: list[BidResult]) -> list[dict]:
    return [{"bidder": bidder(r.organisation), "price": r.price} for r in results]


# Collusion.

def same_ip(facts: Facts) -> dict | None:
    """Several bidders' current bids submitted, or their sign-ins at the opening made, from one IP address."""
    seen = defaultdict(dict)  # (source, ip) -> {organisation id: (organisation, at)}
    bids = db.session.scalars(select(Bid).options(selectinload(Bid.organisation))
                              .where(Bid.section_id == facts.section.id, Bid.status == "submitted"))
    for bid in bids:
        if bid.ip_address:
            seen[("submission", bid.ip_address)].setdefault(bid.organisation_id, (bid.organisation, bid.received_at))
    for sign_in in facts.opening.sign_ins:
        if sign_in.ip_address:
            seen[("sign_in", sign_in.ip_address)].setdefault(sign_in.organisation_id,
                                                             (sign_in.organisation, sign_in.at))
    groups = [{"source": source, "ip": ip,
               "bidders": [bidder(org) | {"at": at} for org, at in sorted(orgs.values(), key=lambda v: v[1])]}
              for (source, ip), orgs in sorted(seen.items()) if len(orgs) > 1]
    return {"groups": groups} if groups else None


def same_documents(facts: Facts) -> dict | None:
    """One document (by SHA-256) in the opened bids of several bidders."""
    holders = defaultdict(dict)  # sha256 -> {organisation id: (organisation, name)}
    for result in facts.results:
        try:
            documents = json.loads(result.documents or "[]")
        except ValueError:
            continue
        for document in documents if isinstance(documents, list) else []:
            digest = document.get("sha256") if isinstance(document, dict) else None
            if digest:
                holders[digest].setdefault(result.organisation_id, (result.organisation, document.get("name", "")))
    shared = [{"sha256": digest, "bidders": [bidder(org) | {"document": name} for org, name in orgs.values()]}
              for digest, orgs in sorted(holders.items()) if len(orgs) > 1]
    return {"documents": shared} if shared else None


TRAILING_DIGITS = re.compile(r"(\d+)$")


def consecutive_guarantees(facts: Facts) -> dict | None:
    """Guarantees of the section from one guarantor for different bidders whose numbers follow each other
    (by their trailing digits) and that were issued within the short time of each other."""
    minutes = facts.setting("flags.short_time_minutes")
    by_guarantor = defaultdict(list)
    for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.section_id == facts.section.id)):
        match = TRAILING_DIGITS.search(guarantee.number)
        if match:
            by_guarantor[guarantee.guarantor_code].append((int(match.group(1)), guarantee))
    codes = {g.applicant_code for rows in by_guarantor.values() for _n, g in rows}
    names = {o.credit_code: o for o in db.session.scalars(select(Organisation)
                                                           .where(Organisation.credit_code.in_(codes)))}
    pairs = []
    for guarantor_code, rows in sorted(by_guarantor.items()):
        rows.sort(key=lambda row: (row[0], row[1].issued_at))
        for (n1, g1), (n2, g2) in pairwise(rows):
            apart = abs(g2.issued_at - g1.issued_at)
            if n2 - n1 == 1 and g1.applicant_code != g2.applicant_code and apart <= timedelta(minutes=minutes):
                pairs.append({"guarantor_code": guarantor_code,
                              "minutes_apart": Decimal(apart.total_seconds() / 60).quantize(Decimal("0.1")),
                              "guarantees": [{"number": g.number, "issued_at": g.issued_at,
                                              "bidder": bidder(names.get(g.applicant_code), g.applicant_code)}
                                             for g in (g1, g2)]})
    return {"pairs": pairs, "short_time_minutes": minutes} if pairs else None


def identical_prices(facts: Facts) -> dict | None:
    """Two or more valid bids at the same price."""
    by_price = defaultdict(list)
    for result in facts.valid:
        by_price[result.price].append(bidder(result.organisation))
    same = [{"price": price, "bidders": bidders} for price, bidders in sorted(by_price.items()) if len(bidders) > 1]
    return {"prices": same} if same else None


def _spread(steps: list[Decimal], scale: Decimal) -> Decimal | None:
    """How far apart the steps are, as a fraction of ``scale`` (None when the scale is not positive)."""
    return (max(steps) - min(steps)) / scale if scale > 0 else None


def price_progression(facts: Facts) -> dict | None:
    """The valid prices, sorted, in arithmetic progression (differences equal within the tolerance, as a share
    of the mean difference) or geometric (ratios equal within the tolerance, as a share of the mean growth)."""
    valid = facts.valid
    prices = [r.price for r in valid]
    if len(prices) < facts.setting("flags.progression_min_bids") or len(set(prices)) < len(prices):
        return None  # identical prices are a flag of their own
    tolerance = facts.setting("flags.progression_tolerance_percent") / HUNDRED
    differences = [b - a for a, b in pairwise(prices)]
    ratios = [b / a for a, b in pairwise(prices)] if prices[0] > 0 else []
    d_spread = _spread(differences, sum(differences) / len(differences))
    r_spread = _spread(ratios, sum(ratios) / len(ratios) - 1) if ratios else None
    arithmetic = d_spread is not None and d_spread <= tolerance
    geometric = r_spread is not None and r_spread <= tolerance
    if not (arithmetic or geometric):
        return None
    return {"bids": _priced(valid), "differences": differences,
            "ratios": [r.quantize(Decimal("0.000001")) for r in ratios],
            "arithmetic": arithmetic, "geometric": geometric,
            "difference_spread_percent": _percent(d_spread) if d_spread is not None else None,
            "ratio_spread_percent": _percent(r_spread) if r_spread is not None else None,
            "tolerance_percent": tolerance * HUNDRED}


def narrow_band(facts: Facts) -> dict | None:
    """Every valid price within the band (a percent) of their mean, with enough valid bids."""
    valid = facts.valid
    if len(valid) < facts.setting("flags.narrow_band_min_bids"):
        return None
    mean = sum(r.price for r in valid) / len(valid)
    if mean <= 0:
        return None
    deviation = max(abs(r.price - mean) for r in valid) / mean
    band = facts.setting("flags.narrow_band_percent")
    if _percent(deviation) > band:
        return None
    return {"bids": _priced(valid), "mean": mean.quantize(Decimal("0.01")),
            "max_deviation_percent": _percent(deviation), "threshold_percent": band}


# Process.

def short_period(facts: Facts) -> dict | None:
    """The time from publication to the deadline shorter than the statutory minimum in force at publication."""
    section = facts.section
    if section.published_at is None or section.deadline is None or section.min_days is None:
        return None
    period = section.deadline - section.published_at
    if period >= timedelta(days=section.min_days):
        return None
    return {"published_at": section.published_at, "deadline": section.deadline,
            "days": Decimal(period.total_seconds() / 86400).quantize(Decimal("0.01")), "min_days": section.min_days}


def single_bid(facts: Facts) -> dict | None:
    valid = facts.valid
    if len(valid) != 1:
        return None
    return {"bids": _priced(valid), "bids_opened": len(facts.results)}


def gap_of(prices: list[Decimal]) -> Decimal | None:
    return (prices[1] - prices[0]) / prices[0] if len(prices) > 1 and prices[0] > 0 else None


def lowest_gap(facts: Facts) -> dict | None:
    """The relative gap (second lowest − lowest) / lowest of the valid prices outside the interquartile fences of
    the gaps of every sealed opening, once the history is long enough."""
    valid = facts.valid
    gap = gap_of([r.price for r in valid])
    fences = facts.fences if facts.fences is not None else history_fences()
    minimum = facts.setting("flags.gap_min_history")
    if gap is None or fences.count < minimum or fences.q1 is None:
        return None
    if fences.lower <= gap <= fences.upper:
        return None
    return {"bids": _priced(valid[:2]), "gap_percent": _percent(gap), "side": "small" if gap < fences.lower else "large",
            "q1_percent": _percent(fences.q1), "q3_percent": _percent(fences.q3), "iqr_percent": _percent(fences.iqr),
            "lower_fence_percent": _percent(fences.lower), "upper_fence_percent": _percent(fences.upper),
            "history": fences.count, "min_history": minimum}


def others_disqualified(facts: Facts) -> dict | None:
    """Awarded, with other bids, and every bid but the winner's invalid."""
    award = facts.award
    if award is None or len(facts.results) < 2:
        return None
    others = [r for r in facts.results if r.id != award.bid_result_id]
    if any(r.valid for r in others):
        return None
    return {"winner": bidder(award.organisation) | {"price": award.amount},
            "disqualified": [bidder(r.organisation) | {"outcome": r.outcome, "cause": r.cause,
                                                       "guarantee": r.guarantee_verdict, "price": r.price}
                             for r in others]}


def lowest_disqualified(facts: Facts) -> dict | None:
    """By lowest evaluated price: the bid with the lowest price opened is not valid."""
    if facts.section.evaluation_method != "lowest_price":
        return None
    priced = sorted((r for r in facts.results if r.price is not None), key=lambda r: (r.price, r.id))
    if not priced or priced[0].valid:
        return None
    lowest, valid = priced[0], facts.valid
    return {"lowest": bidder(lowest.organisation) | {"price": lowest.price, "outcome": lowest.outcome,
                                                     "cause": lowest.cause, "guarantee": lowest.guarantee_verdict},
            "lowest_valid": (bidder(valid[0].organisation) | {"price": valid[0].price}) if valid else None}


def near_control(facts: Facts) -> dict | None:
    """The winning price within a percent of the control price (the section's base)."""
    award, base = facts.award, facts.section.base_amount
    if award is None or not base or base <= 0:
        return None
    threshold = facts.setting("flags.near_control_percent")
    deviation = abs(base - award.amount) / base
    if _percent(deviation) > threshold:
        return None
    return {"winner": bidder(award.organisation), "price": award.amount, "control_price": base,
            "deviation_percent": _percent(deviation), "threshold_percent": threshold}


OPENING_INDICATORS = {"same_ip": same_ip, "same_documents": same_documents,
                      "consecutive_guarantees": consecutive_guarantees, "identical_prices": identical_prices,
                      "price_progression": price_progression, "narrow_band": narrow_band,
                      "short_period": short_period, "single_bid": single_bid, "lowest_gap": lowest_gap,
                      "lowest_disqualified": lowest_disqualified}
AWARD_INDICATORS = {"others_disqualified": others_disqualified, "near_control": near_control}


# The history of gaps.

def _gaps_query():
    """The relative gap of each sealed opening with two valid priced bids, computed in SQL (window function)."""
    ranked = (select(BidResult.opening_id, BidResult.price,
                     func.row_number().over(partition_by=BidResult.opening_id,
                                            order_by=(BidResult.price, BidResult.id)).label("n"))
              .join(Opening, Opening.id == BidResult.opening_id)
              .where(Opening.status == "sealed", BidResult.valid.is_(True), BidResult.price.is_not(None))
              .subquery())
    first, second = ranked.alias("first"), ranked.alias("second")
    return (select((cast(second.c.price - first.c.price, Float) / cast(first.c.price, Float)).label("gap"))
            .select_from(first)
            .join(second, (second.c.opening_id == first.c.opening_id) & (second.c.n == 2))
            .where(first.c.n == 1, first.c.price > 0)).subquery()


def _quantile(gaps, count: int, q: Decimal) -> Decimal:
    """The q-quantile with linear interpolation (as PostgreSQL's percentile_cont), reading two rows in order."""
    position = (count - 1) * q
    index = int(position)
    pair = [Decimal(str(v)) for v in db.session.scalars(
        select(gaps.c.gap).order_by(gaps.c.gap).offset(index).limit(2))]
    if len(pair) == 1:
        return pair[0]
    return pair[0] + (pair[1] - pair[0]) * (position - index)


def history_fences() -> Fences:
    """Quartiles of the gaps over all sealed openings. SQLite has no percentile_cont, so each quartile is read
    in SQL as the one or two rows at its rank (ORDER BY … OFFSET … LIMIT 2) and interpolated: three small
    queries on either database, no column fetched into Python."""
    gaps = _gaps_query()
    count = db.session.scalar(select(func.count()).select_from(gaps)) or 0
    if count < 2:
        return Fences(count)
    return Fences(count, _quantile(gaps, count, Decimal("0.25")), _quantile(gaps, count, Decimal("0.75")))


# Writing flags.

def _month(moment: datetime) -> str:
    return clock.local(moment).strftime("%Y-%m")


def upsert(kind: str, subject_key: str, evidence: dict, now: datetime, *, occurred_at: datetime, unit_code: str,
           unit_name: str, section_id: int | None = None) -> RedFlag:
    """Raise the flag, or update the evidence of the open flag of the same kind and subject, or raise again a
    flag withdrawn earlier. A flag a supervisor decided keeps its decision."""
    body = json.dumps(evidence, default=_jsonable, ensure_ascii=False, sort_keys=True)
    flag = db.session.scalars(select(RedFlag).where(RedFlag.kind == kind, RedFlag.subject_key == subject_key)).first()
    if flag is not None:
        if flag.status == "withdrawn":
            _move(flag, "raise", now)
        if flag.status == "open" and flag.evidence != body:
            flag.evidence, flag.computed_at = body, now
        return flag
    flag = RedFlag(kind=kind, subject_key=subject_key, section_id=section_id, unit_code=unit_code,
                   unit_name=unit_name[:200], occurred_at=occurred_at, period=_month(occurred_at), evidence=body,
                   computed_at=now, status="open", reason="")
    db.session.add(flag)
    db.session.flush()
    journal.record("supervision.red_flag.raised", "red_flag", flag.id, {"kind": kind, "subject": subject_key},
                   now=now)
    return flag


def _move(flag: RedFlag, action: str, now: datetime) -> None:
    """The recomputation's own moves (withdraw, raise), journaled without an actor."""
    flag.computed_at = now
    lifecycle.move(states.RED_FLAG, flag, action, "red_flag", states.STATE_LABELS, states.ACTION_LABELS,
                   journal_as="supervision.red_flag", actor=None, now=now,
                   payload={"kind": flag.kind, "subject": flag.subject_key})


def withdraw_unfound(kinds, scope, found: list[RedFlag], now: datetime) -> None:
    """Open flags of ``kinds`` within ``scope`` (a condition on RedFlag) that the computation just made did
    not find again are withdrawn: the facts changed (a complaint's decision, a new opening), and supervisors
    should not be left reviewing what no longer stands."""
    kept = {flag.id for flag in found}
    for flag in db.session.scalars(select(RedFlag).where(RedFlag.kind.in_(list(kinds)), RedFlag.status == "open",
                                                         scope).order_by(RedFlag.id)):
        if flag.id not in kept:
            _move(flag, "withdraw", now)


def latest_sealed(section: Section) -> Opening | None:
    opening = section.openings[-1] if section.openings else None
    return opening if opening is not None and opening.status == "sealed" else None


def facts_of(section: Section, fences: Fences | None = None) -> Facts | None:
    opening = latest_sealed(section)
    if opening is None:
        return None
    results = list(db.session.scalars(select(BidResult).options(selectinload(BidResult.organisation))
                                      .where(BidResult.opening_id == opening.id).order_by(BidResult.id)))
    award = db.session.scalars(select(Award).where(Award.section_id == section.id)).first()
    return Facts(section, opening, results, award, fences)


def compute_section(section: Section, now: datetime, fences: Fences | None = None) -> list[RedFlag]:
    """Every section indicator over the section's latest sealed opening (and its award, once awarded)."""
    facts = facts_of(section, fences)
    if facts is None:
        return []
    project = section.project
    unit = dict(unit_code=project.procuring_credit_code,
                unit_name=project.procuring_unit.name if project.procuring_unit else "")
    flags = []
    for indicators, occurred_at in ((OPENING_INDICATORS, facts.opening.sealed_at),
                                    (AWARD_INDICATORS, facts.award.awarded_at if facts.award else None)):
        for kind, indicator in indicators.items():
            evidence = indicator(facts)
            if evidence is not None:
                evidence["section"] = {"id": section.id, "code": section.code, "name": section.name}
                flags.append(upsert(kind, f"section:{section.id}", evidence, now, occurred_at=occurred_at,
                                    section_id=section.id, **unit))
    withdraw_unfound([*OPENING_INDICATORS, *AWARD_INDICATORS], RedFlag.subject_key == f"section:{section.id}", flags,
                     now)
    mark_checked(f"section:{section.id}", now)
    return flags


def mark_checked(subject_key: str, now: datetime) -> None:
    check = db.session.get(RedFlagCheck, subject_key)
    if check is None:
        db.session.add(RedFlagCheck(subject_key=subject_key, checked_at=now))
    else:
        check.checked_at = now
    db.session.flush()


def due_sections(limit: int) -> list[int]:
    """Sections whose latest opening was sealed, or that were awarded, since their flags were last computed
    (or never computed)."""
    latest = (select(Opening.section_id, func.max(Opening.attempt).label("attempt"))
              .group_by(Opening.section_id).subquery())
    key = literal("section:", String) + cast(Opening.section_id, String)
    query = (select(Opening.section_id)
             .join(latest, (latest.c.section_id == Opening.section_id) & (latest.c.attempt == Opening.attempt))
             .outerjoin(RedFlagCheck, RedFlagCheck.subject_key == key)
             .outerjoin(Award, Award.section_id == Opening.section_id)
             .where(Opening.status == "sealed",
                    (RedFlagCheck.checked_at.is_(None)) | (RedFlagCheck.checked_at < Opening.sealed_at)
                    | (RedFlagCheck.checked_at < Award.awarded_at))
             .order_by(Opening.section_id).limit(limit))
    return list(db.session.scalars(query))


# Concentration and splitting.

def _year_end(year: int) -> datetime:
    return datetime.combine(datetime(year, 12, 31).date(), time(23, 59, 59), tzinfo=clock.SHANGHAI)


def concentration(now: datetime, units: set[str] | None = None) -> list[RedFlag]:
    """Per procuring unit and year of award: one supplier winning more than the share of the unit's awarded
    sections, the unit having at least the minimum of them. Counted in SQL."""
    year = func.extract("year", Section.award_date)
    query = (select(Project.procuring_credit_code, year.label("year"), Award.organisation_id, func.count())
             .select_from(Award).join(Section, Section.id == Award.section_id)
             .join(Project, Project.id == Section.project_id).where(Section.award_date.is_not(None))
             .group_by(Project.procuring_credit_code, year, Award.organisation_id))
    if units is not None:
        query = query.where(Project.procuring_credit_code.in_(units))
    wins = defaultdict(dict)
    for unit_code, award_year, winner, count in db.session.execute(query):
        wins[(unit_code, int(award_year))][winner] = count
    flags = []
    for (unit_code, award_year), by_winner in sorted(wins.items()):
        at = min(now, _year_end(award_year))
        total = sum(by_winner.values())
        winner, won = max(by_winner.items(), key=lambda item: (item[1], -item[0]))
        share = Decimal(won) / total
        threshold = settings.value("flags.concentration_share_percent", at)
        if total < settings.value("flags.concentration_min_sections", at) or _percent(share) <= threshold:
            continue
        organisation = db.session.get(Organisation, winner)
        unit = db.session.scalars(select(Organisation).where(Organisation.credit_code == unit_code)).first()
        sections = db.session.execute(
            select(Section.id, Section.code, Section.award_date).join(Award, Award.section_id == Section.id)
            .join(Project, Project.id == Section.project_id)
            .where(Award.organisation_id == winner, Project.procuring_credit_code == unit_code, year == award_year)
            .order_by(Section.award_date, Section.id)).all()
        evidence = {"unit": bidder(unit, unit_code), "year": award_year, "sections": total,
                    "winner": bidder(organisation), "wins": won, "share_percent": _percent(share),
                    "threshold_percent": threshold,
                    "min_sections": settings.value("flags.concentration_min_sections", at),
                    "sections_won": [{"id": s.id, "code": s.code, "award_date": s.award_date.isoformat()}
                                     for s in sections[:100]]}
        first = datetime.combine(sections[0].award_date, time(12), tzinfo=clock.SHANGHAI)
        flags.append(upsert("concentration", f"unit:{unit_code}:{award_year}", evidence, now, occurred_at=first,
                            unit_code=unit_code, unit_name=unit.name if unit else ""))
    withdraw_unfound(["concentration"], true() if units is None else RedFlag.unit_code.in_(units), flags, now)
    return flags


def _lowest_limit() -> Decimal:
    values = [settings.DEFINITIONS["mall.direct_purchase_limit"].default]
    values += [Decimal(row.value) for row in settings.history("mall.direct_purchase_limit")]
    return min(values)


def splitting(now: datetime, unit_ids: set[int] | None = None) -> list[RedFlag]:
    """Per unit and category: several direct orders (no reverse auction, not cancelled) each within the margin
    under the direct-purchase limit in force when placed, placed within the window of the first of them."""
    margin = settings.value("flags.splitting_margin_percent", now) / HUNDRED
    query = (select(Order, OrderLine.category).join(OrderLine, OrderLine.order_id == Order.id)
             .where(Order.auction_id.is_(None), Order.status != "cancelled",
                    Order.total >= _lowest_limit() * (1 - margin))
             .distinct().order_by(Order.placed_at, Order.id))
    if unit_ids is not None:
        query = query.where(Order.unit_id.in_(unit_ids))
    groups = defaultdict(list)
    for order, category in db.session.execute(query):
        at = order.placed_at
        limit = settings.value("mall.direct_purchase_limit", at)
        if limit * (1 - settings.value("flags.splitting_margin_percent", at) / HUNDRED) <= order.total <= limit:
            groups[(order.unit_id, category)].append((order, limit))
    flags = []
    for (_unit_id, category), orders in sorted(groups.items()):
        start = 0
        while start < len(orders):
            first = orders[start][0].placed_at
            window = settings.value("flags.splitting_window_days", first)
            cluster = [row for row in orders[start:] if row[0].placed_at <= first + timedelta(days=window)]
            if len(cluster) >= settings.value("flags.splitting_min_orders", first):
                unit = cluster[0][0].unit
                evidence = {"unit": bidder(unit), "category": category, "window_days": window,
                            "margin_percent": settings.value("flags.splitting_margin_percent", first),
                            "orders": [{"number": o.number, "placed_at": o.placed_at, "total": o.total,
                                        "limit": limit, "supplier": bidder(o.supplier)} for o, limit in cluster],
                            "sum": sum(o.total for o, _limit in cluster)}
                flags.append(upsert("splitting", f"unit:{unit.credit_code}:{category}:{cluster[0][0].number}",
                                    evidence, now, occurred_at=first, unit_code=unit.credit_code,
                                    unit_name=unit.name))
            start += len(cluster)
    withdraw_unfound(["splitting"], true() if unit_ids is None else RedFlag.unit_code.in_(
        select(Organisation.credit_code).where(Organisation.id.in_(unit_ids))), flags, now)
    return flags


def orders_since(since: datetime | None) -> set[int]:
    query = select(Order.unit_id).where(Order.auction_id.is_(None)).distinct()
    if since is not None:
        query = query.where(Order.placed_at >= since)
    return set(db.session.scalars(query))


# Batches.

BATCH = 100


def compute_due(now: datetime) -> int:
    """The beat's work: flags of sections sealed or awarded since last computed (one batch), then concentration
    for their units and splitting for units with direct orders since the last look at the mall. Returns the
    number of sections computed."""
    ids = due_sections(BATCH)
    fences = history_fences() if ids else None
    units = set()
    for section in db.session.scalars(select(Section).where(Section.id.in_(ids))):
        compute_section(section, now, fences)
        if section.award_date is not None:
            units.add(section.project.procuring_credit_code)
    if units:
        concentration(now, units)
    check = db.session.get(RedFlagCheck, "mall")
    unit_ids = orders_since(check.checked_at - timedelta(minutes=5) if check else None)
    if unit_ids:
        splitting(now, unit_ids)
    mark_checked("mall", now)
    return len(ids)


def sections_with_openings() -> list[int]:
    return list(db.session.scalars(select(Opening.section_id).where(Opening.status == "sealed").distinct()
                                   .order_by(Opening.section_id)))


def compute_all(now: datetime, progress=None, commit=None) -> int:
    """Recompute over the whole history in batches of BATCH sections; ``progress(checked, total)`` after each
    batch and ``commit()`` to end each batch's transaction. Returns the number of flags raised or updated."""
    ids = sections_with_openings()
    fences = history_fences()
    raised = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        for section in db.session.scalars(select(Section).where(Section.id.in_(batch)).order_by(Section.id)):
            raised += len(compute_section(section, now, fences))
        if commit:
            commit()
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    raised += len(concentration(now)) + len(splitting(now))
    mark_checked("mall", now)
    if commit:
        commit()
    return raised


# Supervisors' decisions.

def decide(actor, flag: RedFlag, action: str, reason: str, now: datetime) -> RedFlag:
    """A supervisor confirms or dismisses an open flag, saying why."""
    if actor.role != Role.SUPERVISOR:
        raise DomainError("not_supervisor", _("Only supervisors confirm or dismiss red flags."), 403)
    if action not in states.SUPERVISOR_ACTIONS:
        raise DomainError("action_unknown", _("Confirm or dismiss the flag."), 400)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 2000:
        raise DomainError("reason_required", _("Say why (at most 2000 characters)."), 422)
    states.advance(flag, action)
    flag.reason, flag.decided_by_id, flag.decided_at = reason, actor.id, now
    db.session.flush()
    journal.record(f"supervision.red_flag.{action}", "red_flag", flag.id,
                   {"kind": flag.kind, "subject": flag.subject_key, "reason": reason}, actor=actor, now=now)
    return flag
