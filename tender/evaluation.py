"""Evaluation (评标) of an opened section by its committee, the evaluation report, and the publicity (公示)
of the candidates.

Evaluation starts once the opening record is sealed, its objection window is over and every objection is
answered (``require_ready``). By lowest evaluated price the valid bids rank by price; by comprehensive
scoring each committee member scores every valid bid's technical and commercial parts, the price score
follows the benchmark formula (the lowest valid price is the benchmark: price weight × benchmark ÷ price)
and a bid's score is its price score plus the means of the members' technical and commercial scores.
Every member signs the report off; with the last sign-off the report is sealed with the platform seal
(docs/formats.md, "Evaluation report") and the section is evaluated. The centre then publishes the
candidates for the publicity period, during which a challenge holds the award.
"""
import hashlib
import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from accounts.organisations import member_ids
from core import clock, journal, notifications, seal, settings
from core.crypto.canonical import canonical
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from tender import challenges, experts, publication
from tender.models import BidResult, CommitteeMember, Evaluation, Score, Section

REPORT_TYPE = "eproc-evaluation-report"
VERSION = 1
CENT = Decimal("0.01")
PUBLIC_CANDIDATES = 3


# Sealed documents: the canonical JSON {"body": "<canonical body>", "signature": "<hex>"} (docs/formats.md).

def seal_document(body: dict, now: datetime) -> str:
    """``body`` (with the seal certificate's fingerprint added as ``certificate``) as canonical JSON, signed
    with the platform seal: the file the platform hands out."""
    key = seal.ensure(now)
    data = canonical({**body, "certificate": key.certificate_sha256})
    return canonical({"body": data.decode("utf-8"), "signature": seal.sign(key, data).hex()}).decode("utf-8")


def verify_document(document: str | bytes, certificate_pem: str) -> dict | None:
    """The body of a sealed document if the seal certificate ``certificate_pem`` signed it, else None."""
    try:
        wrapper = json.loads(document)
        body = wrapper["body"].encode("utf-8")
        signature = bytes.fromhex(wrapper["signature"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return json.loads(body) if seal.verify(body, signature, certificate_pem) else None


def body_of(document: str) -> dict:
    return json.loads(json.loads(document)["body"])


# Ready for evaluation.

def require_ready(section: Section, now: datetime) -> None:
    """Refuse unless the section is opened and its latest opening's record is sealed, its objection window
    over and every objection answered."""
    if section.status != "opened":
        raise DomainError("section_not_opened", _("The section is not at evaluation: its bids are not opened, or "
                                                  "it has been evaluated already."), 409)
    opening = section.openings[-1] if section.openings else None
    if opening is None or opening.status != "sealed":
        raise DomainError("record_not_sealed", _("The opening record is not sealed and published yet."), 409)
    if opening.objections_end_at is None or now < opening.objections_end_at:
        raise DomainError("objection_window_open",
                          _("Bidders may still confirm or object to the opening record until %(at)s Beijing "
                            "time.", at=clock.local(opening.objections_end_at or now).strftime("%Y-%m-%d %H:%M")),
                          409)
    unanswered = [r for r in opening.responses if r.kind == "object" and r.answer is None]
    if unanswered:
        raise DomainError("objections_unanswered", _("%(n)s objections to the opening record wait for the host's "
                                                     "answer.", n=len(unanswered)), 409)


def is_ready(section: Section, now: datetime) -> bool:
    try:
        require_ready(section, now)
    except DomainError:
        return False
    return True


# Scores.

def _member(actor: User, section: Section) -> CommitteeMember:
    member = experts.member_of(section, actor)
    if member is None:
        raise DomainError("not_committee_member", _("Only members of the section's evaluation committee may do "
                                                    "this."), 403)
    return member


def _score(value, weight: int, label: str) -> Decimal:
    try:
        score = Decimal(str(value).strip()) if not isinstance(value, float | bool) else None
    except InvalidOperation:
        score = None
    if score is None or not score.is_finite() or score != score.quantize(CENT) or not 0 <= score <= weight:
        raise DomainError("score_invalid", _("%(label)s is a number from 0 to %(max)s with at most two decimal "
                                             "places.", label=label, max=weight))
    return score.quantize(CENT)


def _unsigned(member: CommitteeMember) -> None:
    if any(m.signed_at is not None for m in member.committee.members):
        raise DomainError("report_signed", _("The report has been signed off: the scores can no longer change."),
                          409)


def scores_of(member: CommitteeMember) -> dict[int, Score]:
    return {s.bid_result_id: s for s in db.session.scalars(select(Score).where(Score.member_id == member.id))}


def enter_scores(actor: User, section: Section, scores: dict, now: datetime) -> list[Score]:
    """A member's technical and commercial scores: {bid result id: (technical, commercial)} for valid bids."""
    member = _member(actor, section)
    require_ready(section, now)
    if section.evaluation_method != "comprehensive":
        raise DomainError("scores_not_needed", _("This section is evaluated by lowest price: there are no scores "
                                                 "to enter."), 409)
    _unsigned(member)
    valid = {r.id: r for r in experts.valid_results(section)}
    if not scores or not isinstance(scores, dict) or any(k not in valid for k in scores):
        raise DomainError("bid_unknown", _("Score the valid bids of this section only."), 422)
    existing = scores_of(member)
    saved, entered = [], {}
    for result_id, pair in scores.items():
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise DomainError("score_invalid", _("Give a technical and a commercial score for each bid."))
        technical = _score(pair[0], section.technical_weight, _("The technical score"))
        commercial = _score(pair[1], section.commercial_weight, _("The commercial score"))
        row = existing.get(result_id) or Score(member_id=member.id, bid_result_id=result_id)
        row.technical, row.commercial, row.entered_at = technical, commercial, now
        db.session.add(row)
        saved.append(row)
        entered[str(result_id)] = {"technical": technical, "commercial": commercial,
                                   "bidder": valid[result_id].organisation.credit_code}
    db.session.flush()
    journal.record("tender.evaluation.scored", "section", section.id,
                   {"member": member.position, "scores": entered}, actor=actor, now=now)
    return saved


def missing_scores(section: Section) -> list[tuple[CommitteeMember, BidResult]]:
    valid = experts.valid_results(section)
    missing = []
    for member in section.committee.members:
        have = scores_of(member)
        missing += [(member, r) for r in valid if r.id not in have]
    return missing


# The ranking.

def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal("0")) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def ranking(section: Section) -> list[dict]:
    """The candidates, best first: {rank, bid_result, organisation, bidder, name, price} and, by comprehensive
    scoring, price_score, technical, commercial, score and each member's scores."""
    valid = experts.valid_results(section)
    if not valid:
        raise DomainError("no_valid_bids", _("The section has no valid bid to evaluate."), 409)
    rows = [{"bid_result": r.id, "organisation": r.organisation_id, "bidder": r.organisation.credit_code,
             "name": r.organisation.name, "price": Decimal(r.price), "order": (r.bid.received_at, r.id)}
            for r in valid]
    if section.evaluation_method == "comprehensive":
        missing = missing_scores(section)
        if missing:
            raise DomainError("scores_missing", _("%(n)s scores are still to be entered by the committee.",
                                                  n=len(missing)), 409)
        benchmark = min(row["price"] for row in rows)
        members = section.committee.members
        by_member = {m.id: scores_of(m) for m in members}
        for row in rows:
            marks = [by_member[m.id][row["bid_result"]] for m in members]
            row["price_score"] = (section.price_weight * benchmark / row["price"]).quantize(CENT, rounding=ROUND_HALF_UP)
            row["technical"] = _mean([s.technical for s in marks])
            row["commercial"] = _mean([s.commercial for s in marks])
            row["score"] = row["price_score"] + row["technical"] + row["commercial"]
            row["members"] = [{"member": m.position, "technical": s.technical, "commercial": s.commercial}
                              for m, s in zip(members, marks, strict=True)]
        rows.sort(key=lambda row: (-row["score"], row["price"], row["order"]))
    else:
        rows.sort(key=lambda row: (row["price"], row["order"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
        del row["order"]
    return rows


def _json_ranking(rows: list[dict]) -> str:
    return json.dumps([{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items() if k != "members"}
                       for row in rows])


def candidates(section: Section) -> list[dict]:
    """The sealed report's candidates, best first, with Decimal amounts (empty before the report)."""
    if section.evaluation is None:
        return []
    money_keys = ("price", "price_score", "technical", "commercial", "score")
    return [{k: (Decimal(v) if k in money_keys else v) for k, v in row.items()}
            for row in json.loads(section.evaluation.ranking)]


def ranking_digest(rows: list[dict]) -> str:
    """SHA-256 of the ranking a member signs off (so the journal shows each signed the same)."""
    return hashlib.sha256(canonical([{k: v for k, v in row.items() if k not in ("name", "organisation")}
                                     for row in rows])).hexdigest()


# Sign-off and the sealed report.

def sign(actor: User, section: Section, now: datetime) -> CommitteeMember:
    """A member signs the report off; the last sign-off seals it and the section is evaluated."""
    member = _member(actor, section)
    require_ready(section, now)
    challenges.require_not_suspended(section)
    if member.signed_at is not None:
        raise DomainError("already_signed", _("You have signed this report off already."), 409)
    rows = ranking(section)
    member.signed_at = now
    db.session.flush()
    journal.record("tender.evaluation.signed", "section", section.id,
                   {"member": member.position, "chair": member.is_chair, "ranking_sha256": ranking_digest(rows)},
                   actor=actor, now=now)
    if all(m.signed_at is not None for m in section.committee.members):
        _seal(section, rows, now)
    return member


def report_body(section: Section, rows: list[dict], now: datetime) -> dict:
    opening = section.openings[-1]
    committee = section.committee
    comprehensive = section.evaluation_method == "comprehensive"
    listed = []
    for row in rows:
        entry = {"rank": row["rank"], "bidder": {"name": row["name"], "credit_code": row["bidder"]},
                 "price": row["price"]}
        if comprehensive:
            entry |= {k: row[k] for k in ("price_score", "technical", "commercial", "score", "members")}
        listed.append(entry)
    body = {"type": REPORT_TYPE, "version": VERSION,
            "section": {"id": str(section.id), "code": section.code, "name": section.name},
            "project": {"code": section.project.code, "name": section.project.name},
            "method": section.evaluation_method,
            "opening": {"attempt": opening.attempt, "sealed_at": opening.sealed_at},
            "candidates": listed,
            "committee": [{"position": m.position, "name": m.user.name, "chair": m.is_chair, "signed_at": m.signed_at}
                          for m in committee.members],
            "draw": {"seed": committee.seed, "candidates": json.loads(committee.candidates), "size": committee.size},
            "sealed_at": now}
    if comprehensive:
        body["weights"] = {"price": section.price_weight, "technical": section.technical_weight,
                           "commercial": section.commercial_weight}
        body["benchmark_price"] = min(row["price"] for row in rows)
    return body


def _seal(section: Section, rows: list[dict], now: datetime) -> Evaluation:
    report = seal_document(report_body(section, rows, now), now)
    evaluation = Evaluation(section=section, opening_id=section.openings[-1].id, method=section.evaluation_method,
                            ranking=_json_ranking(rows), report=report, sealed_at=now)
    db.session.add(evaluation)
    db.session.flush()
    publication.move(None, section, "evaluate", now,
                     {"report_sha256": hashlib.sha256(report.encode()).hexdigest(),
                      "candidates": [{"rank": r["rank"], "bidder": r["bidder"], "price": r["price"]} for r in rows]})
    return evaluation


# Publicity (公示).

def publicity_days(section: Section) -> int:
    return settings.value("award.publicity_days", section.published_at)


def publicise(actor: User, section: Section, now: datetime) -> Section:
    """The centre publishes the top candidates for the publicity period (calendar days)."""
    if actor.role != Role.CENTRE:
        raise DomainError("not_centre", _("Only the trading centre publishes the candidates."), 403)
    challenges.require_not_suspended(section)
    days = publicity_days(section)
    publication.move(actor, section, "publicise", now,
                     {"days": days, "ends_at": now + timedelta(days=days),
                      "candidates": [{"rank": c["rank"], "bidder": c["bidder"], "price": c["price"]}
                                     for c in candidates(section)[:PUBLIC_CANDIDATES]]})
    section.publicised_at, section.publicity_ends_at = now, now + timedelta(days=days)
    bidders = {r.organisation_id for r in section.openings[-1].results}
    users = member_ids(list(bidders), Role.BIDDER)
    if users:
        notifications.notify(users, "candidates_publicised", _l("Candidates of %(code)s published", code=section.code),
                             _l("The evaluation of %(name)s is over: its candidates are published until %(at)s "
                               "Beijing time.", name=section.name,
                               at=clock.local(section.publicity_ends_at).strftime("%Y-%m-%d %H:%M")),
                             f"/tender/sections/{section.id}/candidates", now)
    return section


def in_publicity(section: Section, now: datetime) -> bool:
    return section.publicity_ends_at is not None and now < section.publicity_ends_at
