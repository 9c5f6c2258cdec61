"""Opening and evaluation rooms, booked for time ranges; two bookings of one room never overlap.

Two requests racing for one slot are serialised on the room's row (SELECT … FOR UPDATE on PostgreSQL;
SQLite's write transactions are serialised already), so the second sees the first and is refused. A
row lock works on every backend and needs no extension, unlike an exclusion constraint.
"""
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from core import clock, journal, notifications
from core.errors import DomainError
from core.extensions import db
from tender.models import ROOM_KINDS, Booking, Room, Section


def create_room(actor: User, name, kind: str, seats, now: datetime) -> Room:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise DomainError("name_invalid", _("Give the room a name of at most 100 characters."))
    if kind not in ROOM_KINDS:
        raise DomainError("room_kind_invalid", _("A room is an opening room or an evaluation room."))
    if isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= 10000:
        raise DomainError("seats_invalid", _("Seats is a whole number from 0 to 10000."))
    if db.session.scalar(select(Room.id).where(Room.name == name)):
        raise DomainError("room_exists", _("There is a room with that name already."), 409)
    room = Room(name=name, kind=kind, seats=seats)
    db.session.add(room)
    db.session.flush()
    journal.record("tender.room.created", "room", room.id, {"name": name, "kind": kind, "seats": seats},
                   actor=actor, now=now)
    return room


def overlapping(room_id: int, starts_at: datetime, ends_at: datetime):
    return select(Booking).where(Booking.room_id == room_id, Booking.cancelled_at.is_(None),
                                 Booking.starts_at < ends_at, Booking.ends_at > starts_at)


def book(actor: User, room: Room, *, starts_at: datetime, ends_at: datetime, purpose,
         section: Section | None = None, now: datetime) -> Booking:
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise DomainError("booking_times_invalid", _("A booking ends after it starts."))
    if starts_at < now:
        raise DomainError("booking_in_past", _("A room cannot be booked for a time that has passed."))
    if (ends_at - starts_at).days >= 7:
        raise DomainError("booking_too_long", _("A booking lasts less than a week."))
    purpose = purpose.strip() if isinstance(purpose, str) else ""
    if not purpose or len(purpose) > 200:
        raise DomainError("purpose_invalid", _("Say what the room is booked for (at most 200 characters)."))
    # Lock the room: whoever books it next waits here and then sees this booking.
    db.session.scalar(select(Room).where(Room.id == room.id).with_for_update())
    clash = db.session.scalars(overlapping(room.id, starts_at, ends_at).order_by(Booking.starts_at)).first()
    if clash is not None:
        raise DomainError("room_taken", _("%(room)s is booked from %(start)s to %(end)s Beijing time; choose another "
                                          "time or room.", room=room.name,
                                          start=clock.local(clash.starts_at).strftime("%Y-%m-%d %H:%M"),
                                          end=clock.local(clash.ends_at).strftime("%H:%M")), 409)
    booking = Booking(room=room, section=section, starts_at=starts_at, ends_at=ends_at, purpose=purpose,
                      booked_by_id=actor.id, booked_at=now)
    db.session.add(booking)
    db.session.flush()
    journal.record("tender.room.booked", "room", room.id,
                   {"booking": booking.id, "starts_at": starts_at, "ends_at": ends_at, "purpose": purpose,
                    "section": section.id if section else None}, actor=actor, now=now)
    return booking


def follow_deadline(actor: User, section: Section, before: datetime, after: datetime, now: datetime) -> list[Booking]:
    """An addendum moved the section's opening from ``before`` to ``after``: its bookings from the old opening on
    (the opening's room, and the evaluation's after it) move by as much where their room is free then. Those
    that cannot move stay where they were, and whoever booked them is told to book again. Returns those."""
    shift, stuck = after - before, []
    for booking in db.session.scalars(select(Booking).where(Booking.section_id == section.id,
                                                            Booking.cancelled_at.is_(None), Booking.ends_at > before)
                                      .order_by(Booking.starts_at, Booking.id)).all():
        room = db.session.scalar(select(Room).where(Room.id == booking.room_id).with_for_update())
        starts_at, ends_at = booking.starts_at + shift, booking.ends_at + shift
        clash = db.session.scalars(overlapping(room.id, starts_at, ends_at).where(Booking.id != booking.id)).first()
        if clash is None:
            booking.starts_at, booking.ends_at = starts_at, ends_at
            journal.record("tender.room.booking_moved", "room", room.id,
                           {"booking": booking.id, "section": section.id, "starts_at": starts_at, "ends_at": ends_at},
                           actor=actor, now=now)
            continue
        stuck.append(booking)
        notifications.notify([booking.booked_by_id], "booking_stuck",
                             _l("Book a room again for %(code)s", code=section.code),
                             _l("The opening of %(code)s moved to %(when)s Beijing time, but %(room)s is booked then: "
                               "your booking (%(purpose)s) stays at its old time. Book another room or time.",
                               code=section.code, when=clock.local(after).strftime("%Y-%m-%d %H:%M"),
                               room=room.name, purpose=booking.purpose), "/tender/rooms", now)
    return stuck


def cancel(actor: User, booking: Booking, now: datetime) -> Booking:
    if booking.cancelled_at is not None:
        raise DomainError("booking_cancelled", _("This booking is cancelled already."), 409)
    booking.cancelled_at = now
    journal.record("tender.room.booking_cancelled", "room", booking.room_id, {"booking": booking.id},
                   actor=actor, now=now)
    return booking


def upcoming(now: datetime):
    return (select(Booking).where(Booking.cancelled_at.is_(None), Booking.ends_at > now)
            .order_by(Booking.starts_at, Booking.room_id))
