"""Access: every route answers every role as tests/access_expectations.yaml says.

The file is held to the route map both ways, so a new route fails the suite until someone writes down
who may use it. Each row is then asked as every role: pages through a client signed in on the real
sign-in pages, /api/v1 with a personal bearer token of the same demo user. Path ids are the role's own
objects; the ``others`` section asks the routes that take an id with another organisation's object
instead, which must be refused and left as it was.
"""
import base64
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import func, inspect, select

from accounts import tokens
from accounts.models import KIND_ROLES, ApiToken, Organisation, User
from core import clock, journal, settings
from core.extensions import db
from core.models import JournalEntry, JournalVerification, Notification
from core.permissions import Role
from mall.models import Suspension
from supervision.models import RedFlag, RedFlagRun
from tests.conftest import ROLE_USERS
from tests.mall.access import MallScenario
from tests.tender.challenge_factories import ChallengeScenario
from tests.tender.factories import PDF, Scenario
from tender import challenges, checklists

EXPECTATIONS = yaml.safe_load(Path(__file__).with_name("access_expectations.yaml").read_text(encoding="utf-8"))
ROLES: list[str] = EXPECTATIONS["roles"]
ANSWERS = {"ok", "login", "403", "404"}
NOT_ROUTES = {"static", "bootstrap.static"}  # files, not views
IGNORED_METHODS = {"HEAD", "OPTIONS"}
PARAMETER = re.compile(r"<(?:[^<>]*:)?(\w+)>")  # <name>, <int:name>, <any(a, b):name>
ID_PARAMETER = re.compile(r"<int:(\w+)>")
REDIRECTS = {301, 302, 303, 307, 308}
# Roles whose work spans organisations: the only ones an ``others`` row may let through.
CROSS_ORGANISATION_ROLES = {"admin", "centre", "supervisor"}
# Whose objects stand for "another organisation's": a peer of the same kind where there is one.
OTHER_USER = {role: "bidder2" for role in ROLES} | {"procuring": "procuring2"}
# Whose objects an anonymous visitor names.
ANONYMOUS_STANDS_FOR = "bidder1"
# What each id in a path names (every <int:...> is an id).
ID_MODELS = {"org_id": Organisation, "user_id": User, "token_id": ApiToken, "notification_id": Notification,
             "run_id": JournalVerification, "seq": JournalEntry, "flag_id": RedFlag, "flag_run_id": RedFlagRun}
# Tender ids name objects of a Scenario (tests/tender/factories.py), whose model depends on the route.


def _table(section: str) -> dict[str, dict[str, str]]:
    return {key: dict(zip(ROLES, (str(answer) for answer in row), strict=False)) for key, row in EXPECTATIONS[section].items()}


ROUTES = _table("routes")
OTHERS = _table("others")
PUBLIC = _table("public")


def route_map(app) -> dict:
    """{"METHOD /rule": rule} for every view of the app."""
    rows = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_ROUTES:
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            rows[f"{method} {rule.rule}"] = rule
    return rows


def is_api(key: str) -> bool:
    return key.split(" ", 1)[1].startswith("/api/")


def id_parameters(key: str) -> list[str]:
    return ID_PARAMETER.findall(key.split(" ", 1)[1])


# The file itself and the route map.

def test_the_expectation_file_names_every_role_and_only_known_answers():
    assert ROLES == ["anonymous", *ROLE_USERS]
    assert set(ROLES) - {"anonymous"} == {role.value for role in Role}, "a role is missing from the file"
    for section in ("routes", "others", "public"):
        for key, row in EXPECTATIONS[section].items():
            assert len(row) == len(ROLES), f"{section}: {key!r} has {len(row)} answers for {len(ROLES)} roles"
            unknown = {str(answer) for answer in row} - ANSWERS
            assert not unknown, f"{section}: {key!r} has unknown answers {unknown}"


def test_every_route_has_an_expectation_and_every_expectation_a_route(app):
    routes = route_map(app)
    missing = sorted(set(routes) - set(ROUTES))
    gone = sorted(set(ROUTES) - set(routes))
    assert not missing, f"routes without a row in tests/access_expectations.yaml: {missing}"
    assert not gone, f"rows in tests/access_expectations.yaml for routes that no longer exist: {gone}"


def test_every_route_taking_an_id_says_what_happens_with_another_organisations_object(app):
    taking_ids = {key for key in route_map(app) if id_parameters(key)}
    assert not set(OTHERS) & set(PUBLIC), "a route is in `others` or in `public`, not both"
    named = set(OTHERS) | set(PUBLIC)
    assert named == taking_ids, (
        f"`others`/`public` lack {sorted(taking_ids - named)}, have extra {sorted(named - taking_ids)}")
    unknown = {name for key in taking_ids for name in id_parameters(key)} - set(ID_MODELS) - Scenario.IDS \
        - MallScenario.IDS - ChallengeScenario.IDS
    assert not unknown, f"say in ID_MODELS and People.value what these ids name: {sorted(unknown)}"


def test_only_roles_working_across_organisations_reach_another_organisations_objects():
    for key, row in OTHERS.items():
        assert row["anonymous"] == "login", key
        for role in set(ROLES) - CROSS_ORGANISATION_ROLES - {"anonymous"}:
            assert row[role] in ("403", "404"), f"{key}: {role} reaches another organisation's object"


# Asking the routes.

class People:
    """The demo users of one test as the roles of the file: signed-in clients, bearer tokens, and
    the objects they own or that belong to another organisation."""

    def __init__(self, app, demo, login):
        self.app, self.demo, self.login = app, demo, login
        self._clients, self._headers, self._scenarios, self._malls = {}, {}, {}, {}
        self._challenges = {}

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else self.demo[ROLE_USERS[role]]

    def client(self, role: str):
        if role not in self._clients:
            self._clients[role] = self.app.test_client() if role == "anonymous" else self.login(ROLE_USERS[role])
        return self._clients[role]

    def headers(self, role: str) -> dict:
        if role == "anonymous":
            return {}
        if role not in self._headers:
            _token, secret = tokens.create(self.user(role), "access test", 30, clock.now())
            db.session.commit()
            self._headers[role] = {"Authorization": f"Bearer {secret}"}
        return self._headers[role]

    def owner(self, role: str, whose: str) -> User:
        """The user whose objects the role names: its own, or another organisation's."""
        if whose == "own":
            return self.user(role) or self.demo[ANONYMOUS_STANDS_FOR]
        return self.demo[OTHER_USER[role]]

    def scenario(self, whose: str) -> Scenario:
        """Tender objects: of the demo unit with bidder1 registered ("own"), or of another unit with bidder2
        registered ("others"), so that a unit names its own project and a bidder its own registration."""
        if whose not in self._scenarios:
            unit, bidder = ("procuring", "bidder1") if whose == "own" else ("procuring2", "bidder2")
            # The demo guarantor issued the guarantee for bidder1; another guarantor the one for bidder2.
            guarantor = self.demo["guarantor"] if whose == "own" else None
            self._scenarios[whose] = Scenario(self.demo, self.demo[unit], self.demo[bidder], guarantor=guarantor)
        return self._scenarios[whose]

    def challenges(self, whose: str) -> ChallengeScenario:
        """Challenges and a complaint on the tender scenario's section, by its registered bidder."""
        if whose not in self._challenges:
            unit, bidder = ("procuring", "bidder1") if whose == "own" else ("procuring2", "bidder2")
            self._challenges[whose] = ChallengeScenario(self.scenario(whose), self.demo[unit], self.demo[bidder])
        return self._challenges[whose]

    def mall(self, whose: str) -> MallScenario:
        """Mall objects (tests/mall/access.py): the demo unit's and supplier's, or procuring2's and supplier2's."""
        if whose not in self._malls:
            unit, supplier = ("procuring", "supplier") if whose == "own" else ("procuring2", "supplier2")
            self._malls[whose] = MallScenario(self.demo[unit], supplier)
        return self._malls[whose]

    def named(self, name: str, rule: str, whose: str, value):
        """The object a path id names."""
        if name in Scenario.IDS:
            return self.scenario(whose).object_for(name, rule)
        if name in MallScenario.IDS:
            return self.mall(whose).object_for(name, rule)
        if name in ChallengeScenario.IDS:
            return self.challenges(whose).object_for(name, rule)
        return db.session.get(ID_MODELS[name], value)

    def value(self, role: str, name: str, whose: str, rule: str = ""):
        """A real value for a path parameter."""
        if name in Scenario.IDS or name in MallScenario.IDS or name in ChallengeScenario.IDS:
            return self.named(name, rule, whose, None).id
        if name == "digest":
            return self.mall(whose).picture.digest
        if name == "action" and "/mall/" in rule:
            return "confirm" if "/orders/" in rule else "close"
        owner = self.owner(role, whose)
        if name == "org_id":
            return owner.organisation_id
        if name == "user_id":
            return owner.id
        if name == "token_id":
            token, _secret = tokens.create(owner, f"target of {role}", 30, clock.now())
            db.session.commit()
            return token.id
        if name == "notification_id":
            notification = Notification(user_id=owner.id, kind="access_test", title="Access test", body="",
                                        link="", created_at=clock.now())
            db.session.add(notification)
            db.session.commit()
            return notification.id
        if name == "run_id":
            run = JournalVerification(requested_by_id=owner.id, requested_at=clock.now(), status="passed",
                                      checked=0, total=0, reason="", detail="")
            db.session.add(run)
            db.session.commit()
            return run.id
        if name == "flag_id":  # an open red flag about the owner's organisation (as a procuring unit)
            return _red_flag(owner.organisation).id
        if name == "flag_run_id":
            run = RedFlagRun(requested_by_id=owner.id, requested_at=clock.now(), status="passed", checked=0, total=0,
                             raised=0)
            db.session.add(run)
            db.session.commit()
            return run.id
        if name == "seq":  # a journal entry about the owner's organisation
            journal.record("access.test", "user", owner.id, actor=owner, now=clock.now())
            db.session.commit()
            return journal.head()[0]
        if name == "token":
            return "no-such-reset-token"
        if name == "action":
            return "deactivate"
        if name == "key":
            return next(iter(settings.DEFINITIONS))
        raise AssertionError(f"test_access does not know what to put in <{name}>: teach People.value")

    def values(self, key: str, role: str, whose: str = "own") -> dict:
        """Real values for the path parameters of row ``key``."""
        rule = key.split(" ", 1)[1]
        return {name: self.value(role, name, whose, rule) for name in PARAMETER.findall(rule)}

    def ask(self, key: str, role: str, values: dict, data: dict | None = None):
        """Make the request of row ``key`` as ``role``: POSTs send ``data`` (else an empty form or JSON)."""
        method, rule = key.split(" ", 1)
        url = PARAMETER.sub(lambda m: str(values[m.group(1)]), rule)
        kwargs = {"method": method}
        if is_api(key):
            kwargs["headers"] = self.headers(role)
            client = self.app.test_client()
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = data or {}
        else:
            client = self.client(role)
            if method in ("POST", "PUT", "PATCH"):
                kwargs["data"] = data or {}
        return client.open(url, **kwargs)


def answer_of(response, api: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    if api and status == 401:
        return "login" if (response.get_json(silent=True) or {}).get("error", {}).get("code") == "unauthenticated" \
            else "401 without the unauthenticated code"
    if status in REDIRECTS and urlsplit(response.location).path == "/login":
        return "login"
    if status in (401, 403, 404):
        return str(status)
    return "ok"


def describe(response) -> str:
    where = f" to {response.location}" if response.status_code in REDIRECTS else ""
    return f"{response.status_code}{where}"


def _red_flag(organisation) -> RedFlag:
    now = clock.now()
    number = db.session.scalar(select(func.count()).select_from(RedFlag))
    flag = RedFlag(kind="concentration", subject_key=f"unit:{organisation.credit_code}:access-{number}",
                   unit_code=organisation.credit_code, unit_name=organisation.name, occurred_at=now,
                   period=clock.local(now).strftime("%Y-%m"), evidence="{}", computed_at=now, status="open", reason="")
    db.session.add(flag)
    db.session.commit()
    return flag


@pytest.fixture
def people(app, demo, login):
    return People(app, demo, login)


@pytest.mark.parametrize("key", list(ROUTES))
def test_each_role_gets_the_expected_answer(people, key):
    wrong = []
    for role in ROLES:
        response = people.ask(key, role, people.values(key, role))
        got = answer_of(response, is_api(key))
        if got != ROUTES[key][role]:
            wrong.append(f"{role}: expected {ROUTES[key][role]}, got {got} ({describe(response)})")
    assert not wrong, f"{key}\n" + "\n".join(wrong)


# What a request with another organisation's id sends, so that it would change the object if it got
# through: (prepare the object, the form). Without an entry the request itself acts (revoke, deactivate).
def _pending(org, _objects):
    org.status = "pending"


def _submitted(_org, objects):
    project = objects["project_id"]
    project.status = "submitted"
    for section in project.sections:
        section.status = "submitted"


def _deadline_near(_org, objects):
    """An addendum with fewer days left than the settings ask moves the deadline: a visible change."""
    objects["section_id"].deadline = clock.now() + timedelta(days=3)


def _awarded(_org, objects):
    """Claims are recorded after award: the guarantee's section is awarded."""
    objects["guarantee_id"].section.status = "awarded"


def _second_extension_asked(_org, objects):
    """A supervisor decides a second extension the unit asked for."""
    challenge = objects["challenge_id"]
    if challenge.status == "extended":
        unit = db.session.scalars(select(User).where(User.organisation_id == challenge.section.project.procuring_unit_id,
                                                     User.role == Role.PROCURING)).first()
        challenges.request_extension(unit, challenge, 3, "access test", clock.now())


def _complaint_in(status: str):
    def prepare(_org, objects):
        objects["complaint_id"].status = status
    return prepare


def _opening_at(stage: str):
    """The section of the request at a stage of its opening (closed, releasing, window_over, decrypted,
    decided, objected), each step through the services as host, keyholders and bidder would take it."""
    def prepare(_org, objects):
        from tender import opening as openings
        from tender import publication
        from tender.models import Bid
        section, now = objects["section_id"], clock.now()
        holders = {share.role: share.user for share in section.key.shares}
        if section.status == "published":
            section.deadline = now - timedelta(minutes=1)
            publication.move(None, section, "close", now)
        if stage == "closed":
            return
        opening = openings.current(section) or openings.start(holders["centre"], section, now)
        if stage == "window_over":
            opening.release_ends_at = now - timedelta(seconds=1)
        if stage in ("decrypted", "decided", "objected") and opening.status == "releasing":
            for role in ("centre", "supervisor"):
                openings.release(holders[role], opening, "demo-pin-2026", now, "")
            db.session.commit()  # the decryption job runs once this commits (eager in tests)
            db.session.refresh(opening)
        if stage in ("decided", "objected") and openings.needs_decision(opening, now) and not opening.decision:
            openings.decide(holders["centre"], opening, "continue", "access test", now)
        if stage == "objected" and opening.status == "decrypted":
            openings.seal_record(holders["centre"], opening, now)
            bidder = db.session.get(User, db.session.scalars(select(Bid.user_id).where(Bid.section_id == section.id)
                                                             ).first())
            openings.respond(bidder, opening, "object", "access test", now)
    return prepare


def _objection(_org) -> dict:
    from tender.models import RecordResponse
    return {"response_id": db.session.scalars(select(RecordResponse.id).order_by(RecordResponse.id.desc())).first(),
            "text": "access test"}


def _demo_users() -> dict:
    return {user.username: user for user in db.session.scalars(select(User))}


def _opened(_org, objects):
    """The section's bids opened and the record sealed (tests/tender/evaluation_factories.py), a pool to draw."""
    from tests.tender.evaluation_factories import Opened, make_pool
    section = objects["section_id"]
    if section.status == "published":
        users = _demo_users()
        Opened(users, section, prices=("950000.00", "980000.00"), bidders=("bidder2", "bidder3"))
        make_pool(users)


def _evaluated(org, objects):
    """The section's committee has signed its report."""
    from tests.tender.evaluation_factories import evaluate
    section = objects["section_id"]
    if section.status == "published":
        _opened(org, objects)
        evaluate(_demo_users(), _Bare(section))


class _Bare:
    """What evaluation_factories.evaluate reads of an Opened section (lowest price needs no scores)."""

    def __init__(self, section):
        self.section = section


def _listing_submitted(_org, objects):
    objects["listing_id"].status = "submitted"


def _supplier_suspended(org, _objects):
    db.session.add(Suspension(supplier_id=org.id, points=12, started_at=clock.now()))


def _all_present(org):
    return {"outcome": "accept", **{f"verdict-{item.key}": "ok" for item in checklists.checklist("works")}}


ACTING = {
    "POST /approvals/<int:org_id>": (_pending, lambda org: {"action": "reject", "reason": "access test"}),
    "POST /admin/organisations/<int:org_id>/status": (None, lambda org: {"action": "deactivate",
                                                                         "reason": "access test"}),
    "POST /admin/organisations/<int:org_id>/users": (None, lambda org: {
        "name": "Intruder", "username": "intruder", "email": "intruder@example.cn",
        "role": KIND_ROLES[org.kind][0].value, "password": "intruder-pass-2026"}),
    "POST /tender/projects/<int:project_id>/review": (_submitted, _all_present),
    "POST /tender/sections/<int:section_id>/publish": (None, lambda org: {
        "title": "招标公告", "body": "正文", "deadline": (clock.local(clock.now()) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "documents": (io.BytesIO(PDF), "招标文件.pdf")}),
    "POST /tender/sections/<int:section_id>/addenda/new": (_deadline_near, lambda org: {"title": "补遗", "body": "变更"}),
    "POST /tender/clarifications/<int:clarification_id>/answer": (None, lambda org: {"answer": "可以。"}),
    "POST /mall/listings/<int:listing_id>/decision": (_listing_submitted, lambda org: {"action": "refuse",
                                                                                      "reason": "access test"}),
    "POST /api/v1/mall/listings/<int:listing_id>/decision": (_listing_submitted,
                                                             lambda org: {"action": "refuse", "reason": "access test"}),
    "POST /mall/suppliers/<int:org_id>/lift": (_supplier_suspended, lambda org: {"reason": "access test"}),
    # /api/v1/tender takes JSON.
    "POST /api/v1/tender/projects/<int:project_id>/decision": (_submitted, lambda org: {
        "outcome": "accept", "verdicts": {item.key: {"verdict": "ok"} for item in checklists.checklist("works")}}),
    "POST /api/v1/tender/sections/<int:section_id>/publish": (None, lambda org: {
        "title": "招标公告", "body": "正文", "deadline": (clock.now() + timedelta(days=30)).isoformat(),
        "documents": [{"filename": "招标文件.pdf", "content_base64": base64.b64encode(PDF).decode()}]}),
    "POST /api/v1/tender/sections/<int:section_id>/addenda": (_deadline_near, lambda org: {"title": "补遗",
                                                                                           "body": "变更"}),
    "POST /api/v1/tender/clarifications/<int:clarification_id>/answer": (None, lambda org: {"answer": "可以。"}),
    "POST /tender/guarantees/<int:guarantee_id>/revoke": (None, lambda org: {"reason": "access test"}),
    "POST /tender/guarantees/<int:guarantee_id>/claims": (_awarded, lambda org: {"trigger": "contract_refused",
                                                                                  "amount": "1.00"}),
    "POST /api/v1/tender/guarantees/<int:guarantee_id>/revoke": (None, lambda org: {"reason": "access test"}),
    "POST /api/v1/tender/guarantees/<int:guarantee_id>/claims": (_awarded, lambda org: {
        "trigger": "contract_refused", "amount": "1.00"}),
    "POST /tender/challenges/<int:challenge_id>/extension-decision": (_second_extension_asked,
                                                                      lambda org: {"decision": "approve"}),
    "POST /tender/complaints/<int:complaint_id>/suspend": (_complaint_in("filed"), lambda org: {"reason": "access test"}),
    "POST /tender/complaints/<int:complaint_id>/resume": (_complaint_in("suspended"),
                                                          lambda org: {"reason": "access test"}),
    "POST /tender/complaints/<int:complaint_id>/decide": (_complaint_in("filed"), lambda org: {
        "outcome": "dismissed", "reason": "access test"}),
    "POST /supervision/red-flags/<int:flag_id>/decision": (None, lambda org: {"action": "dismiss",
                                                                            "reason": "access test"}),
    "POST /tender/sections/<int:section_id>/opening/start": (_opening_at("closed"), lambda org: {}),
    "POST /tender/sections/<int:section_id>/opening/release": (_opening_at("releasing"),
                                                               lambda org: {"pin": "demo-pin-2026"}),
    "POST /tender/sections/<int:section_id>/opening/suspend": (_opening_at("window_over"), lambda org: {
        "note": "access test", "reschedule_to": (clock.local(clock.now()) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}),
    "POST /tender/sections/<int:section_id>/opening/decide": (_opening_at("decrypted"), lambda org: {
        "decision": "continue", "ground": "access test"}),
    "POST /tender/sections/<int:section_id>/opening/seal": (_opening_at("decided"), lambda org: {}),
    "POST /tender/sections/<int:section_id>/opening/answer": (_opening_at("objected"), _objection),
    "POST /tender/sections/<int:section_id>/committee": (_opened, None),
    "POST /tender/sections/<int:section_id>/publicise": (_evaluated, None),
    "POST /tender/sections/<int:section_id>/evaluation/fail": (_opened, lambda org: {"reason": "access test"}),
    "POST /api/v1/tender/rooms/<int:room_id>/bookings": (None, lambda org: {
        "starts_at": (clock.now() + timedelta(days=40)).isoformat(),
        "ends_at": (clock.now() + timedelta(days=40, hours=2)).isoformat(), "purpose": "评标"}),
}


def state_of(objects: dict) -> dict:
    """Everything stored about the objects a request named ({name: (model, id)}), read afresh."""
    db.session.expire_all()
    state = {}
    for name, (model, ident) in objects.items():
        obj = db.session.get(model, ident)
        state[name] = {column.key: getattr(obj, column.key) for column in inspect(model).column_attrs}
        if isinstance(obj, Organisation):
            state[name]["users"] = sorted((u.id, u.username, u.status) for u in obj.users)
    return state


@pytest.mark.parametrize("key", list(OTHERS) + list(PUBLIC))
def test_another_organisations_object_is_refused_and_left_unchanged(people, key):
    """Also asks the ``public`` rows (objects public by nature, such as a published notice) with another
    organisation's object: anyone may act on those, so an allowed request need not change the object."""
    expected = OTHERS.get(key) or PUBLIC[key]
    # Those refused go first, so that what an allowed role does cannot hide a leak.
    order = sorted(ROLES, key=lambda role: expected[role] == "ok")
    wrong = []
    for role in order:
        values = people.values(key, role, whose="other")
        rule = key.split(" ", 1)[1]
        named = {name: people.named(name, rule, "other", values[name]) for name in id_parameters(key)}
        objects = {name: (type(obj), inspect(obj).identity[0]) for name, obj in named.items()}
        prepare, form = ACTING.get(key, (None, None))
        org = db.session.get(Organisation, people.owner(role, "other").organisation_id)
        if prepare:
            prepare(org, named)
            db.session.commit()
        people.headers(role) if is_api(key) else people.client(role)  # signing in is journaled: first
        before, head = state_of(objects), journal.head()
        response = people.ask(key, role, values, data=form(org) if form else None)
        got = answer_of(response, is_api(key))
        changed = state_of(objects) != before
        acted = changed or journal.head() != head  # a new round of a section is a new object: journaled
        if got != expected[role]:
            wrong.append(f"{role}: expected {expected[role]}, got {got} ({describe(response)})")
        elif got != "ok" and changed:
            wrong.append(f"{role}: refused with {got} but changed {sorted(objects)}")
        elif got == "ok" and key.split()[0] != "GET" and not acted and key not in PUBLIC:
            # The request of a role allowed to make it must act, or "left unchanged" proves nothing.
            wrong.append(f"{role}: allowed ({describe(response)}) but changed nothing: fix ACTING")
    assert not wrong, f"{key} with another organisation's object\n" + "\n".join(wrong)

