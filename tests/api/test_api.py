"""/api/v1 as a client developer meets it: bearer tokens only, JSON errors with reason codes, and
``Idempotency-Key`` on creating calls."""
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from accounts import tokens
from accounts.models import ApiToken, Organisation, User
from core import api as core_api, clock
from core.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def bearer(user: User, days: int = 30, name: str = "client") -> dict:
    _token, secret = tokens.create(user, name, days, clock.now())
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status: int, code: str) -> dict:
    """The answer is ``{"error": {"code", "message"}}`` with this status and reason code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"].strip()
    return error


def count_tokens(user: User, name: str | None = None) -> int:
    query = select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)
    if name is not None:
        query = query.where(ApiToken.name == name)
    return db.session.scalar(query)


def api_routes(app) -> list[tuple[str, str]]:
    """Every /api/v1 route behind the token, with a real-looking id in it."""
    return sorted((method, re.sub(r"<(?:[^<>]*:)?\w+>", "1", rule.rule))
                  for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
                  for method in rule.methods - {"HEAD", "OPTIONS"})


# Who is asking.

def test_without_a_token_every_route_answers_401_unauthenticated(app, client, demo):
    routes = api_routes(app)
    assert len(routes) >= 8
    for method, path in routes:
        assert_error(client.open(path, method=method, json={"name": "sneaky"}), 401, "unauthenticated")
    assert count_tokens(demo["bidder1"]) == 0


@pytest.mark.parametrize("authorization", [
    "Bearer ggzy_not-a-token-that-was-ever-made",
    "Bearer ",
    "Token ggzy_whatever",
    "Basic YmlkZGVyMTpkZW1vLXBhc3MtMjAyNg==",  # bidder1's real password does not open the API
])
def test_a_wrong_authorization_header_answers_401(client, demo, authorization):
    assert_error(client.get("/api/v1/me", headers={"Authorization": authorization}), 401, "unauthenticated")


def test_the_openapi_document_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.0")


def test_me_answers_the_tokens_own_user(client, demo):
    for username in ("bidder1", "procuring", "admin"):
        user = demo[username]
        me = client.get("/api/v1/me", headers=bearer(user))
        assert me.status_code == 200
        body = me.get_json()
        assert (body["id"], body["username"], body["role"]) == (user.id, username, user.role)
        assert body["organisation"]["id"] == user.organisation_id


def test_the_session_cookie_of_a_signed_in_browser_is_not_accepted(login, demo):
    browser = login("bidder1")
    assert browser.get("/profile").status_code == 200  # signed in for the pages
    assert_error(browser.get("/api/v1/me"), 401, "unauthenticated")
    # Nor can a page trick the browser into making a token (the API is exempt from CSRF checks).
    assert_error(browser.post("/api/v1/tokens", json={"name": "stolen"}), 401, "unauthenticated")
    assert count_tokens(demo["bidder1"]) == 0


def test_a_revoked_token_answers_401(client, login, demo):
    headers = bearer(demo["bidder1"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    own_id = client.get("/api/v1/tokens", headers=headers).get_json()["tokens"][0]["id"]
    revoked = client.delete(f"/api/v1/tokens/{own_id}", headers=headers)
    assert revoked.status_code == 200 and revoked.get_json()["revoked"] is True
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")
    # Revoked on the profile page works the same.
    other = bearer(demo["bidder1"], name="second")
    token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.name == "second")).one()
    assert login("bidder1").post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert_error(client.get("/api/v1/me", headers=other), 401, "unauthenticated")


def test_a_token_stops_working_when_it_expires(client, demo):
    headers = bearer(demo["bidder1"], days=1)
    expires_at = db.session.scalars(select(ApiToken.expires_at)).one()
    with time_machine.travel(expires_at - timedelta(seconds=1), tick=False):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    with time_machine.travel(expires_at + timedelta(seconds=1), tick=False):
        assert clock.now() > expires_at
        assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")


def test_a_deactivated_user_or_organisation_loses_api_access(client, demo):
    user_headers, org_headers = bearer(demo["bidder1"]), bearer(demo["bidder2"])
    db.session.get(User, demo["bidder1"].id).status = "deactivated"
    db.session.get(Organisation, demo["bidder2"].organisation_id).status = "deactivated"
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=user_headers), 401, "unauthenticated")
    assert_error(client.get("/api/v1/me", headers=org_headers), 401, "unauthenticated")
    assert client.get("/api/v1/me", headers=bearer(demo["bidder3"])).status_code == 200


def test_another_organisation_is_hidden_from_a_bidder_but_not_from_the_centre(client, demo):
    other = demo["bidder2"].organisation_id
    assert_error(client.get(f"/api/v1/organisations/{other}", headers=bearer(demo["bidder1"])), 404, "not_found")
    assert client.get(f"/api/v1/organisations/{other}", headers=bearer(demo["centre"])).get_json()["id"] == other
    assert_error(client.get("/api/v1/organisations", headers=bearer(demo["bidder1"])), 403, "forbidden")


@pytest.mark.parametrize("path", ["/api/v1/organisations/{}", "/api/v1/tokens/{}"])
def test_an_id_beyond_the_database_range_is_not_found(client, demo, path):
    headers = bearer(demo["admin"])
    method = "DELETE" if "tokens" in path else "GET"
    assert_error(client.open(path.format(2 ** 63), method=method, headers=headers), 404, "not_found")


# Tokens.

def test_a_new_token_is_shown_once_and_works(client, demo):
    created = client.post("/api/v1/tokens", json={"name": "CI deploys", "days": 7}, headers=bearer(demo["bidder1"]))
    assert created.status_code == 201
    token = created.get_json()
    assert token["name"] == "CI deploys" and token["revoked"] is False
    assert token["token"].startswith(tokens.PREFIX) and token["prefix"] == token["token"][:12]
    lifetime = datetime.fromisoformat(token["expires_at"]) - datetime.fromisoformat(token["created_at"])
    assert lifetime == timedelta(days=7)
    new = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/me", headers=new).get_json()["username"] == "bidder1"
    listed = {t["id"]: t for t in client.get("/api/v1/tokens", headers=new).get_json()["tokens"]}
    assert token["id"] in listed and "token" not in listed[token["id"]]  # the secret is never shown again


def test_days_default_to_90(client, demo):
    token = client.post("/api/v1/tokens", json={"name": "default"}, headers=bearer(demo["bidder1"])).get_json()
    lifetime = datetime.fromisoformat(token["expires_at"]) - datetime.fromisoformat(token["created_at"])
    assert lifetime == timedelta(days=90)


@pytest.mark.parametrize("days", [1, 365])
def test_days_at_the_limits_are_accepted(client, demo, days):
    assert client.post("/api/v1/tokens", json={"name": "edge", "days": days},
                       headers=bearer(demo["bidder1"])).status_code == 201


@pytest.mark.parametrize("days", [0, -1, 366, 100000, "30", 1.5, True, None])
def test_days_out_of_range_or_not_an_integer_answer_422(client, demo, days):
    user = demo["bidder1"]
    response = client.post("/api/v1/tokens", json={"name": "bad days", "days": days}, headers=bearer(user))
    assert_error(response, 422, "token_days_invalid")
    assert count_tokens(user, "bad days") == 0


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": None}, {"days": 30}])
def test_a_token_needs_a_name(client, demo, body):
    assert_error(client.post("/api/v1/tokens", json=body, headers=bearer(demo["bidder1"])), 422, "token_name_required")


def test_a_token_name_has_at_most_100_characters(client, demo):
    headers = bearer(demo["bidder1"])
    assert_error(client.post("/api/v1/tokens", json={"name": "n" * 101}, headers=headers), 422, "token_name_too_long")
    assert client.post("/api/v1/tokens", json={"name": "n" * 100}, headers=headers).status_code == 201


def test_a_nul_character_in_a_name_is_refused(client, demo):
    headers = bearer(demo["bidder1"])
    before = count_tokens(demo["bidder1"])
    response = client.post("/api/v1/tokens", json={"name": "ci\u0000deploy"}, headers=headers)
    assert_error(response, 400, "nul_character")
    assert count_tokens(demo["bidder1"]) == before


@pytest.mark.parametrize("name", [123, 1.5, True, ["a list"], {"an": "object"}])
def test_a_name_that_is_not_a_string_is_refused(client, demo, name):
    response = client.post("/api/v1/tokens", json={"name": name}, headers=bearer(demo["bidder1"]))
    assert_error(response, 422, "token_name_invalid")


def test_revoking_a_token_twice_answers_409(client, demo):
    headers = bearer(demo["bidder1"])
    target = client.post("/api/v1/tokens", json={"name": "old"}, headers=headers).get_json()["id"]
    assert client.delete(f"/api/v1/tokens/{target}", headers=headers).status_code == 200
    assert_error(client.delete(f"/api/v1/tokens/{target}", headers=headers), 409, "token_revoked_already")


def test_someone_elses_token_cannot_be_revoked(client, demo):
    theirs = bearer(demo["bidder2"])
    their_id = db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == demo["bidder2"].id)).one()
    assert_error(client.delete(f"/api/v1/tokens/{their_id}", headers=bearer(demo["bidder1"])), 404, "not_found")
    assert client.get("/api/v1/me", headers=theirs).status_code == 200


# The request body.

@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ('["a", "list"]', "application/json"),
    ('"a string"', "application/json"),
    ('{"name": "no content type"}', None),
    ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_answers_400_invalid_json(client, demo, data, content_type):
    user = demo["bidder1"]
    headers = bearer(user)
    if content_type:
        headers["Content-Type"] = content_type
    assert_error(client.post("/api/v1/tokens", data=data, headers=headers), 400, "invalid_json")
    assert count_tokens(user) == 1  # only the one asking


# Idempotency-Key.

def test_the_same_key_and_body_twice_returns_the_first_token(client, demo):
    user = demo["bidder1"]
    headers = bearer(user) | {"Idempotency-Key": "deploy-2026-03-01"}
    first = client.post("/api/v1/tokens", json={"name": "retry me", "days": 5}, headers=headers)
    again = client.post("/api/v1/tokens", json={"name": "retry me", "days": 5}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # same id, same secret
    assert count_tokens(user, "retry me") == 1


def test_the_same_key_with_a_different_body_answers_422(client, demo):
    user = demo["bidder1"]
    headers = bearer(user) | {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/tokens", json={"name": "first"}, headers=headers).status_code == 201
    assert_error(client.post("/api/v1/tokens", json={"name": "second"}, headers=headers), 422, "idempotency_key_reused")
    assert count_tokens(user, "second") == 0


def test_a_key_belongs_to_its_user(client, demo):
    """Another user sending the same key gets a token of their own, never the first user's secret."""
    body = {"name": "shared key"}
    mine = client.post("/api/v1/tokens", json=body, headers=bearer(demo["bidder1"]) | {"Idempotency-Key": "same"})
    theirs = client.post("/api/v1/tokens", json=body, headers=bearer(demo["bidder2"]) | {"Idempotency-Key": "same"})
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["token"] != mine.get_json()["token"]
    new = {"Authorization": f"Bearer {theirs.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=new).get_json()["username"] == "bidder2"


def test_a_refused_call_is_not_remembered_under_its_key(client, demo):
    headers = bearer(demo["bidder1"]) | {"Idempotency-Key": "fix-and-retry"}
    refused = client.post("/api/v1/tokens", json={"name": "x", "days": 0}, headers=headers)
    assert_error(refused, 422, "token_days_invalid")
    fixed = client.post("/api/v1/tokens", json={"name": "x", "days": 10}, headers=headers)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_key_of_0_or_more_than_200_characters_answers_400(client, demo, key):
    user = demo["bidder1"]
    response = client.post("/api/v1/tokens", json={"name": "keyed"}, headers=bearer(user) | {"Idempotency-Key": key})
    assert_error(response, 400, "idempotency_key_invalid")
    assert count_tokens(user, "keyed") == 0


def test_a_key_of_200_characters_is_accepted(client, demo):
    headers = bearer(demo["bidder1"]) | {"Idempotency-Key": "k" * 200}
    assert client.post("/api/v1/tokens", json={"name": "long key"}, headers=headers).status_code == 201
    again = client.post("/api/v1/tokens", json={"name": "long key"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_remembered_answers_are_purged_after_a_day(client, demo):
    headers = bearer(demo["bidder1"]) | {"Idempotency-Key": "daily"}
    assert client.post("/api/v1/tokens", json={"name": "day one"}, headers=headers).status_code == 201
    later = clock.now() + timedelta(hours=core_api.IDEMPOTENCY_TTL_HOURS, minutes=1)
    assert core_api.purge_idempotency_records(later) == 1
    db.session.commit()
    again = client.post("/api/v1/tokens", json={"name": "day one"}, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


# Every reason code the API's own modules raise is triggered above.

REASON_SOURCES = ["accounts/tokens.py", "core/api.py", "accounts/api.py"]


def test_every_reason_code_of_the_api_modules_is_triggered_by_a_test():
    raised = {code for source in REASON_SOURCES
              for code in re.findall(r'DomainError\(\s*"(\w+)"', (ROOT / source).read_text(encoding="utf-8"))}
    assert {"unauthenticated", "invalid_json", "idempotency_key_reused", "token_days_invalid"} <= raised
    asserted = set(re.findall(r'assert_error\([^\n]*?, \d{3}, "(\w+)"\)', Path(__file__).read_text(encoding="utf-8")))
    assert raised - asserted == set(), "reason codes no test triggers"


def test_the_bearer_scheme_is_case_insensitive_and_401_names_it(client, demo):
    headers = bearer(demo["bidder1"])
    lower = {"Authorization": headers["Authorization"].replace("Bearer", "bearer", 1)}
    assert client.get("/api/v1/me", headers=lower).status_code == 200
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_query_parameter_is_refused_by_name(client, demo):
    """A misspelt filter would otherwise be ignored and answer with everything."""
    response = client.get("/api/v1/tender/guarantees?stauts=issued", headers=bearer(demo["bidder1"]))
    assert_error(response, 400, "unknown_parameter")
    assert "stauts" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/tender/guarantees?page=1", headers=bearer(demo["bidder1"])).status_code == 200
