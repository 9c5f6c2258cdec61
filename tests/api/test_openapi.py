"""The /api/v1 OpenAPI document: valid OpenAPI 3.0, describing exactly the routes there are, and true of
the answers the API gives (schemathesis drives every operation with a demo bidder's and an admin's token).
"""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV30SpecValidator
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import delete

from accounts import tokens
from core import clock
import app as composition_root  # noqa: F401  (importing the app registers every API description)
from core.api import OPENAPI_PATHS, IdempotencyRecord
from core.errors import has_nul
from core.extensions import db

DOCUMENT = "/api/v1/openapi.json"
EXAMPLES = 25  # per operation and user: the whole file stays well under a minute


def sends_nul(case) -> bool:
    """Whether the request carries a NUL character, which the platform refuses anywhere (400 nul_character:
    PostgreSQL text cannot hold it), a rule the document's schemas do not state field by field."""
    binary = (case.media_type or "").startswith("application/octet-stream")  # a sealed envelope may hold any byte
    # Only a query value that is text reaches the server as such; nested ones are sent in another form.
    query = {k: v for k, v in (case.query or {}).items() if isinstance(v, str)}
    return (not binary and has_nul(case.body)) or has_nul(query)


def test_the_document_is_valid_openapi_3_0(client):
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.0.")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert not errors, "\n".join(errors)


def test_the_document_describes_exactly_the_api_routes(app, client):
    documented = {(path, method.upper()) for path, item in client.get(DOCUMENT).get_json()["paths"].items()
                  for method in item}
    routed = {(re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented - routed == set(), "documented but not routed"
    assert routed - documented == set(), "routed but not documented"


def test_every_operation_but_the_document_needs_the_token_and_says_so(client):
    document = client.get(DOCUMENT).get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            secured = operation.get("security", document["security"])
            if path == DOCUMENT:
                assert secured == [], "the document itself is public"
            else:
                assert secured == [{"bearerAuth": []}], f"{method.upper()} {path}"
                assert "401" in operation["responses"], f"{method.upper()} {path} does not document its 401"


def own_context_per_request(app):
    """The app as a server runs it: every request (schemathesis's probes too) in an application context
    of its own, not in the test's, whose ``g`` would carry the signed-in user from one request to the next."""
    def wsgi(environ, start_response):
        with app.app_context():
            return app(environ, start_response)
    return wsgi


OPERATIONS = [(method.upper(), path) for path, item in OPENAPI_PATHS.items() for method in item]


@pytest.mark.parametrize("username", ["bidder1", "admin"])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_as_documented(app, demo, username, method, path):
    """Valid and invalid requests alike get an answer the document lists, in the documented shape,
    and never a 5xx; a valid token is never refused."""
    user = demo[username]
    operation = schemathesis.openapi.from_wsgi(DOCUMENT, own_context_per_request(app))[path][method]
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case):
        # Each example on its own: a key an earlier example used for another body would be refused (422).
        db.session.execute(delete(IdempotencyRecord))
        # A fresh token each time: a generated DELETE may have revoked the one used before.
        _token, secret = tokens.create(user, "schemathesis", 30, clock.now())
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        if sends_nul(case):  # refused whatever the schema allows; still in a documented shape
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            assert response.status_code == 400, "a NUL character got through"
            return
        response = case.call_and_validate(headers=headers)
        if response.request.headers.get("Authorization") == f"Bearer {secret}":  # negative cases drop it
            assert response.status_code != 401, "a valid token was refused"

    answers_as_documented()
