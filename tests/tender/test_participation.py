"""Bidders register and download (every download recorded); questions are answered to all registered
bidders without naming the asker; an addendum close to the deadline moves it."""
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from core import clock, settings
from core.errors import DomainError
from core.extensions import db
from core.models import JournalEntry, Notification
from tender import participation, publication, rooms
from tender.participation import moved_deadline
from tender.models import Download
from tests.tender.factories import pdf


def refused(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_a_bidder_registers_once_and_only_while_the_section_is_open(demo, published):
    bidder = demo["bidder1"]
    participation.register(bidder, published, clock.now())
    assert refused(lambda: participation.register(bidder, published, clock.now())) == "already_registered"
    assert refused(lambda: participation.register(demo["procuring"], published, clock.now())) == "not_bidder"
    after = published.deadline + timedelta(seconds=1)
    assert refused(lambda: participation.register(demo["bidder2"], published, after)) == "section_not_open"


def test_every_download_is_recorded_with_time_address_and_program(login, demo, published):
    document = published.tender_notice.documents[0]
    url = f"/tender/sections/{published.id}/documents/{document.id}"
    bidder = login("bidder1")
    assert bidder.get(url).status_code == 403  # register first
    assert bidder.post(f"/tender/sections/{published.id}/register").status_code == 302
    answer = bidder.get(url, headers={"User-Agent": "BidBrowser/1.0"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")
    assert "attachment" in answer.headers["Content-Disposition"]
    row = db.session.scalars(select(Download)).one()
    assert (row.ip_address, row.user_agent, row.organisation_id) == ("203.0.113.9", "BidBrowser/1.0",
                                                                      demo["bidder1"].organisation_id)


def test_questions_are_answered_to_all_registered_bidders_without_the_askers_name(login, demo, published):
    now = clock.now()
    for name in ("bidder1", "bidder2"):
        participation.register(demo[name], published, now)
    question = participation.ask(demo["bidder1"], published, "工期能否延长至 200 天？", now)
    assert refused(lambda: participation.ask(demo["bidder3"], published, "?", now)) == "not_registered"
    # Before the answer, another bidder does not see the question at all.
    assert participation.visible_clarifications(demo["bidder2"], published) == []
    participation.answer(demo["procuring"], question, "不可以，工期不变。", now)
    assert refused(lambda: participation.answer(demo["procuring"], question, "again", now)) == "already_answered"
    db.session.commit()
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "clarification_answered")).all()
    assert sorted(told) == sorted([demo["bidder1"].id, demo["bidder2"].id])
    page = login("bidder2").get(f"/tender/sections/{published.id}/clarifications")
    assert "工期能否延长至 200 天？" in page.text and "不可以，工期不变。" in page.text
    for asker in ("华建", demo["bidder1"].organisation.name, demo["bidder1"].name, "yours"):
        assert asker not in page.text


def test_asking_through_the_page(login, demo, published):
    bidder = login("bidder1")
    bidder.post(f"/tender/sections/{published.id}/register")
    assert bidder.post(f"/tender/sections/{published.id}/questions", data={"question": ""}).status_code == 400
    assert bidder.post(f"/tender/sections/{published.id}/questions", data={"question": "付款方式？"}).status_code == 302
    assert "付款方式？" in bidder.get(f"/tender/sections/{published.id}/clarifications").text


def test_the_moved_deadline_keeps_the_opening_hour():
    tz = timezone.utc
    deadline = datetime(2026, 12, 20, 1, 30, tzinfo=tz)  # 09:30 Beijing time
    now = datetime(2026, 12, 10, 8, 0, tzinfo=tz)  # 16:00 Beijing time, 10 days before
    moved = participation.moved_deadline(deadline, now, 15)
    assert moved == datetime(2026, 12, 26, 1, 30, tzinfo=tz)  # 09:30 on the first day that leaves 15 days
    assert moved - now >= timedelta(days=15)
    assert participation.moved_deadline(deadline, now - timedelta(days=10), 15) == deadline


def test_an_addendum_less_than_15_days_before_the_deadline_moves_it(demo, published):
    participation.register(demo["bidder1"], published, clock.now())
    before = published.deadline
    with time_machine.travel(before - timedelta(days=10), tick=False):
        notice = participation.addendum(demo["procuring"], published, title="补遗一", body="工程量清单更正",
                                        documents=[pdf("清单.pdf")], now=clock.now())
        assert notice.deadline_before == before and published.deadline == notice.deadline_after
        assert published.deadline - clock.now() >= timedelta(days=15)
        db.session.commit()
    told = db.session.scalars(select(Notification).where(Notification.kind == "addendum")).one()
    assert told.user_id == demo["bidder1"].id and "投标截止时间顺延至北京时间" in told.body


def test_an_addendum_that_moves_the_deadline_moves_the_opening_rooms_where_they_are_free(demo, published):
    centre, before = demo["centre"], published.deadline
    opening_room = rooms.create_room(centre, "第一开标室", "opening", 40, clock.now())
    evaluation_room = rooms.create_room(centre, "第二评标室", "evaluation", 12, clock.now())
    hour = timedelta(hours=1)
    kept = rooms.book(centre, opening_room, starts_at=before - 3 * hour, ends_at=before - 2 * hour, purpose="答疑会",
                      section=published, now=clock.now())
    opening = rooms.book(centre, opening_room, starts_at=before - hour, ends_at=before + 2 * hour, purpose="开标",
                         section=published, now=clock.now())
    evaluation = rooms.book(centre, evaluation_room, starts_at=before + 3 * hour, ends_at=before + 8 * hour,
                            purpose="评标", section=published, now=clock.now())
    with time_machine.travel(before - timedelta(days=10), tick=False):
        after = moved_deadline(before, clock.now(), 15)
        # Someone else holds the evaluation room at the new time.
        rooms.book(centre, evaluation_room, starts_at=after + 4 * hour, ends_at=after + 5 * hour, purpose="其他项目评标",
                   now=clock.now())
        participation.addendum(demo["procuring"], published, title="补遗一", body="延期", documents=[],
                               now=clock.now())
        db.session.commit()
    assert published.deadline == after
    assert (opening.starts_at, opening.ends_at) == (after - hour, after + 2 * hour)  # moved with the opening
    assert (kept.starts_at, evaluation.starts_at) == (before - 3 * hour, before + 3 * hour)  # before it / room taken
    told = db.session.scalars(select(Notification).where(Notification.kind == "booking_stuck")).one()
    assert told.user_id == centre.id and "第二评标室" in told.body and "评标" in told.body
    moved = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "tender.room.booking_moved")).all()
    assert [json.loads(e.payload)["booking"] for e in moved] == [opening.id]


def test_an_addendum_early_enough_leaves_the_deadline_and_the_setting_counts(demo, published):
    before = published.deadline
    notice = participation.addendum(demo["centre"], published, title="补遗", body="更正", documents=[],
                                    now=clock.now())
    assert notice.deadline_after is None and published.deadline == before
    settings.change(demo["admin"], "tender.addendum_min_days", "30", None, "新规", clock.now())
    participation.addendum(demo["centre"], published, title="补遗二", body="更正", documents=[], now=clock.now())
    assert published.deadline - clock.now() >= timedelta(days=30)


def test_the_section_closes_to_bids_at_its_deadline(demo, published):
    assert publication.close_due(published.deadline - timedelta(milliseconds=1)) == []
    assert publication.close_due(published.deadline) == [published.id]
    assert published.status == "closed"
    assert refused(lambda: participation.register(demo["bidder1"], published, published.deadline)) == "section_not_open"


def test_a_failed_section_is_tendered_again_as_a_linked_round(demo, published):
    centre, now = demo["centre"], clock.now()
    assert refused(lambda: publication.retender(centre, published, now)) == "not_failed"
    publication.close_due(published.deadline)
    publication.fail(centre, published, "投标人不足三家", now)
    again = publication.retender(centre, published, now, method="competitive_negotiation")
    assert (again.previous, again.round, again.status, again.method) == (published, 2, "accepted", "competitive_negotiation")
    assert again.code == published.code + "-R2"
    assert refused(lambda: publication.retender(centre, published, now)) == "already_retendered"
    notice = publication.publish(centre, again, title="第二轮", body="重新招标", deadline=now + timedelta(days=4),
                                 documents=[pdf()], now=now)
    assert notice.section.status == "published"  # 3 days suffice for competitive negotiation
