"""/api/v1: who am I, organisations, regions, settings, tokens. Bearer tokens only."""
from flask_login import current_user
from sqlalchemy import select

from accounts import tokens
from accounts.models import ApiToken, Organisation, Region
from core import clock, settings
from core.api import IDEMPOTENCY_KEY as _idem, json_answer as _json
from core.api import (OPENAPI_PATHS, OPENAPI_SCHEMAS, api_blueprint, creating, describe, error_responses,
                      json_body, ok, openapi_document)
from core.db import get_or_404
from core.extensions import db
from core.permissions import Role, check_object, roles_required

api = api_blueprint("api", __name__)


def organisation_json(org: Organisation) -> dict:
    return {"id": org.id, "name": org.name, "credit_code": org.credit_code, "kind": org.kind,
            "region_code": org.region_code, "status": org.status}


def token_json(token: ApiToken) -> dict:
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "created_at": token.created_at.isoformat(), "expires_at": token.expires_at.isoformat(),
            "revoked": token.revoked_at is not None}


@api.get("/me")
def me():
    return ok({"id": current_user.id, "username": current_user.username, "name": current_user.name,
               "role": current_user.role, "organisation": organisation_json(current_user.organisation)})


@api.get("/organisations")
@roles_required(Role.ADMIN, Role.CENTRE, Role.SUPERVISOR)
def organisations():
    rows = select(Organisation).order_by(Organisation.id)
    return ok({"organisations": [organisation_json(o) for o in db.session.scalars(rows)]})


@api.get("/organisations/<int:org_id>")
def organisation(org_id: int):
    return ok(organisation_json(check_object(get_or_404(Organisation, org_id))))


@api.get("/regions")
def regions():
    return ok({"regions": [{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "parent_code": r.parent_code}
                           for r in db.session.scalars(select(Region).order_by(Region.code))]})


@api.get("/settings")
def current_settings():
    return ok({"settings": {key: str(settings.value(key)) for key in settings.DEFINITIONS}})


@api.get("/tokens")
def list_tokens():
    return ok({"tokens": [token_json(t) for t in tokens.of(current_user)]})


@api.post("/tokens")
@creating
def create_token():
    body = json_body()
    token, secret = tokens.create(current_user, body.get("name"), body.get("days", 90), clock.now())
    return ok({**token_json(token), "token": secret}, 201)


@api.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    token = check_object(get_or_404(ApiToken, token_id), action="manage")
    tokens.revoke(current_user, token, clock.now())
    db.session.commit()
    return ok(token_json(token))


@api.get("/openapi.json")
def openapi():
    return ok(openapi_document(OPENAPI_PATHS, OPENAPI_SCHEMAS))


# The OpenAPI description of the routes above; tests hold the route map to it.
_id = {"name": "org_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_tid = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}




SCHEMAS = {
    "Organisation": {"type": "object", "required": ["id", "name", "credit_code", "kind", "region_code", "status"],
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                    "credit_code": {"type": "string", "minLength": 18, "maxLength": 18},
                                    "kind": {"type": "string"}, "region_code": {"type": "string"},
                                    "status": {"type": "string", "enum": ["pending", "approved", "rejected", "deactivated"]}}},
    "Me": {"type": "object", "required": ["id", "username", "role", "organisation"],
           "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "name": {"type": "string"},
                          "role": {"type": "string"}, "organisation": {"$ref": "#/components/schemas/Organisation"}}},
    "OrganisationList": {"type": "object", "required": ["organisations"],
                         "properties": {"organisations": {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}}}},
    "RegionList": {"type": "object", "required": ["regions"], "properties": {"regions": {"type": "array", "items": {
        "type": "object", "properties": {"code": {"type": "string"}, "name_zh": {"type": "string"},
                                         "name_en": {"type": "string"}, "parent_code": {"type": "string", "nullable": True}}}}}},
    "Settings": {"type": "object", "required": ["settings"],
                 "properties": {"settings": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "Token": {"type": "object", "required": ["id", "name", "prefix", "created_at", "expires_at", "revoked"],
              "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"},
                             "created_at": {"type": "string", "format": "date-time"},
                             "expires_at": {"type": "string", "format": "date-time"}, "revoked": {"type": "boolean"},
                             "token": {"type": "string", "description": "Only in the answer that creates it."}}},
    "TokenList": {"type": "object", "required": ["tokens"],
                  "properties": {"tokens": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}},
    "NewToken": {"type": "object", "required": ["name"],
                 "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                "days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 90}}},
}


describe({
    "/api/v1/me": {"get": {"summary": "The token's user and organisation", "operationId": "me",
                           "responses": {"200": _json("Me"), **error_responses(401)}}},
    "/api/v1/organisations": {"get": {"summary": "All organisations (admins, centre, supervisors)",
                                      "operationId": "listOrganisations",
                                      "responses": {"200": _json("OrganisationList"), **error_responses(401, 403)}}},
    "/api/v1/organisations/{org_id}": {"get": {"summary": "One organisation", "operationId": "getOrganisation",
                                               "parameters": [_id],
                                               "responses": {"200": _json("Organisation"), **error_responses(401, 404)}}},
    "/api/v1/regions": {"get": {"summary": "Administrative division codes", "operationId": "listRegions",
                                "responses": {"200": _json("RegionList"), **error_responses(401)}}},
    "/api/v1/settings": {"get": {"summary": "Settings of the trade in force now", "operationId": "getSettings",
                                 "responses": {"200": _json("Settings"), **error_responses(401)}}},
    "/api/v1/tokens": {
        "get": {"summary": "My API tokens", "operationId": "listTokens",
                "responses": {"200": _json("TokenList"), **error_responses(401)}},
        "post": {"summary": "Create an API token (the secret is in this answer only)", "operationId": "createToken",
                 "parameters": [_idem],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewToken"}}}},
                 "responses": {"201": _json("Token", "Created"), **error_responses(400, 401, 422)}}},
    "/api/v1/tokens/{token_id}": {"delete": {"summary": "Revoke one of my tokens", "operationId": "revokeToken",
                                             "parameters": [_tid],
                                             "responses": {"200": _json("Token"), **error_responses(401, 404, 409)}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "security": [],
                                     "responses": {"200": {"description": "OpenAPI 3.0 document"}}}},
}, SCHEMAS)
