"""Rooms: overlapping bookings are refused, also when requests race on PostgreSQL."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import DomainError
from core.extensions import db
from tender import rooms
from tender.models import Booking
from tests.conftest import require_service


def at(hours: float):
    return clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2, hours=hours)


def test_overlapping_bookings_are_refused_and_touching_ones_allowed(demo):
    centre, now = demo["centre"], clock.now()
    room = rooms.create_room(centre, "第一开标室", "opening", 40, now)
    rooms.book(centre, room, starts_at=at(9), ends_at=at(11), purpose="开标", now=now)
    with pytest.raises(DomainError) as taken:
        rooms.book(centre, room, starts_at=at(10), ends_at=at(12), purpose="评标", now=now)
    assert taken.value.code == "room_taken" and "第一开标室" in taken.value.message
    rooms.book(centre, room, starts_at=at(11), ends_at=at(12), purpose="评标", now=now)  # starts as the other ends
    other = rooms.create_room(centre, "评标室A", "evaluation", 12, now)
    rooms.book(centre, other, starts_at=at(10), ends_at=at(12), purpose="评标", now=now)


@pytest.mark.parametrize("start, end, code", [(11, 10, "booking_times_invalid"), (-60, -59, "booking_in_past"),
                                              (1, 24 * 8, "booking_too_long")])
def test_impossible_bookings_are_refused(demo, start, end, code):
    room = rooms.create_room(demo["centre"], "第二开标室", "opening", 20, clock.now())
    with pytest.raises(DomainError) as refused:
        rooms.book(demo["centre"], room, starts_at=at(start), ends_at=at(end), purpose="开标", now=clock.now())
    assert refused.value.code == code


def test_a_cancelled_booking_frees_the_room(demo):
    centre, now = demo["centre"], clock.now()
    room = rooms.create_room(centre, "第一开标室", "opening", 40, now)
    booking = rooms.book(centre, room, starts_at=at(9), ends_at=at(11), purpose="开标", now=now)
    rooms.cancel(centre, booking, now)
    rooms.book(centre, room, starts_at=at(9), ends_at=at(11), purpose="开标", now=now)


def test_concurrent_bookings_of_one_slot_on_postgresql_leave_exactly_one(app, demo):
    require_service("PostgreSQL", db.engine.dialect.name == "postgresql", "set TEST_DATABASE_URL")
    centre_id = demo["centre"].id
    room = rooms.create_room(demo["centre"], "第一开标室", "opening", 40, clock.now())
    db.session.commit()
    room_id, start = room.id, at(9)
    outcomes, barrier = [], threading.Barrier(8)

    def attempt(n: int):
        from accounts.models import User
        from tender.models import Room
        with app.app_context():
            barrier.wait()
            try:
                rooms.book(db.session.get(User, centre_id), db.session.get(Room, room_id),
                           starts_at=start + timedelta(minutes=n), ends_at=start + timedelta(hours=2),
                           purpose=f"开标 {n}", now=clock.now())
                db.session.commit()
                outcomes.append("booked")
            except DomainError as error:
                db.session.rollback()
                outcomes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["room_taken"] * 7
    assert db.session.scalar(select(func.count(Booking.id))) == 1
