"""The mall's rows of tests/access_expectations.yaml, asked with real mall objects: every mall route × every
role, and the routes taking ids with another organisation's order, auction or listing (refused and left
unchanged, except objects public by nature: an approved listing, an open reverse auction).

tests/test_access.py asks every other row the same way; it learns the mall's ids from tests/mall/access.py."""
import pytest
from sqlalchemy import inspect

from accounts.models import Organisation
from core import clock, journal
from core.extensions import db
from mall.models import Suspension
from tests.mall.access import MallScenario
from tests.test_access import (OTHERS, PUBLIC, ROLES, ROUTES, People, answer_of, describe, id_parameters, is_api,
                               state_of)

MALL = "/mall"


def mall_rows(table: dict) -> list[str]:
    return [key for key in table if MALL in key.split(" ", 1)[1]]


class MallPeople(People):
    def mall(self, whose: str) -> MallScenario:
        if not hasattr(self, "_mall"):
            self._mall = {}
        if whose not in self._mall:
            unit, supplier = ("procuring", "supplier") if whose == "own" else ("procuring2", "supplier2")
            self._mall[whose] = MallScenario(self.demo[unit], supplier)
        return self._mall[whose]

    def value(self, role, name, whose, rule=""):
        if name in MallScenario.IDS:
            return self.mall(whose).object_for(name, rule).id
        if name == "digest":
            return self.mall(whose).picture.digest
        if name == "action" and MALL in rule:
            return "confirm" if "/orders/" in rule else "close"
        return super().value(role, name, whose, rule)


@pytest.fixture
def people(app, demo, login):
    return MallPeople(app, demo, login)


@pytest.mark.parametrize("key", mall_rows(ROUTES))
def test_each_role_gets_the_expected_answer_from_the_mall(people, key):
    wrong = []
    for role in ROLES:
        response = people.ask(key, role, people.values(key, role))
        got = answer_of(response, is_api(key))
        if got != ROUTES[key][role]:
            wrong.append(f"{role}: expected {ROUTES[key][role]}, got {got} ({describe(response)})")
    assert not wrong, f"{key}\n" + "\n".join(wrong)


def _submitted(org, named):
    named["listing_id"].status = "submitted"


def _suspended(org, named):
    db.session.add(Suspension(supplier_id=org.id, points=12, started_at=clock.now()))


ACTING = {
    "POST /mall/listings/<int:listing_id>/decision": (_submitted, lambda org: {"action": "refuse", "reason": "test"}),
    "POST /api/v1/mall/listings/<int:listing_id>/decision": (_submitted, lambda org: {"action": "refuse",
                                                                                      "reason": "test"}),
    "POST /mall/suppliers/<int:org_id>/lift": (_suspended, lambda org: {"reason": "access test"}),
}


@pytest.mark.parametrize("key", mall_rows(OTHERS) + mall_rows(PUBLIC))
def test_another_organisations_mall_object_is_refused_and_left_unchanged(people, key):
    expected = OTHERS.get(key) or PUBLIC[key]
    wrong = []
    for role in sorted(ROLES, key=lambda role: expected[role] == "ok"):
        values = people.values(key, role, whose="other")
        named = {name: (people.mall("other").object_for(name) if name in MallScenario.IDS
                        else db.session.get(Organisation, values[name])) for name in id_parameters(key)}
        objects = {name: (type(obj), inspect(obj).identity[0]) for name, obj in named.items()}
        prepare, form = ACTING.get(key, (None, None))
        org = db.session.get(Organisation, people.owner(role, "other").organisation_id)
        if prepare:
            prepare(org, named)
            db.session.commit()
        people.headers(role) if is_api(key) else people.client(role)
        before, head = state_of(objects), journal.head()
        response = people.ask(key, role, values, data=form(org) if form else None)
        got = answer_of(response, is_api(key))
        changed = state_of(objects) != before
        acted = changed or journal.head() != head
        if got != expected[role]:
            wrong.append(f"{role}: expected {expected[role]}, got {got} ({describe(response)})")
        elif got != "ok" and changed:
            wrong.append(f"{role}: refused with {got} but changed {sorted(objects)}")
        elif got == "ok" and key.split()[0] != "GET" and not acted and key not in PUBLIC:
            wrong.append(f"{role}: allowed ({describe(response)}) but changed nothing")
    assert not wrong, f"{key} with another organisation's object\n" + "\n".join(wrong)
