"""Sections ready for evaluation, an expert pool, and sections carried through evaluation and award, made
fast: the opening's outcome is written straight into the database instead of being driven through
tender.opening (the opening has tests of its own).

Test shortcut: ``opened`` writes Bid rows (no envelopes), an Opening already "sealed" with its objection
window over and its BidResult rows, and moves the section closed → opening → opened through
``publication.move`` without waiting for the deadline.
"""
import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from accounts import auth
from accounts.models import User
from core import clock
from core.extensions import db
from core.permissions import Role
from tender import award, evaluation, experts, participation, publication
from tender.models import Bid, BidResult, Opening
from tests.tender.factories import issue_guarantee, make_guarantor

BIDDERS = ("bidder1", "bidder2", "bidder3")


class Opened:
    """``section`` (published) with the bids of ``bidders`` at ``prices`` opened and the record sealed; a price
    of None is a bid that failed at the opening (视为撤销). ``guarantor``: a guarantor user who issued real
    guarantees for every bidder before the deadline."""

    def __init__(self, demo, section, prices=("980000.00", "950000.00", "990000.00"), bidders=BIDDERS,
                 with_guarantees=False, now=None):
        now = now or clock.now()
        self.demo, self.section = demo, section
        self.guarantor = make_guarantor("南京评标测试担保有限公司", f"91320100MA1J{section.id:05d}") \
            if with_guarantees else None
        self.guarantees = {}
        self.opening = Opening(section=section, attempt=1, status="sealed", host_id=demo["centre"].id,
                               started_at=now - timedelta(hours=2), release_ends_at=now - timedelta(hours=1),
                               decrypt_started_at=now - timedelta(hours=2), decrypted_at=now - timedelta(hours=1),
                               bids_total=len(bidders), bids_decided=len(bidders), record="{}",
                               sealed_at=now - timedelta(hours=1), objections_end_at=now - timedelta(minutes=1))
        db.session.add(self.opening)
        self.results = []
        first = section.bid_sequence + 1  # after any real bid of the section
        section.bid_sequence += len(bidders)
        for sequence, (name, price) in enumerate(zip(bidders, prices, strict=True), start=first):
            user = demo[name]
            if participation.registration(section, user.organisation_id) is None:
                participation.register(user, section, now)
            if with_guarantees:
                self.guarantees[name] = issue_guarantee(self.guarantor, section, user.organisation)
            bid = Bid(section_id=section.id, organisation_id=user.organisation_id, user_id=user.id, version=1,
                      sequence=sequence, status="submitted", envelope_sha256=f"{sequence:064x}", envelope_size=1,
                      certificate_fingerprint="0" * 64, signer=user.name, received_at=now - timedelta(days=1, seconds=-sequence),
                      ip_address="198.51.100.1", user_agent="test", receipt="{}")
            db.session.add(bid)
            result = BidResult(opening=self.opening, bid=bid, organisation_id=user.organisation_id,
                               outcome="opened" if price else "deemed_revoked", cause="" if price else "signature_invalid",
                               price=Decimal(price) if price else None,
                               terms=json.dumps({"工期": "180 天"}, ensure_ascii=False),
                               documents=json.dumps([{"name": "投标文件.pdf", "type": "application/pdf", "size": 9,
                                                      "sha256": "a" * 64}]),
                               guarantee_verdict="not_required", valid=bool(price), decided_at=now - timedelta(hours=1))
            db.session.add(result)
            self.results.append(result)
        db.session.flush()
        for action in ("close", "start_opening", "finish_opening"):
            publication.move(None, section, action, now)
        db.session.commit()

    def result(self, name: str) -> BidResult:
        return next(r for r in self.results if r.organisation_id == self.demo[name].organisation_id)


def make_expert(centre, username: str, *, categories=("works",), affiliations=(), active=True, now=None) -> User:
    """An evaluator account of the centre's organisation with its profile in the pool."""
    now = now or clock.now()
    user = User(organisation_id=centre.organisation_id, username=username, name=f"专家 {username}",
                role=Role.EVALUATOR, email=f"{username}@example.cn", status="active",
                password_hash=auth.hash_password("expert-pass-2026"), created_at=now, failed_logins=0, locked=False)
    db.session.add(user)
    db.session.flush()
    experts.save_profile(centre, user, categories=list(categories), affiliations=list(affiliations), active=active,
                         now=now)
    return user


def make_pool(demo, n: int = 5, **options) -> list[User]:
    """``n`` experts of works (expert1 included, in the pool first)."""
    centre = demo["centre"]
    experts.save_profile(centre, demo["expert1"], categories=["works"], affiliations=[], active=True, now=clock.now())
    pool = [demo["expert1"]]
    for i in range(2, n + 1):
        existing = db.session.scalar(select(User).where(User.username == f"expert_pool_{i}"))
        pool.append(existing or make_expert(centre, f"expert_pool_{i}", **options))
    db.session.commit()
    return pool


def evaluate(demo, opened: Opened, scores=None, now=None):
    """Draw the committee (from a pool of five), have every member score (comprehensive: ``scores`` {bidder name:
    (technical, commercial)}, the same from each member) and sign: the section is evaluated."""
    now = now or clock.now()
    section = opened.section
    make_pool(demo, 5)
    committee = experts.draw(demo["centre"], section, now)
    for member in committee.members:
        if section.evaluation_method == "comprehensive":
            evaluation.enter_scores(member.user, section, {opened.result(name).id: pair
                                                           for name, pair in (scores or {}).items()}, now)
        evaluation.sign(member.user, section, now)
    db.session.commit()
    return committee


def awarded(demo, opened: Opened, now=None, **options):
    """Evaluated, publicised and awarded once the publicity period is over (returns the award's moment)."""
    now = now or clock.now()
    evaluate(demo, opened, now=now, **options)
    evaluation.publicise(demo["centre"], opened.section, now)
    later = opened.section.publicity_ends_at + timedelta(minutes=1)
    row = award.award(demo["procuring"], opened.section, later)
    db.session.commit()
    return row, later


def breached(section, bidder="bidder1", price="950000.00"):
    """``section`` (published) awarded to the demo ``bidder`` alone, who then breaches in every way the
    guarantor may claim for (guarantees.CLAIM_TRIGGERS), recorded by the procuring unit."""
    from tender import guarantees
    demo = {u.username: u for u in db.session.scalars(select(User))}
    opened = Opened(demo, section, prices=(price,), bidders=(bidder,))
    _row, at = awarded(demo, opened)
    for kind in guarantees.CLAIM_TRIGGERS:
        award.record_breach(demo["procuring"], section, kind, "测试", at)
    db.session.commit()
