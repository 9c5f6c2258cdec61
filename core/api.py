"""What every /api/v1 route shares: JSON errors, Idempotency-Key replay, the OpenAPI document."""
import re
from flask_babel import gettext as _
import hashlib
from datetime import datetime, timedelta
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, make_response, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import UTCDateTime
from core.errors import DomainError
from core.extensions import db

IDEMPOTENCY_TTL_HOURS = 24

# The OpenAPI description of every /api/v1 route: each blueprint's api module adds its own with
# ``describe``; /api/v1/openapi.json serves the union and tests hold the route map to it.
OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}


def describe(paths: dict, schemas: dict) -> None:
    OPENAPI_PATHS.update(paths)
    OPENAPI_SCHEMAS.update(schemas)


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of /api/v1 routes: bearer tokens only (app.py exempts it from CSRF)."""
    blueprint = Blueprint(name, import_name)

    @blueprint.before_request
    def require_token():
        if request.endpoint != "api.openapi" and not current_user.is_authenticated:
            raise DomainError("unauthenticated",
                              _("Send a valid personal API token: Authorization: Bearer <token>."), 401)
        refuse_unknown_query_parameters()

    return blueprint


def _documented_query(rule: str, method: str) -> set[str]:
    path = re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule)
    operation = OPENAPI_PATHS.get(path, {}).get(method.lower(), {})
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def refuse_unknown_query_parameters() -> None:
    """A query parameter the operation does not document is a client's mistake (a misspelt filter would
    otherwise be ignored silently): 400 with its name."""
    if request.url_rule is None:
        return
    unknown = sorted(set(request.args) - _documented_query(request.url_rule.rule, request.method))
    if unknown:
        raise DomainError("unknown_parameter", _("Unknown query parameter: %(names)s.",
                                                 names=", ".join(n[:40] for n in unknown[:5])), 400)


class IdempotencyRecord(db.Model):
    """The first answer to a creating call, kept so that a retry gets it again instead of a duplicate."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def json_body() -> dict:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("invalid_json", _("Send a JSON object with Content-Type: application/json."), 400)
    if not isinstance(data, dict):
        raise DomainError("invalid_json", _("The request body must be a JSON object."), 400)
    return data


def _fingerprint() -> str:
    return hashlib.sha256(b"\0".join([request.method.encode(), request.path.encode(), request.query_string,
                                      request.get_data()])).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = current_app.response_class(record.body, status=record.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def creating(view):
    """A creating call: commits once, and honours ``Idempotency-Key`` so a retry after a lost answer
    returns the first result instead of making a second."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            response = make_response(view(*args, **kwargs))
            db.session.commit()
            return response
        if not 1 <= len(key) <= 200:
            raise DomainError("idempotency_key_invalid", _("An Idempotency-Key has 1 to 200 characters."), 400)
        fingerprint = _fingerprint()
        lookup = select(IdempotencyRecord).where(IdempotencyRecord.user_id == current_user.id,
                                                 IdempotencyRecord.key == key)
        record = db.session.scalars(lookup).first()
        if record is not None:
            if record.fingerprint != fingerprint:
                raise DomainError("idempotency_key_reused",
                                  _("This Idempotency-Key was used for a different request."), 422)
            return _replay(record)
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            db.session.add(IdempotencyRecord(user_id=current_user.id, key=key, fingerprint=fingerprint,
                                             status=response.status_code, body=response.get_data(),
                                             created_at=clock.now()))
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent retry with the same key won the race: answer with its result.
            db.session.rollback()
            record = db.session.scalars(lookup).first()
            if record is None or record.fingerprint != fingerprint:
                raise DomainError("idempotency_key_reused",
                                  _("This Idempotency-Key was used for a different request."), 422) from None
            return _replay(record)
        return response

    wrapped.creating = True
    return wrapped


def purge_idempotency_records(now: datetime) -> int:
    result = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < now - timedelta(hours=IDEMPOTENCY_TTL_HOURS)))
    return result.rowcount or 0


ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}


def error_responses(*statuses: int) -> dict:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {str(s): {"description": "Error", "content": content} for s in statuses}


# Pieces of the OpenAPI descriptions every API module writes.

def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(ref: str, description: str = "OK") -> dict:
    """A response whose body is the named schema."""
    return {"description": description, "content": {"application/json": {"schema": schema_ref(ref)}}}


def json_request(ref: str) -> dict:
    """A required JSON request body of the named schema."""
    return {"required": True, "content": {"application/json": {"schema": schema_ref(ref)}}}


def query_parameter(name: str, schema: dict, description: str = "") -> dict:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**parameter, "description": description} if description else parameter


IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def openapi_document(paths: dict, schemas: dict) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Public resource trading platform API", "version": "1.0.0",
                 "description": "Personal API tokens: `Authorization: Bearer <token>`. Creating calls "
                                "accept an `Idempotency-Key` header. Errors answer "
                                "`{\"error\": {\"code\", \"message\"}}`. Money is a decimal string."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {path: {method: _with_400(operation) for method, operation in item.items()}
                  for path, item in paths.items()},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA, **schemas},
        },
    }


def _with_400(operation: dict) -> dict:
    """Every operation may answer 400 (an unknown query parameter, a NUL character)."""
    if "400" in operation.get("responses", {}):
        return operation
    return {**operation, "responses": {**operation["responses"], **error_responses(400)}}


def ok(payload, status: int = 200):
    return jsonify(payload), status

