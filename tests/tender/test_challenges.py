"""Challenges (质疑): every (state, action) pair of the lifecycle through its service and in the journal,
the working-day windows and due dates across the 2026 National Day week (1-7 October off, Saturday
10 October worked), extensions, warnings, overdue challenges and the hold on the award."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import notifications
from core.errors import DomainError
from core.extensions import db
from core.models import DeadlineWarning, JournalEntry, Notification
from tender import challenges, participation, states
from tests.tender.challenge_factories import PUBLISHED, beijing, challenge_in, open_section

STATES = sorted({s for s, _ in states.CHALLENGE} | set(states.CHALLENGE.values()))
ACTIONS = sorted({a for _, a in states.CHALLENGE})
END_OF_14_OCTOBER = beijing(2026, 10, 14, 23, 59, 59, 999999)


def _journaled(action: str, challenge) -> bool:
    db.session.flush()
    db.session.commit()
    return db.session.scalar(select(JournalEntry.seq).where(JournalEntry.action == action,
                                                           JournalEntry.subject_type == "challenge",
                                                           JournalEntry.subject_id == str(challenge.id))) is not None


def _do(demo, challenge, action, now):
    unit, supervisor = demo["procuring"], demo["supervisor"]
    if action == "answer":
        challenges.answer(unit, challenge, "答复如下。", now)
    elif action == "extend":
        challenges.extend(unit, challenge, 2, "需要时间", now)
    elif action == "withdraw":
        challenges.withdraw(demo["bidder1"], challenge, now)
    elif action == "request_extension":
        challenges.request_extension(unit, challenge, 4, "需要时间", now)
    elif action in ("approve_extension", "refuse_extension"):
        challenges.decide_extension(supervisor, challenge, action == "approve_extension", "理由", now)
    else:
        raise AssertionError(action)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_challenge_state_and_action(demo, state, action):
    challenge = challenge_in(demo, state)
    expected = states.CHALLENGE.get((state, action))
    if expected:
        _do(demo, challenge, action, PUBLISHED + timedelta(hours=1))
        assert challenge.status == expected
        assert _journaled(f"tender.challenge.{action}", challenge)
    else:
        with pytest.raises(DomainError) as refused:
            _do(demo, challenge, action, PUBLISHED + timedelta(hours=1))
        assert refused.value.code == "challenge_transition_refused"
        db.session.rollback()
        assert not _journaled(f"tender.challenge.{action}", challenge)


def test_filing_is_journaled_and_the_answer_is_due_in_seven_working_days_across_national_day(demo):
    challenge = challenge_in(demo, "pending")
    # 30 Sep, 8, 9, 10 (Saturday worked in lieu), 12, 13, 14 Oct: not 8 October as Monday-to-Friday would say.
    assert challenge.due_at == END_OF_14_OCTOBER
    assert challenge.first_due_at == END_OF_14_OCTOBER
    assert _journaled("tender.challenge.filed", challenge)
    unit_told = db.session.scalars(select(Notification).where(Notification.user_id == demo["procuring"].id,
                                                              Notification.kind == "challenge_filed")).all()
    assert len(unit_told) == 1 and "2026-10-14" in unit_told[0].body


def test_the_documents_may_be_challenged_until_the_seventh_working_day_after_publication(demo):
    section = open_section(demo)
    window = challenges.challenge_window(section, "documents")
    assert window.event_at == PUBLISHED and window.closes_at == END_OF_14_OCTOBER
    challenges.file(demo["bidder1"], section, "documents", "条款排斥潜在投标人", beijing(2026, 10, 14, 23, 0))
    with pytest.raises(DomainError) as late:
        challenges.file(demo["bidder1"], section, "documents", "条款排斥潜在投标人", beijing(2026, 10, 15, 0, 0, 1))
    assert late.value.code == "challenge_window_closed"


def test_an_addendum_opens_a_new_window_for_the_documents(demo):
    section = open_section(demo)
    addendum_at = beijing(2026, 10, 13, 9, 0)
    participation.addendum(demo["procuring"], section, title="补遗一", body="修改技术参数", documents=[],
                           now=addendum_at)
    window = challenges.challenge_window(section, "documents")
    assert window.event_at == addendum_at
    assert window.closes_at == beijing(2026, 10, 22, 23, 59, 59, 999999)  # 14, 15, 16, 19, 20, 21, 22
    challenges.file(demo["bidder1"], section, "documents", "补遗更改了评审因素", beijing(2026, 10, 20, 9, 0))


def test_the_opening_is_challenged_from_the_deadline_and_the_result_only_once_publicised(demo):
    section = open_section(demo)
    with pytest.raises(DomainError) as early:
        challenges.file(demo["bidder1"], section, "opening", "开标程序违法", PUBLISHED + timedelta(days=1))
    assert early.value.code == "challenge_too_early"
    challenge = challenges.file(demo["bidder1"], section, "opening", "开标程序违法", section.deadline + timedelta(hours=2))
    assert challenge.event_at == section.deadline
    with pytest.raises(DomainError) as result:
        challenges.file(demo["bidder1"], section, "result", "中标候选人资格不符", section.deadline + timedelta(days=2))
    assert result.value.code == "challenge_not_publicised"
    section.publicised_at = section.deadline + timedelta(days=1)  # what the evaluation's publicity will set
    assert challenges.challenge_window(section, "result").event_at == section.publicised_at


def test_only_a_registered_bidder_challenges_and_with_grounds(demo):
    section = open_section(demo)
    for user in (demo["bidder2"], demo["procuring"]):
        with pytest.raises(DomainError) as refused:
            challenges.file(user, section, "documents", "理由", PUBLISHED)
        assert refused.value.code == "not_registered"
    with pytest.raises(DomainError) as empty:
        challenges.file(demo["bidder1"], section, "documents", "   ", PUBLISHED)
    assert empty.value.code == "grounds_invalid"
    with pytest.raises(DomainError) as subject:
        challenges.file(demo["bidder1"], section, "everything", "理由", PUBLISHED)
    assert subject.value.code == "challenge_subject_invalid"


def test_the_first_extension_is_at_most_five_working_days_and_moves_the_due_date(demo):
    challenge = challenge_in(demo, "pending")
    unit = demo["procuring"]
    with pytest.raises(DomainError) as too_long:
        challenges.extend(unit, challenge, 6, "需要时间", PUBLISHED)
    assert too_long.value.code == "extension_days_invalid"
    challenges.extend(unit, challenge, 5, "需要时间", beijing(2026, 10, 14, 18, 0))
    assert challenge.due_at == beijing(2026, 10, 21, 23, 59, 59, 999999)  # 15, 16, 19, 20, 21
    assert challenge.extensions[0].due_before == END_OF_14_OCTOBER


def test_the_second_extension_needs_a_supervisors_approval(demo):
    challenge = challenge_in(demo, "extended")  # 3 working days: due 19 October
    due = challenge.due_at
    assert due == beijing(2026, 10, 19, 23, 59, 59, 999999)
    unit = demo["procuring"]
    with pytest.raises(DomainError) as too_long:
        challenges.request_extension(unit, challenge, 11, "需要时间", PUBLISHED)
    assert too_long.value.code == "extension_days_invalid"
    challenges.request_extension(unit, challenge, 10, "需要时间", PUBLISHED)
    assert challenge.due_at == due  # asking moves nothing
    with pytest.raises(DomainError) as not_supervisor:
        challenges.decide_extension(unit, challenge, True, "", PUBLISHED)
    assert not_supervisor.value.code == "not_supervisor"
    with pytest.raises(DomainError) as twice:
        challenges.extend(unit, challenge, 5, "再延一次", PUBLISHED)
    assert twice.value.code == "challenge_transition_refused"
    supervisors_told = db.session.scalars(select(Notification).where(
        Notification.user_id == demo["supervisor"].id, Notification.kind == "challenge_extension_requested")).all()
    assert len(supervisors_told) == 1
    challenges.decide_extension(demo["supervisor"], challenge, True, "", PUBLISHED)
    assert challenge.due_at == beijing(2026, 11, 2, 23, 59, 59, 999999)  # 20-23, 26-30 October, 2 November
    assert [e.status for e in challenge.extensions] == ["granted", "approved"]


def test_a_refused_second_extension_keeps_the_due_date_and_needs_a_reason(demo):
    challenge = challenge_in(demo, "extension_requested")
    due = challenge.due_at
    with pytest.raises(DomainError) as no_reason:
        challenges.decide_extension(demo["supervisor"], challenge, False, "", PUBLISHED)
    assert no_reason.value.code == "reason_invalid"
    challenges.decide_extension(demo["supervisor"], challenge, False, "理由不足", PUBLISHED)
    assert challenge.due_at == due and challenge.status == "extension_refused"


def test_no_extension_after_the_due_date(demo):
    challenge = challenge_in(demo, "pending")
    with pytest.raises(DomainError) as overdue:
        challenges.extend(demo["procuring"], challenge, 2, "需要时间", beijing(2026, 10, 15, 9, 0))
    assert overdue.value.code == "challenge_overdue"


def _warning(challenge):
    return db.session.scalar(select(DeadlineWarning).where(DeadlineWarning.key == f"challenge:{challenge.id}:answer"))


def _warned(user) -> int:
    return len(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == notifications.DEADLINE_WARNING)).all())


def test_the_unit_is_warned_one_day_before_each_due_date(demo):
    challenge = challenge_in(demo, "pending")
    unit = demo["procuring"]
    assert _warning(challenge).warn_at == END_OF_14_OCTOBER - timedelta(days=1)
    assert notifications.send_due_warnings(END_OF_14_OCTOBER - timedelta(days=1, seconds=1)) == 0
    assert notifications.send_due_warnings(END_OF_14_OCTOBER - timedelta(days=1)) == 1
    assert _warned(unit) == 1
    challenges.extend(unit, challenge, 5, "需要时间", beijing(2026, 10, 14, 9, 0))
    assert _warning(challenge).warn_at == challenge.due_at - timedelta(days=1)  # the new due date, warned afresh
    assert notifications.send_due_warnings(challenge.due_at - timedelta(days=1)) == 1
    assert _warned(unit) == 2


def test_an_answer_cancels_the_warning_and_reaches_only_the_challenger(demo):
    section = open_section(demo, bidders=("bidder1", "bidder2"))
    challenge = challenge_in(demo, "pending", section=section)
    challenges.answer(demo["procuring"], challenge, "评分标准符合法规。", PUBLISHED + timedelta(days=1))
    assert _warning(challenge).cancelled_at is not None
    assert notifications.send_due_warnings(END_OF_14_OCTOBER - timedelta(hours=1)) == 0
    told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "challenge_answered"))}
    assert told == {demo["bidder1"].id}
    assert challenge.can_view(demo["bidder1"]) and not challenge.can_view(demo["bidder2"])
    assert challenge.can_view(demo["supervisor"]) and challenge.can_view(demo["centre"])
    assert challenge.can_view(demo["procuring"]) and not challenge.can_view(demo["procuring2"])


def test_a_late_answer_is_taken_and_journaled_as_late(demo):
    challenge = challenge_in(demo, "pending")
    challenges.answer(demo["procuring"], challenge, "迟到的答复", beijing(2026, 10, 15, 9, 0))
    db.session.commit()
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.action == "tender.challenge.answer"))
    assert json.loads(entry.payload)["on_time"] is False


def test_an_overdue_challenge_is_noted_once_and_the_challenger_told_it_may_complain(demo):
    challenge = challenge_in(demo, "pending")
    assert challenges.note_overdue(END_OF_14_OCTOBER) == []
    assert challenges.note_overdue(beijing(2026, 10, 15, 0, 1)) == [challenge.id]
    assert challenges.note_overdue(beijing(2026, 10, 15, 0, 2)) == []
    assert challenge.is_overdue(beijing(2026, 10, 15, 0, 1))
    told = db.session.scalars(select(Notification).where(Notification.kind == "challenge_overdue",
                                                         Notification.user_id == demo["bidder1"].id)).all()
    assert len(told) == 1 and "15" in told[0].body
    assert _journaled("tender.challenge.overdue", challenge)


def test_the_beat_task_notes_overdue_challenges(demo):
    import time_machine

    from tender.challenge_tasks import note_overdue
    challenge_in(demo, "pending")
    db.session.commit()
    with time_machine.travel(beijing(2026, 10, 16, 9, 0), tick=False):
        assert note_overdue() == 1  # the task's own body, as the worker runs it
        assert note_overdue() == 0


def test_a_pending_challenge_holds_the_award_until_answered(demo):
    section = open_section(demo)
    assert not challenges.holds_award(section)
    challenges.require_no_pending(section)
    challenge = challenge_in(demo, "extension_requested", section=section)
    assert challenges.holds_award(section)
    with pytest.raises(DomainError) as held:
        challenges.require_no_pending(section)
    assert held.value.code == "challenge_pending"
    challenges.answer(demo["procuring"], challenge, "答复", PUBLISHED)
    assert not challenges.holds_award(section)
    challenge_in(demo, "withdrawn", section=section)
    assert not challenges.holds_award(section)


def test_the_challenger_rates_the_answer_once(demo):
    challenge = challenge_in(demo, "pending")
    with pytest.raises(DomainError) as early:
        challenges.rate(demo["bidder1"], challenge, True, PUBLISHED)
    assert early.value.code == "challenge_not_answered"
    challenges.answer(demo["procuring"], challenge, "答复", PUBLISHED)
    with pytest.raises(DomainError) as stranger:
        challenges.rate(demo["bidder2"], challenge, True, PUBLISHED)
    assert stranger.value.code == "not_challenger"
    challenges.rate(demo["bidder1"], challenge, False, PUBLISHED)
    assert challenge.satisfied is False
    with pytest.raises(DomainError) as again:
        challenges.rate(demo["bidder1"], challenge, True, PUBLISHED)
    assert again.value.code == "already_rated"
    assert _journaled("tender.challenge.rated", challenge)


# The pages and the API.

def test_a_bidder_files_on_the_page_the_unit_answers_and_only_the_parties_see_it(demo, login):
    from core import clock
    section = open_section(demo, now=clock.now(), bidders=("bidder1", "bidder2"))
    db.session.commit()
    unit = login("procuring")
    assert 'id="challenges-link"' in unit.get(f"/tender/sections/{section.id}").text
    bidder = login("bidder1")
    page = bidder.get(f"/tender/sections/{section.id}/challenges")
    assert page.status_code == 200 and 'id="challenge-form"' in page.text
    refused = bidder.post(f"/tender/sections/{section.id}/challenges", data={"subject": "opening", "grounds": "开标违法"})
    assert refused.status_code == 409 and "has not happened yet" in refused.text
    filed = bidder.post(f"/tender/sections/{section.id}/challenges",
                        data={"subject": "documents", "grounds": "评分标准含有倾向性条款"})
    assert filed.status_code == 302
    detail = filed.location
    assert "评分标准含有倾向性条款" in unit.get(detail).text
    assert login("bidder2").get(detail).status_code == 404
    assert login("procuring2").get(detail).status_code == 404
    answered = unit.post(detail + "/answer", data={"answer": "评分标准符合法规。"})
    assert answered.status_code == 302
    page = bidder.get(detail).text
    assert "评分标准符合法规。" in page and 'id="rating-form"' in page
    assert bidder.post(detail + "/rate", data={"satisfied": "no"}).status_code == 302
    assert 'id="complaint-form"' in bidder.get(detail).text
    complained = bidder.post(detail + "/complaint", data={"grounds": "答复未回应质疑事项"})
    assert complained.status_code == 302 and "/tender/complaints/" in complained.location
    supervisor = login("supervisor")
    assert 'id="decision-form"' in supervisor.get(complained.location).text
    assert supervisor.post(complained.location + "/suspend", data={"reason": "暂停"}).status_code == 302
    assert challenges.procedure_suspended(section)
    assert supervisor.post(complained.location + "/decide",
                           data={"outcome": "dismissed", "reason": "缺乏事实依据"}).status_code == 302
    assert "缺乏事实依据" in bidder.get(complained.location).text
    report = supervisor.get("/tender/challenges/timeliness")
    assert report.status_code == 200 and demo["procuring"].organisation.name in report.text


def test_the_unit_asks_and_a_supervisor_approves_the_second_extension_on_the_pages(demo, login):
    from core import clock
    challenge = challenge_in(demo, "extended", section=open_section(demo, now=clock.now()), now=clock.now())
    db.session.commit()
    due = challenge.due_at
    unit, supervisor = login("procuring"), login("supervisor")
    url = f"/tender/challenges/{challenge.id}"
    assert 'id="extension-request-form"' in unit.get(url).text
    assert unit.post(url + "/extension-request", data={"days": "10", "reason": "需要行业主管部门意见"}).status_code == 302
    refused = supervisor.post(url + "/extension-decision", data={"decision": "refuse"})
    assert refused.status_code == 422 and "Say why the second extension is refused." in refused.text
    assert supervisor.post(url + "/extension-decision", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert challenge.status == "extended_twice" and challenge.due_at > due


def test_the_api_files_once_per_idempotency_key_and_the_unit_answers(demo, client):
    from accounts import tokens
    from core import clock
    section = open_section(demo, now=clock.now())
    _t, bidder_token = tokens.create(demo["bidder1"], "test", 30, clock.now())
    _t, unit_token = tokens.create(demo["procuring"], "test", 30, clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {bidder_token}", "Idempotency-Key": "challenge-1"}
    body = {"subject": "documents", "grounds": "评分标准含有倾向性条款"}
    first = client.post(f"/api/v1/tender/sections/{section.id}/challenges", json=body, headers=headers)
    again = client.post(f"/api/v1/tender/sections/{section.id}/challenges", json=body, headers=headers)
    assert first.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert first.get_json()["status"] == "pending" and first.get_json()["overdue"] is False
    bad = client.post(f"/api/v1/tender/sections/{section.id}/challenges", json={"subject": "result", "grounds": "x"},
                      headers={"Authorization": f"Bearer {bidder_token}"})
    assert bad.status_code == 409 and bad.get_json()["error"]["code"] == "challenge_not_publicised"
    answered = client.post(f"/api/v1/tender/challenges/{first.get_json()['id']}/answer", json={"answer": "答复"},
                           headers={"Authorization": f"Bearer {unit_token}"})
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    listed = client.get("/api/v1/tender/challenges", headers={"Authorization": f"Bearer {bidder_token}"}).get_json()
    assert [c["answer"] for c in listed["challenges"]] == ["答复"]
