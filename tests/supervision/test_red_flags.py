"""Red flags: each indicator raised by a scenario built for it, beside a near miss that raises nothing; the
scenario of issue #8 (two bidders from one IP address, prices in arithmetic progression) from the beat to the
supervisor's decision in the browser; recomputation without duplicates; the flag's lifecycle.

Test shortcut: sections are written straight into the database (project, section, a sealed opening, bids,
results, sign-ins, guarantees, award, mall orders), as tests/tender/evaluation_factories.py does, so that the
indicators are tested against the rows they read without driving every stage's services.
"""
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry
from mall import demo as mall_demo
from mall.models import BudgetLine, Listing, Order, OrderLine
from supervision import red_flags, states
from supervision.models import RedFlag, RedFlagRun
from supervision.tasks import compute_due_red_flags, recompute_red_flags
from tender.models import Award, Bid, BidResult, Guarantee, Opening, Project, Section, SignIn
from tests.conftest import csrf_token_from

NUMBERS = count(1)
BIDDERS = ("bidder1", "bidder2", "bidder3")


class Opened:
    """A section of the demo unit whose opening record is sealed an hour ago, with a bid of each of ``bidders``
    at ``prices`` (None: not opened); each bid from an IP address of its own unless ``ips`` says otherwise."""

    def __init__(self, demo, prices, *, bidders=BIDDERS, ips=None, valid=None, documents=None, method="lowest_price",
                 base="1000000.00", period_days=21, min_days=20, unit="procuring", now=None):
        now = now or clock.now()
        n = next(NUMBERS)
        self.demo, self.now = demo, now
        unit_org = demo[unit].organisation
        project = Project(code=f"RF-{n}", name=f"红旗项目 {n}", procuring_unit_id=unit_org.id,
                          procuring_credit_code=unit_org.credit_code, region_code="320100", category="works",
                          status="accepted", created_at=now)
        self.section = Section(project=project, code=f"RF-{n}-1", name=f"红旗标段 {n}", category="works",
                               region_code="320100", method="open", base_amount=Decimal(base), status="opened",
                               evaluation_method=method, published_at=now - timedelta(days=period_days + 1),
                               deadline=now - timedelta(days=1), min_days=min_days)
        self.opening = Opening(section=self.section, attempt=1, status="sealed", host_id=demo["centre"].id,
                               started_at=now - timedelta(hours=3), release_ends_at=now - timedelta(hours=2),
                               record="{}", sealed_at=now - timedelta(hours=1),
                               objections_end_at=now - timedelta(minutes=30))
        db.session.add_all([project, self.section, self.opening])
        self.results = {}
        for i, (name, price) in enumerate(zip(bidders, prices, strict=True)):
            user = demo[name]
            ip = ips[i] if ips else f"10.{n % 250}.0.{i + 1}"
            bid = Bid(section=self.section, organisation_id=user.organisation_id, user_id=user.id, version=1,
                      sequence=i + 1, status="submitted", envelope_sha256=f"{n:032x}{i:032x}", envelope_size=1,
                      certificate_fingerprint="0" * 64, signer=user.name,
                      received_at=now - timedelta(days=2, minutes=-i), ip_address=ip, user_agent="test", receipt="{}")
            digest = documents[i] if documents else f"{n:032x}{i:032x}"
            self.results[name] = BidResult(
                opening=self.opening, bid=bid, organisation_id=user.organisation_id,
                outcome="opened" if price else "deemed_revoked", cause="" if price else "signature_invalid",
                price=Decimal(price) if price else None, guarantee_verdict="not_required",
                documents=json.dumps([{"name": f"投标文件-{name}.pdf", "type": "application/pdf", "size": 9,
                                       "sha256": digest}]),
                valid=(valid[i] if valid else bool(price)), decided_at=now - timedelta(hours=2), ip_address=ip)
            db.session.add_all([bid, self.results[name]])
        db.session.flush()

    def award(self, name: str, amount=None, when=None) -> Award:
        when = when or self.now
        result = self.results[name]
        row = Award(section_id=self.section.id, bid_result_id=result.id, organisation_id=result.organisation_id,
                    rank=1, amount=Decimal(amount) if amount else result.price, awarded_at=when,
                    awarded_by_id=self.demo["procuring"].id, notice="{}")
        self.section.status, self.section.deal_amount = "awarded", row.amount
        self.section.award_date = clock.local(when).date()
        db.session.add(row)
        db.session.flush()
        return row


def flags(kind: str | None = None, section=None) -> list[RedFlag]:
    query = select(RedFlag).order_by(RedFlag.id)
    if kind:
        query = query.where(RedFlag.kind == kind)
    if section is not None:
        query = query.where(RedFlag.section_id == section.id)
    return list(db.session.scalars(query))


def raised(opened: Opened) -> dict[str, dict]:
    """The section's flags after its computation: {kind: evidence}."""
    red_flags.compute_section(opened.section, clock.now())
    db.session.commit()
    return {f.kind: f.data for f in flags(section=opened.section)}


def names(evidence_bidders) -> set[str]:
    return {b["name"] for b in evidence_bidders}


# The scenario of issue #8, from the beat to the supervisor's decision.

def test_two_bidders_from_one_ip_with_prices_in_arithmetic_progression_raise_flags_with_their_evidence(demo, login):
    opened = Opened(demo, ("1050000.00", "1000000.00", "1100000.00"), ips=("203.0.113.7", "203.0.113.7", "198.51.100.9"))
    near = Opened(demo, ("1010000.00", "1000000.00", "1035000.00"))  # own IPs; steps of 10,000 and 25,000
    db.session.commit()

    assert compute_due_red_flags() == 2  # the beat: both sections were sealed and never computed
    assert compute_due_red_flags() == 0  # nothing sealed since
    assert {f.kind for f in flags(section=near.section)} == set()
    same_ip, progression = flags("same_ip")[0], flags("price_progression")[0]
    assert same_ip.section_id == progression.section_id == opened.section.id
    group, = same_ip.data["groups"]
    assert group["ip"] == "203.0.113.7" and group["source"] == "submission"
    assert names(group["bidders"]) == {demo["bidder1"].organisation.name, demo["bidder2"].organisation.name}
    assert {b["credit_code"] for b in group["bidders"]} == {demo["bidder1"].organisation.credit_code,
                                                          demo["bidder2"].organisation.credit_code}
    assert progression.data["arithmetic"] is True
    assert progression.data["differences"] == ["50000.00", "50000.00"] and progression.data["geometric"] is False
    assert [b["price"] for b in progression.data["bids"]] == ["1000000.00", "1050000.00", "1100000.00"]
    raised_entries = db.session.scalars(select(JournalEntry.subject_id)
                                        .where(JournalEntry.action == "supervision.red_flag.raised")).all()
    assert set(raised_entries) == {str(same_ip.id), str(progression.id)}

    supervisor = login("supervisor")
    page = supervisor.get("/supervision/red-flags?kind=same_ip")
    listed = page.text.split('id="red-flag-list"')[1]
    assert page.status_code == 200 and opened.section.code in listed and near.section.code not in listed
    assert "Several bidders from one IP address" in listed and "Prices in arithmetic" not in listed
    page = supervisor.get(f"/supervision/red-flags/{same_ip.id}")
    assert "203.0.113.7" in page.text and demo["bidder2"].organisation.credit_code in page.text
    assert "bid submission" in page.text
    page = supervisor.get(f"/supervision/red-flags/{progression.id}")
    evidence = page.text.split('id="evidence"')[1]
    assert "Arithmetic progression" in evidence and "105.00 万元" in evidence, evidence  # prices in 万元
    response = supervisor.post(f"/supervision/red-flags/{same_ip.id}/decision",
                               data={"action": "confirm", "reason": "同一出口 IP，已移交调查",
                                     "csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 303
    page = supervisor.get(response.location)
    assert "confirmed" in page.text and "同一出口 IP，已移交调查" in page.text
    db.session.expire_all()
    assert db.session.get(RedFlag, same_ip.id).status == "confirmed"
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "supervision.red_flag.confirm")).one()
    assert entry.subject_id == str(same_ip.id) and entry.actor_id == demo["supervisor"].id

    # An admin reads but does not decide; a bidder does not read.
    admin = login("admin")
    assert admin.get(f"/supervision/red-flags/{progression.id}").status_code == 200
    assert admin.post(f"/supervision/red-flags/{progression.id}/decision",
                      data={"action": "dismiss", "reason": "x"}).status_code == 403
    assert login("bidder1").get("/supervision/red-flags").status_code == 403


def test_a_decision_needs_a_reason_and_the_page_says_so(demo, login):
    opened = Opened(demo, ("1000000.00",), bidders=("bidder1",))
    flag = flags_of(opened, "single_bid")
    supervisor = login("supervisor")
    response = supervisor.post(f"/supervision/red-flags/{flag.id}/decision", data={"action": "dismiss", "reason": " "})
    assert response.status_code == 422 and "say why" in response.text
    db.session.expire_all()
    assert db.session.get(RedFlag, flag.id).status == "open"


def flags_of(opened: Opened, kind: str) -> RedFlag:
    red_flags.compute_section(opened.section, clock.now())
    db.session.commit()
    return flags(kind, opened.section)[0]


# Collusion.

def test_bidders_signing_in_from_one_ip_address(demo):
    opened = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"))
    near = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"))
    for o, ips in ((opened, ("192.0.2.5", "192.0.2.5", "192.0.2.6")), (near, ("192.0.2.5", "192.0.2.7", "192.0.2.6"))):
        for name, ip in zip(BIDDERS, ips, strict=True):
            db.session.add(SignIn(opening=o.opening, organisation_id=demo[name].organisation_id, user_id=demo[name].id,
                                  at=o.now - timedelta(hours=3), ip_address=ip))
    evidence = raised(opened)["same_ip"]
    group, = evidence["groups"]
    assert group["source"] == "sign_in" and group["ip"] == "192.0.2.5" and len(group["bidders"]) == 2
    assert "same_ip" not in raised(near)  # one sign-in per address in that section


def test_identical_document_hashes_across_bidders(demo):
    shared = "ab" * 32
    opened = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), documents=(shared, shared, "cd" * 32))
    near = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"))
    document, = raised(opened)["same_documents"]["documents"]
    assert document["sha256"] == shared
    assert names(document["bidders"]) == {demo["bidder1"].organisation.name, demo["bidder2"].organisation.name}
    assert "same_documents" not in raised(near)


def _guarantee(opened, name, number, issued_at, guarantor):
    organisation = opened.demo[name].organisation
    db.session.add(Guarantee(number=number, guarantor_id=guarantor.organisation_id,
                             guarantor_code=guarantor.organisation.credit_code, applicant_code=organisation.credit_code,
                             section_id=opened.section.id, amount=Decimal("20000.00"), valid_from=issued_at,
                             valid_to=issued_at + timedelta(days=120), issued_at=issued_at, document=b"{}",
                             sha256="0" * 64, status="issued", uploaded_at=issued_at, uploaded_by_id=guarantor.id))


def test_consecutive_guarantee_numbers_from_one_guarantor_within_the_short_time(demo):
    opened = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"))
    t = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    guarantor = demo["guarantor"]
    _guarantee(opened, "bidder1", "BH2026-000117", t, guarantor)
    _guarantee(opened, "bidder2", "BH2026-000118", t + timedelta(minutes=4), guarantor)
    _guarantee(opened, "bidder3", "BH2026-000119", t + timedelta(minutes=25), guarantor)  # next number, too late
    pair, = raised(opened)["consecutive_guarantees"]["pairs"]
    assert [g["number"] for g in pair["guarantees"]] == ["BH2026-000117", "BH2026-000118"]
    assert pair["minutes_apart"] == "4.0" and pair["guarantor_code"] == guarantor.organisation.credit_code
    assert pair["guarantees"][1]["bidder"]["name"] == demo["bidder2"].organisation.name

    near = Opened(demo, ("1000000.00", "1100000.00", "1300000.00"))
    _guarantee(near, "bidder1", "BH2026-000201", t, guarantor)
    _guarantee(near, "bidder2", "BH2026-000203", t + timedelta(minutes=1), guarantor)  # not consecutive
    assert "consecutive_guarantees" not in raised(near)


def test_identical_prices(demo):
    evidence = raised(Opened(demo, ("1000000.00", "1000000.00", "1300000.00")))
    price, = evidence["identical_prices"]["prices"]
    assert price["price"] == "1000000.00" and len(price["bidders"]) == 2
    assert "price_progression" not in evidence  # identical prices are not a progression
    assert "identical_prices" not in raised(Opened(demo, ("1000000.00", "1000000.01", "1300000.00")))


def test_prices_in_geometric_progression(demo):
    evidence = raised(Opened(demo, ("1000000.00", "1100000.00", "1210000.00")))["price_progression"]
    assert (evidence["geometric"], evidence["arithmetic"]) == (True, False)
    assert evidence["ratios"] == ["1.100000", "1.100000"]
    assert "price_progression" not in raised(Opened(demo, ("1000000.00", "1100000.00", "1250000.00")))
    assert "price_progression" not in raised(Opened(demo, ("1000000.00", "1010000.00", None)))  # two valid


def test_all_valid_prices_within_a_narrow_band_of_their_mean(demo):
    evidence = raised(Opened(demo, ("1000000.00", "1005000.00", "1012000.00")))["narrow_band"]
    assert evidence["threshold_percent"] == "1" and Decimal(evidence["max_deviation_percent"]) < 1
    assert evidence["mean"] == "1005666.67"
    assert "narrow_band" not in raised(Opened(demo, ("1000000.00", "1030000.00", "1012000.00")))
    assert "narrow_band" not in raised(Opened(demo, ("1000000.00", "1001000.00"), bidders=BIDDERS[:2]))


# Process.

def test_a_submission_period_shorter_than_the_statutory_minimum(demo):
    evidence = raised(Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), period_days=12))["short_period"]
    assert evidence["min_days"] == 20 and evidence["days"] == "12.00"
    assert "short_period" not in raised(Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), period_days=20))


def test_a_single_valid_bid(demo):
    evidence = raised(Opened(demo, ("1000000.00", "1100000.00", None), valid=(True, False, False)))["single_bid"]
    assert evidence["bids_opened"] == 3 and evidence["bids"][0]["bidder"]["name"] == demo["bidder1"].organisation.name
    assert "single_bid" not in raised(Opened(demo, ("1000000.00", "1100000.00", None)))


def test_a_gap_between_the_two_lowest_outside_the_interquartile_fences_of_the_history(demo):
    # Too little history: no flag whatever the gap.
    lonely = Opened(demo, ("1000000.00", "1300000.00"), bidders=BIDDERS[:2])
    assert "lowest_gap" not in raised(lonely)
    for i in range(20):  # gaps 2.0 % … 3.9 %
        Opened(demo, ("1000000.00", str(Decimal("1020000.00") + 1000 * i)), bidders=BIDDERS[:2])
    fences = red_flags.history_fences()
    assert fences.count == 21 and fences.q1 == Decimal("0.025") and fences.q3 == Decimal("0.035")
    evidence = raised(lonely)["lowest_gap"]
    assert evidence["side"] == "large" and evidence["gap_percent"] == "30.0000" and evidence["history"] == 21
    assert evidence["upper_fence_percent"] == "5.0000"
    close = raised(Opened(demo, ("1000000.00", "1000100.00"), bidders=BIDDERS[:2]))["lowest_gap"]
    assert close["side"] == "small"
    assert "lowest_gap" not in raised(Opened(demo, ("1000000.00", "1030000.00"), bidders=BIDDERS[:2]))


def test_every_bid_but_the_winners_disqualified(demo):
    opened = Opened(demo, ("1000000.00", "990000.00", None), valid=(True, False, False))
    opened.award("bidder1")
    evidence = raised(opened)["others_disqualified"]
    assert evidence["winner"]["name"] == demo["bidder1"].organisation.name
    assert names(evidence["disqualified"]) == {demo["bidder2"].organisation.name, demo["bidder3"].organisation.name}
    near = Opened(demo, ("1000000.00", "990000.00", None), valid=(True, True, False))
    near.award("bidder2")
    assert "others_disqualified" not in raised(near)


def test_the_lowest_bid_disqualified_under_lowest_price_evaluation(demo):
    evidence = raised(Opened(demo, ("1000000.00", "990000.00", "1100000.00"), valid=(True, False, True)))
    assert evidence["lowest_disqualified"]["lowest"]["price"] == "990000.00"
    assert evidence["lowest_disqualified"]["lowest_valid"]["price"] == "1000000.00"
    assert "lowest_disqualified" not in raised(Opened(demo, ("1000000.00", "990000.00", "1100000.00"),
                                                      valid=(True, False, True), method="comprehensive"))


def test_a_winning_price_within_half_a_percent_of_the_control_price(demo):
    opened = Opened(demo, ("998000.00", "1100000.00", "1300000.00"))
    opened.award("bidder1")
    evidence = raised(opened)["near_control"]
    assert evidence["deviation_percent"] == "0.2000" and evidence["control_price"] == "1000000.00"
    near = Opened(demo, ("994000.00", "1100000.00", "1300000.00"))
    near.award("bidder1")
    assert "near_control" not in raised(near)


def test_the_beat_computes_award_indicators_once_the_section_is_awarded(demo):
    opened = Opened(demo, ("998000.00", "1100000.00", "1300000.00"))
    db.session.commit()
    compute_due_red_flags()
    assert flags("near_control") == []
    opened.award("bidder1", when=clock.now() + timedelta(minutes=1))
    db.session.commit()
    assert compute_due_red_flags() == 1
    assert flags("near_control")[0].section_id == opened.section.id


# Concentration and splitting.

def test_one_supplier_winning_most_of_a_units_sections_in_a_year(demo):
    when = datetime(2025, 6, 1, 4, 0, tzinfo=timezone.utc)
    for winner in ("bidder1", "bidder1", "bidder2", "bidder1"):
        Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), now=when).award(winner, when=when)
    Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), unit="procuring2", now=when).award("bidder1", when=when)
    db.session.commit()
    assert red_flags.concentration(clock.now()) == []  # 3 of 4: too few sections to say
    Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), now=when).award("bidder3", when=when)
    flag, = red_flags.concentration(clock.now())
    assert flag.subject_key == f"unit:{demo['procuring'].organisation.credit_code}:2025"
    assert (flag.data["wins"], flag.data["sections"], flag.data["share_percent"]) == (3, 5, "60.0000")
    assert flag.data["winner"]["name"] == demo["bidder1"].organisation.name and flag.period == "2025-06"
    Opened(demo, ("1000000.00", "1100000.00", "1300000.00"), now=when).award("bidder2", when=when)
    assert red_flags.concentration(clock.now()) == []  # 3 of 6 is not more than half
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RedFlag)) == 1  # the flag raised stays


def _order(unit, supplier, listing, line, total: str, placed_at, category="computers"):
    order = Order(number=f"MO{next(NUMBERS):010d}", unit_id=unit.organisation_id, supplier_id=supplier.organisation_id,
                  budget_line_id=line.id, status="accepted", fiscal_year=placed_at.year, total=Decimal(total),
                  reserved=Decimal("0"), delivery_region="320102", delivery_address="南京", placed_at=placed_at,
                  confirm_by=placed_at + timedelta(hours=24))
    order.lines.append(OrderLine(listing_id=listing.id, category=category, name=listing.name, brand=listing.brand,
                                 model=listing.model, unit="台", quantity=1, unit_price=Decimal(total),
                                 amount=Decimal(total)))
    db.session.add(order)
    return order


def test_direct_purchases_just_under_the_limit_within_a_short_time(demo):
    mall_demo.load(clock.now())
    unit, supplier = demo["procuring"], demo["supplier"]
    listing = db.session.scalars(select(Listing).order_by(Listing.id)).first()
    line = db.session.scalars(select(BudgetLine).where(BudgetLine.unit_id == unit.organisation_id)).first()
    year_end = datetime(2025, 12, 28, 2, 0, tzinfo=timezone.utc)  # the annual cap resets on 1 January
    _order(unit, supplier, listing, line, "289000.00", year_end)
    _order(unit, supplier, listing, line, "295000.00", year_end + timedelta(days=12))
    _order(unit, supplier, listing, line, "250000.00", year_end + timedelta(days=13))  # 16.7 % under: not "just"
    _order(unit, supplier, listing, line, "299000.00", year_end + timedelta(days=40))  # outside the 30 days
    _order(unit, supplier, listing, line, "298000.00", year_end + timedelta(days=1), category="furniture")  # alone
    db.session.commit()
    flag, = red_flags.splitting(clock.now())
    assert [o["total"] for o in flag.data["orders"]] == ["289000.00", "295000.00"]
    assert flag.data["category"] == "computers" and flag.data["sum"] == "584000.00"
    assert flag.data["orders"][0]["limit"] == "300000.00" and flag.unit_code == unit.organisation.credit_code


# Recomputing, the CLI and the run page.

def test_recomputing_over_the_history_updates_open_flags_instead_of_duplicating(demo, app, login):
    opened = Opened(demo, ("1000000.00",), bidders=("bidder1",))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["supervision", "red-flags"])
    assert result.exit_code == 0, result.output
    flag = flags("single_bid")[0]
    opened.results["bidder1"].price = Decimal("900000.00")  # the evidence changes
    db.session.commit()
    run = RedFlagRun(requested_at=clock.now(), status="queued", checked=0, total=1, raised=0)
    db.session.add(run)
    db.session.flush()
    run_id = run.id
    db.session.commit()  # and no read after it: the task's own session writes
    recompute_red_flags(run_id)
    db.session.expire_all()
    assert [f.id for f in flags("single_bid")] == [flag.id]
    assert flags("single_bid")[0].data["bids"][0]["price"] == "900000.00"
    run = db.session.get(RedFlagRun, run_id)
    assert (run.status, run.checked, run.total) == ("passed", 1, 1)
    supervisor = login("supervisor")
    page = supervisor.get(f"/supervision/red-flags/runs/{run.id}")
    assert 'data-field="checked">1<' in page.text and "Done: 1 red flags raised or updated." in page.text
    status = supervisor.get(f"/supervision/red-flags/runs/{run.id}.json").get_json()
    assert status == {"status": "passed", "checked": 1, "total": 1, "raised": 1}


def test_counts_by_procuring_unit_and_period_are_a_table(demo, login):
    for unit in ("procuring", "procuring", "procuring2"):
        red_flags.compute_section(Opened(demo, ("1000000.00",), bidders=("bidder1",), unit=unit).section, clock.now())
    db.session.commit()
    rows = red_flags_counts(demo["supervisor"])
    assert sorted((r.unit_code, r.flags) for r in rows) == sorted(
        [(demo["procuring"].organisation.credit_code, 2), (demo["procuring2"].organisation.credit_code, 1)])
    page = login("supervisor").get(f"/supervision/red-flags?unit={demo['procuring2'].organisation.credit_code}&by=year")
    assert page.status_code == 200 and demo["procuring2"].organisation.name in page.text
    assert demo["procuring"].organisation.name not in page.text.split('id="red-flag-counts"')[1].split("</table>")[0]


def red_flags_counts(viewer):
    from supervision.red_flag_views import counts
    return counts({"kind": "", "status": "", "unit": "", "period": ""}, by_year=False, viewer=viewer)


# The lifecycle: every (state, action) pair, driven through the service and found in the journal.

@pytest.mark.parametrize("state", sorted(states.STATE_LABELS))
@pytest.mark.parametrize("action", states.SUPERVISOR_ACTIONS)
def test_every_state_and_supervisors_action_of_a_red_flag(demo, state, action):
    flag = flags_of(Opened(demo, ("1000000.00",), bidders=("bidder1",)), "single_bid")
    flag.status = state
    db.session.commit()
    if (state, action) in states.RED_FLAG:
        red_flags.decide(demo["supervisor"], flag, action, "理由", clock.now())
        db.session.commit()
        assert flag.status == states.RED_FLAG[(state, action)] and flag.decided_by_id == demo["supervisor"].id
        entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == f"supervision.red_flag.{action}")).one()
        assert json.loads(entry.body)["payload"]["reason"] == "理由"
    else:
        with pytest.raises(DomainError) as refused:
            red_flags.decide(demo["supervisor"], flag, action, "理由", clock.now())
        assert refused.value.code == "red_flag_transition_refused"


@pytest.mark.parametrize("action", sorted(set(states.ACTION_LABELS) - set(states.SUPERVISOR_ACTIONS)))
def test_withdrawing_and_raising_again_are_the_recomputations_not_a_supervisors(demo, action):
    flag = flags_of(Opened(demo, ("1000000.00",), bidders=("bidder1",)), "single_bid")
    with pytest.raises(DomainError) as refused:
        red_flags.decide(demo["supervisor"], flag, action, "理由", clock.now())
    assert refused.value.code == "action_unknown" and flag.status == "open"


def _journaled(action: str) -> list[dict]:
    return [json.loads(e.body) for e in db.session.scalars(
        select(JournalEntry).where(JournalEntry.action == f"supervision.red_flag.{action}"))]


@pytest.mark.parametrize("state", sorted(states.STATE_LABELS))
def test_a_flag_whose_facts_change_is_withdrawn_and_raised_again_by_the_recomputation(demo, login, state):
    """Every state meets both recomputation moves: the indicator stops firing (withdraw), then fires again
    (raise); only the pairs of the table move, a supervisor's decision stands."""
    opened = Opened(demo, ("1000000.00",), bidders=("bidder1",))
    flag = flags_of(opened, "single_bid")
    flag.status = state
    db.session.commit()
    only = opened.results["bidder1"]

    only.valid = False  # e.g. a complaint's decision: the single bid no longer stands, nothing is left to flag
    red_flags.compute_section(opened.section, clock.now())
    db.session.commit()
    withdrawn = states.RED_FLAG.get((state, "withdraw"), state)
    assert flag.status == withdrawn
    assert len(_journaled("withdraw")) == (1 if withdrawn != state else 0)
    if withdrawn == "withdrawn":
        page = login("supervisor").get(f"/supervision/red-flags/{flag.id}")
        assert "withdrawn" in page.text and 'name="reason"' not in page.text  # nothing left to decide

    only.valid = True  # the facts come back
    red_flags.compute_section(opened.section, clock.now())
    db.session.commit()
    assert flag.status == states.RED_FLAG.get((withdrawn, "raise"), withdrawn)
    assert len(_journaled("raise")) == (1 if withdrawn == "withdrawn" else 0)
    assert len(flags("single_bid", opened.section)) == 1  # one flag per kind and subject, never a second


def test_a_unit_no_longer_concentrated_has_its_flag_withdrawn(demo):
    code = demo["procuring"].organisation.credit_code
    flag = RedFlag(kind="concentration", subject_key=f"unit:{code}:2025", unit_code=code, unit_name="单位",
                   occurred_at=clock.now(), period="2025-06", evidence="{}", computed_at=clock.now(), status="open",
                   reason="")
    other = RedFlag(kind="concentration", subject_key="unit:OTHER:2025", unit_code="OTHER", unit_name="别的单位",
                    occurred_at=clock.now(), period="2025-06", evidence="{}", computed_at=clock.now(),
                    status="open", reason="")
    db.session.add_all([flag, other])
    db.session.commit()
    assert red_flags.concentration(clock.now(), {code}) == []  # no awards at all: nothing concentrated
    db.session.commit()
    assert (flag.status, other.status) == ("withdrawn", "open")  # a unit outside the computation is untouched


def test_only_a_supervisor_decides(demo):
    flag = flags_of(Opened(demo, ("1000000.00",), bidders=("bidder1",)), "single_bid")
    with pytest.raises(DomainError) as refused:
        red_flags.decide(demo["admin"], flag, "confirm", "理由", clock.now())
    assert refused.value.code == "not_supervisor" and flag.status == "open"


def test_thresholds_are_those_in_force_when_the_record_was_sealed(demo):
    from core import settings
    prices = ("1000000.00", "1030000.00", "1012000.00")  # within 1.6 % of their mean
    opened = Opened(demo, prices)
    db.session.commit()
    settings.change(demo["admin"], "flags.narrow_band_percent", "2", None, "test", clock.now())
    db.session.commit()
    assert "narrow_band" not in raised(opened)  # sealed under the 1 % in force then
    later = Opened(demo, prices, now=clock.now() + timedelta(hours=2))  # sealed under the 2 %
    assert raised(later)["narrow_band"]["threshold_percent"] == "2"


def test_a_supervisor_of_another_region_sees_none_of_its_flags(demo, login):
    opened = Opened(demo, ("1050000.00", "1000000.00", "1100000.00"), ips=("203.0.113.7", "203.0.113.7", "198.51.100.9"))
    db.session.commit()
    red_flags.compute_section(opened.section, clock.now())
    db.session.commit()
    flag = flags("same_ip", section=opened.section)[0]
    demo["supervisor"].organisation.region_code = "320500"  # 苏州市: the section is in 南京市
    db.session.commit()
    supervisor = login("supervisor")
    page = supervisor.get("/supervision/red-flags")
    assert page.status_code == 200 and opened.section.code not in page.text
    assert supervisor.get(f"/supervision/red-flags/{flag.id}").status_code == 404
    assert supervisor.post(f"/supervision/red-flags/{flag.id}/decision",
                           data={"action": "confirm", "reason": "x"}).status_code == 404


def test_a_recomputation_the_broker_cannot_take_is_reported_not_a_500(login, demo, monkeypatch):
    from supervision import tasks

    def broker_down(*_args):
        raise OSError("connection refused")
    monkeypatch.setattr(tasks.recompute_red_flags, "delay", broker_down)
    supervisor = login("supervisor")
    answer = supervisor.post("/supervision/red-flags/runs")
    assert answer.status_code == 303
    db.session.expire_all()
    run = db.session.scalars(select(RedFlagRun)).one()
    assert run.status == "error" and run.finished_at is not None
    assert supervisor.get(f"/supervision/red-flags/runs/{run.id}.json").get_json()["status"] == "error"


def test_a_unit_no_longer_splitting_orders_has_its_flag_withdrawn(demo):
    unit = demo["procuring"].organisation
    flag = RedFlag(kind="splitting", subject_key=f"unit:{unit.credit_code}:office_supplies:MO1", unit_code=unit.credit_code,
                   unit_name=unit.name, occurred_at=clock.now(), period="2026-11", evidence="{}",
                   computed_at=clock.now(), status="open", reason="")
    db.session.add(flag)
    db.session.commit()
    assert red_flags.splitting(clock.now(), {unit.id}) == []  # e.g. the orders were cancelled: no cluster left
    db.session.commit()
    assert flag.status == "withdrawn"
    assert [e["payload"]["subject"] for e in _journaled("withdraw")] == [flag.subject_key]
