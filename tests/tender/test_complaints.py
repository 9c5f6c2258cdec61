"""Complaints (投诉): every (state, action) pair through its service and in the journal; the 15 working
days to complain and the 30 to decide, across the 2026 National Day week; suspension of the procedure;
and the timeliness report per procuring unit."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import DomainError
from core.extensions import db
from core.models import DeadlineWarning, JournalEntry, Notification
from tender import challenges, complaints, states
from tests.tender.challenge_factories import PUBLISHED, beijing, challenge_in, complaint_in, open_section

STATES = sorted({s for s, _ in states.COMPLAINT} | set(states.COMPLAINT.values()))
ACTIONS = sorted({a for _, a in states.COMPLAINT})


def _journaled(action: str, complaint) -> bool:
    db.session.commit()
    return db.session.scalar(select(JournalEntry.seq).where(JournalEntry.action == action,
                                                           JournalEntry.subject_type == "complaint",
                                                           JournalEntry.subject_id == str(complaint.id))) is not None


def _do(demo, complaint, action, now):
    supervisor = demo["supervisor"]
    if action == "suspend":
        complaints.suspend(supervisor, complaint, "暂停采购活动", now)
    elif action == "resume":
        complaints.resume(supervisor, complaint, "恢复采购活动", now)
    elif action in ("uphold", "dismiss"):
        complaints.decide(supervisor, complaint, {"uphold": "upheld", "dismiss": "dismissed"}[action], "经调查", now)
    elif action == "withdraw":
        complaints.withdraw(demo["bidder1"], complaint, "已协商解决", now)
    else:
        raise AssertionError(action)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_complaint_state_and_action(demo, state, action):
    complaint = complaint_in(demo, state)
    expected = states.COMPLAINT.get((state, action))
    if expected:
        _do(demo, complaint, action, PUBLISHED + timedelta(hours=1))
        assert complaint.status == expected
        assert _journaled(f"tender.complaint.{action}", complaint)
    else:
        with pytest.raises(DomainError) as refused:
            _do(demo, complaint, action, PUBLISHED + timedelta(hours=1))
        assert refused.value.code == "complaint_transition_refused"
        db.session.rollback()
        assert not _journaled(f"tender.complaint.{action}", complaint)


def test_a_complaint_of_an_answer_within_fifteen_working_days_and_its_decision_due_in_thirty(demo):
    challenge = challenge_in(demo, "pending")
    answered = beijing(2026, 9, 30, 10, 0)
    challenges.answer(demo["procuring"], challenge, "答复", answered)
    basis, window = complaints.complaint_window(challenge)
    # 8, 9, 10 (Saturday worked), 12-16, 19-23, 26, 27 October: the 15th working day after 30 September.
    assert basis == "answer" and window.closes_at == beijing(2026, 10, 27, 23, 59, 59, 999999)
    with pytest.raises(DomainError) as late:
        complaints.file(demo["bidder1"], challenge, "答复不当", beijing(2026, 10, 28, 0, 0, 1))
    assert late.value.code == "complaint_window_closed"
    filed = beijing(2026, 10, 27, 20, 0)
    complaint = complaints.file(demo["bidder1"], challenge, "答复不当", filed)
    assert complaint.basis == "answer" and complaint.status == "filed"
    assert complaint.due_at == beijing(2026, 12, 8, 23, 59, 59, 999999)  # 30 working days after 27 October
    assert challenge.satisfied is False  # complaining says the answer does not satisfy
    assert _journaled("tender.complaint.filed", complaint)
    warning = db.session.scalar(select(DeadlineWarning).where(DeadlineWarning.key == f"complaint:{complaint.id}:decision"))
    assert warning.warn_at == complaint.due_at - timedelta(days=1)
    assert str(demo["supervisor"].id) in warning.user_ids.split(",")
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "complaint_filed")).all()
    assert demo["supervisor"].id in told and demo["procuring"].id in told


def test_an_unanswered_challenge_may_be_complained_of_once_its_due_date_passed(demo):
    challenge = challenge_in(demo, "pending")  # due 14 October
    with pytest.raises(DomainError) as early:
        complaints.file(demo["bidder1"], challenge, "未答复", beijing(2026, 10, 14, 12, 0))
    assert early.value.code == "complaint_too_early"
    basis, window = complaints.complaint_window(challenge)
    assert basis == "unanswered" and window.closes_at == beijing(2026, 11, 4, 23, 59, 59, 999999)
    complaint = complaints.file(demo["bidder1"], challenge, "未答复", beijing(2026, 10, 15, 9, 0))
    assert complaint.basis == "unanswered"
    with pytest.raises(DomainError) as twice:
        complaints.file(demo["bidder1"], challenge, "未答复", beijing(2026, 10, 15, 9, 0))
    assert twice.value.code == "already_complained"


def test_no_complaint_of_a_satisfying_answer_a_withdrawn_challenge_or_by_another_bidder(demo):
    satisfied = challenge_in(demo, "answered")
    challenges.rate(demo["bidder1"], satisfied, True, PUBLISHED)
    with pytest.raises(DomainError) as happy:
        complaints.file(demo["bidder1"], satisfied, "理由", PUBLISHED)
    assert happy.value.code == "challenge_satisfied"
    with pytest.raises(DomainError) as stranger:
        complaints.file(demo["bidder2"], satisfied, "理由", PUBLISHED)
    assert stranger.value.code == "not_challenger"
    withdrawn = challenge_in(demo, "withdrawn")
    with pytest.raises(DomainError) as gone:
        complaints.file(demo["bidder1"], withdrawn, "理由", PUBLISHED)
    assert gone.value.code == "challenge_withdrawn"


def test_suspension_stops_the_procedure_until_resumed_or_decided(demo):
    complaint = complaint_in(demo, "filed")
    section = complaint.section
    assert not challenges.procedure_suspended(section)
    with pytest.raises(DomainError) as not_supervisor:
        complaints.suspend(demo["centre"], complaint, "暂停", PUBLISHED)
    assert not_supervisor.value.code == "not_supervisor"
    complaints.suspend(demo["supervisor"], complaint, "暂停", PUBLISHED)
    assert complaint.suspended and complaint.procedure_suspended_at == PUBLISHED
    assert challenges.procedure_suspended(section)
    with pytest.raises(DomainError) as suspended:
        challenges.require_not_suspended(section)
    assert suspended.value.code == "procedure_suspended"
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "procedure_suspended")).all()
    assert set(told) == {demo["procuring"].id, demo["bidder1"].id}
    complaints.resume(demo["supervisor"], complaint, "恢复", PUBLISHED + timedelta(days=1))
    assert not challenges.procedure_suspended(section)
    complaints.suspend(demo["supervisor"], complaint, "再次暂停", PUBLISHED + timedelta(days=2))
    complaints.decide(demo["supervisor"], complaint, "dismissed", "投诉缺乏事实依据", PUBLISHED + timedelta(days=3))
    assert not challenges.procedure_suspended(section)
    assert complaint.outcome == "dismissed" and complaint.procedure_resumed_at == PUBLISHED + timedelta(days=3)


def test_a_decision_needs_an_outcome_and_a_reason_and_is_rated_once(demo):
    complaint = complaint_in(demo, "filed")
    with pytest.raises(DomainError) as outcome:
        complaints.decide(demo["supervisor"], complaint, "maybe", "理由", PUBLISHED)
    assert outcome.value.code == "outcome_invalid"
    with pytest.raises(DomainError) as reason:
        complaints.decide(demo["supervisor"], complaint, "upheld", " ", PUBLISHED)
    assert reason.value.code == "reason_invalid"
    with pytest.raises(DomainError) as early:
        complaints.rate(demo["bidder1"], complaint, True, PUBLISHED)
    assert early.value.code == "complaint_not_decided"
    complaints.decide(demo["supervisor"], complaint, "upheld", "答复确有不当", PUBLISHED)
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "complaint_decided")).all()
    assert demo["bidder1"].id in told
    complaints.rate(demo["bidder1"], complaint, True, PUBLISHED)
    with pytest.raises(DomainError) as again:
        complaints.rate(demo["bidder1"], complaint, True, PUBLISHED)
    assert again.value.code == "already_rated"


def test_an_undecided_complaint_past_its_due_date_is_noted_once(demo):
    complaint = complaint_in(demo, "filed")
    late = complaint.due_at + timedelta(minutes=1)
    assert complaints.note_overdue(complaint.due_at) == []
    assert complaints.note_overdue(late) == [complaint.id]
    assert complaints.note_overdue(late) == []
    assert _journaled("tender.complaint.overdue", complaint)


def test_timeliness_per_unit(demo):
    unit, supervisor = demo["procuring"], demo["supervisor"]
    section = open_section(demo)
    on_time = challenge_in(demo, "answered", section=section)  # answered at filing: on time
    challenges.rate(demo["bidder1"], on_time, True, PUBLISHED)
    late = challenge_in(demo, "pending", section=section)
    challenges.answer(unit, late, "迟复", beijing(2026, 10, 15, 9, 0))
    complaint = complaints.file(demo["bidder1"], late, "答复迟延且不当", beijing(2026, 10, 16, 9, 0))  # unsatisfied
    overdue = challenge_in(demo, "pending", section=section)
    recent = challenge_in(demo, "pending", section=section, now=beijing(2026, 10, 12, 9, 0))
    challenge_in(demo, "withdrawn", section=section)
    other_section = open_section(demo, unit="procuring2", bidders=("bidder2",))
    challenges.file(demo["bidder2"], other_section, "documents", "理由", PUBLISHED)
    complaints.decide(supervisor, complaint, "upheld", "经调查", beijing(2026, 10, 20, 9, 0))
    db.session.commit()

    report = {row.unit: row for row in complaints.timeliness(beijing(2026, 10, 16, 12, 0))}
    mine = report[unit.organisation.name]
    assert (mine.challenges_on_time, mine.challenges_late, mine.challenges_open) == (1, 1, 2)
    assert mine.challenges_overdue == 1  # due 14 October; the one filed on 12 October is due 21 October
    assert recent.due_at > beijing(2026, 10, 16, 12, 0) > overdue.due_at
    assert (mine.satisfied, mine.unsatisfied) == (1, 1)
    assert (mine.complaints_on_time, mine.complaints_late, mine.complaints_open, mine.complaints_upheld) == (1, 0, 0, 1)
    theirs = report[demo["procuring2"].organisation.name]
    assert (theirs.challenges_on_time, theirs.challenges_open, theirs.challenges_overdue) == (0, 1, 1)
    assert theirs.complaints_open == 0
