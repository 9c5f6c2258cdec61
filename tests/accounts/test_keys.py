"""Keyholders set, change and reset the PIN of their personal key; the PIN is never stored."""
import pytest
from sqlalchemy import select

from accounts import keys
from accounts.demo import DEMO_PIN
from accounts.models import PersonalKey
from core import clock
from core.crypto import custody
from core.errors import DomainError
from core.extensions import db


def refused(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_demo_keyholders_have_a_personal_key_and_others_none(demo):
    for name in ("centre", "procuring", "procuring2", "supervisor"):
        assert keys.current(demo[name]) is not None
    for name in ("admin", "bidder1", "guarantor", "supplier", "expert1"):
        assert keys.current(demo[name]) is None
    assert refused(lambda: keys.set_pin(demo["bidder1"], "12345678", "12345678", clock.now())) == "not_keyholder"


def test_change_keeps_the_key_and_reset_makes_a_new_one(demo):
    user, now = demo["centre"], clock.now()
    before = keys.current(user)
    public = before.public
    assert refused(lambda: keys.set_pin(user, "another-pin", "another-pin", now)) == "pin_set_already"
    assert refused(lambda: keys.change_pin(user, "wrong-pin-0", "new-pin-2026", "new-pin-2026", now)) == "pin_wrong"
    assert refused(lambda: keys.change_pin(user, DEMO_PIN, "short", "short", now)) == "pin_too_short"
    assert refused(lambda: keys.change_pin(user, DEMO_PIN, "new-pin-2026", "new-pin-2027", now)) == "pin_mismatch"
    changed = keys.change_pin(user, DEMO_PIN, "new-pin-2026", "new-pin-2026", now)
    assert changed.id == before.id and changed.public == public
    holder = keys.holder_name(user)
    assert custody.open_personal_key(custody.PersonalKey(changed.public, changed.box), holder, "new-pin-2026")
    reset = keys.reset_pin(user, "fresh-pin-2026", "fresh-pin-2026", now)
    assert reset.id != before.id and reset.public != public and before.retired_at == now
    assert keys.current(user) == reset


def test_the_pin_page(login, demo):
    page = login("procuring")
    assert "Your PIN is set" in page.get("/profile/pin").text
    answer = page.post("/profile/pin", data={"old_pin": DEMO_PIN, "pin": "unit-pin-2026", "repeated": "unit-pin-2026",
                                             "action": "change"})
    assert answer.status_code == 302
    wrong = page.post("/profile/pin", data={"old_pin": "nope-nope", "pin": "unit-pin-2027", "repeated": "unit-pin-2027",
                                            "action": "change"})
    assert wrong.status_code == 422 and "The PIN is not correct." in wrong.text
    rows = db.session.scalars(select(PersonalKey).where(PersonalKey.user_id == demo["procuring"].id)).all()
    assert all(b"unit-pin-2026" not in row.box for row in rows)
