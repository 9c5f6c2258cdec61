"""/api/v1/tender/guarantees: guarantors issue electronic bid guarantees (the signed file as the raw body),
revoke them and record claims; bidders read those issued for them; the centre and supervisors read all.
Bearer tokens only; HTTP here, the rules in tender.guarantees."""
import base64

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from core import clock, money
from core.api import api_blueprint, creating, describe, error_responses, json_body, ok
from core.crypto import guarantee as g
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import guarantees
from tender.models import OVERSEERS, Guarantee
from core.api import IDEMPOTENCY_KEY as _idem, json_answer as _json, schema_ref as _ref
from tender.api import _arg, _bad, _nullable_time, _object, _page_param, _string, _time, _time_schema, page_json
from tender.states import GUARANTEE_LABELS

api = api_blueprint("guarantee_api", __name__)
SEEING = (Role.GUARANTOR, Role.BIDDER, *OVERSEERS)


def claim_json(claim) -> dict:
    return {"id": claim.id, "trigger": claim.trigger, "amount": money.to_json(claim.amount), "note": claim.note,
            "recorded_at": _time(claim.recorded_at)}


def guarantee_json(guarantee: Guarantee, *, with_document: bool = False) -> dict:
    body = guarantees.fields(guarantee)
    answer = {"id": guarantee.id, "number": guarantee.number, "status": guarantee.status,
              "section_id": guarantee.section_id, "section_code": guarantee.section.code,
              "project_code": guarantee.section.project.code,
              "guarantor": {"name": body["guarantor"]["name"], "credit_code": guarantee.guarantor_code},
              "applicant": {"name": body["applicant"]["name"], "credit_code": guarantee.applicant_code},
              "beneficiary": {"name": body["beneficiary"]["name"], "credit_code": body["beneficiary"]["credit_code"]},
              "amount": money.to_json(guarantee.amount), "currency": body["currency"],
              "valid_from": _time(guarantee.valid_from), "valid_to": _time(guarantee.valid_to),
              "issued_at": _time(guarantee.issued_at), "letter_sha256": body["letter_sha256"],
              "sha256": guarantee.sha256, "uploaded_at": _time(guarantee.uploaded_at),
              "revoked_at": _time(guarantee.revoked_at), "revocation_reason": guarantee.revocation_reason,
              "claims": [claim_json(c) for c in guarantee.claims]}
    if with_document:
        check = guarantees.verify_at_opening(guarantee, clock.now())
        answer["document_base64"] = base64.b64encode(guarantee.document).decode()
        answer["check"] = {"ok": check.ok, "reason": check.reason, "message": check.message}
    return answer


def _guarantee(guarantee_id: int, action: str = "view") -> Guarantee:
    return check_object(get_or_404(Guarantee, guarantee_id), action=action)


@api.post("")
@roles_required(Role.GUARANTOR)
@creating
def issue():
    if (request.content_length or 0) > guarantees.MAX_DOCUMENT:
        raise DomainError("guarantee_too_large", _("A signed guarantee file is at most %(n)s KB.",
                                                   n=guarantees.MAX_DOCUMENT // 1024), 413)
    guarantee = guarantees.issue(current_user, request.get_data(), clock.now())
    return ok(guarantee_json(guarantee), 201)


@api.get("")
@roles_required(*SEEING)
def index():
    status = _arg("status")
    if "status" in request.args and status not in GUARANTEE_LABELS:
        raise _bad("query_invalid", _("%(name)s must be one of: %(options)s.", name="status",
                                      options=", ".join(GUARANTEE_LABELS)))
    query = guarantees.visible(current_user)
    if status:
        query = query.where(Guarantee.status == status)
    return ok(page_json(query, "guarantees", guarantee_json))


@api.get("/<int:guarantee_id>")
@roles_required(*SEEING)
def detail(guarantee_id: int):
    return ok(guarantee_json(_guarantee(guarantee_id), with_document=True))


@api.post("/<int:guarantee_id>/revoke")
@roles_required(Role.GUARANTOR)
def revoke(guarantee_id: int):
    target = _guarantee(guarantee_id, "manage")
    reason = json_body().get("reason")
    if not isinstance(reason, str):
        raise _bad("reason_invalid", _("reason must be text."))
    guarantees.revoke(current_user, target, reason, clock.now())
    db.session.commit()
    return ok(guarantee_json(target))


@api.post("/<int:guarantee_id>/claims")
@roles_required(Role.GUARANTOR)
@creating
def claim(guarantee_id: int):
    target = _guarantee(guarantee_id, "manage")
    body = json_body()
    for name in ("trigger", "amount"):
        if not isinstance(body.get(name), str):
            raise _bad(f"{name}_invalid", _("%(name)s must be text.", name=name))
    note = body.get("note", "")
    if not isinstance(note, str):
        raise _bad("note_invalid", _("%(name)s must be text.", name="note"))
    row = guarantees.claim(current_user, target, trigger=body["trigger"], amount=body["amount"], note=note,
                           now=clock.now())
    return ok({**claim_json(row), "guarantee": guarantee_json(target)}, 201)


# The OpenAPI description.

_P = "/api/v1/tender/guarantees"
_id = {"name": "guarantee_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_amount = {"type": "string", "pattern": "^[0-9]{1,16}\\.[0-9]{2}$"}
_sha = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_party = {"type": "object", "required": ["name", "credit_code"],
          "properties": {"name": _string, "credit_code": _string}}
_reasons = sorted(g.REASONS)


_claim_properties = {"id": {"type": "integer"}, "trigger": {"type": "string", "enum": list(guarantees.CLAIM_TRIGGERS)},
                     "amount": _amount, "note": _string, "recorded_at": _time_schema}
_guarantee_properties = {
    "id": {"type": "integer"}, "number": _string, "status": {"type": "string", "enum": list(GUARANTEE_LABELS)},
    "section_id": {"type": "integer"}, "section_code": _string, "project_code": _string,
    "guarantor": _party, "applicant": _party, "beneficiary": _party, "amount": _amount,
    "currency": {"type": "string", "enum": [g.CURRENCY]}, "valid_from": _time_schema, "valid_to": _time_schema,
    "issued_at": _time_schema, "letter_sha256": {**_sha, "nullable": True}, "sha256": _sha,
    "uploaded_at": _time_schema, "revoked_at": _nullable_time, "revocation_reason": _string,
    "claims": {"type": "array", "items": _ref("TenderGuaranteeClaim")}}
_detail_properties = {
    **_guarantee_properties,
    "document_base64": {"type": "string", "format": "byte", "description": "The signed file as uploaded."},
    "check": _object(["ok", "reason", "message"], {
        "ok": {"type": "boolean"}, "reason": {"type": "string", "enum": _reasons, "nullable": True},
        "message": _string}, description="The checks of the opening, made now against the trust store.")}

SCHEMAS = {
    "TenderGuaranteeClaim": _object(list(_claim_properties), _claim_properties),
    "TenderGuarantee": _object(list(_guarantee_properties), _guarantee_properties),
    "TenderGuaranteeDetail": _object(list(_detail_properties), _detail_properties),
    "TenderGuaranteePage": _object(["guarantees", "page", "per_page", "total", "pages"], {
        "guarantees": {"type": "array", "items": _ref("TenderGuarantee")}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}, "pages": {"type": "integer"}}),
    "TenderClaimRecorded": _object([*_claim_properties, "guarantee"], {**_claim_properties,
                                                                       "guarantee": _ref("TenderGuarantee")}),
    "TenderSignedGuarantee": _object(["body", "signature", "certificates"], {
        "body": {"type": "string", "description": "The guarantee's fields as RFC 8785 canonical JSON, as text."},
        "signature": {"type": "string", "pattern": "^([0-9a-f]{2})+$",
                      "description": "The guarantor's signature over the UTF-8 bytes of body, hex."},
        "certificates": {"type": "array", "minItems": 1, "maxItems": 4, "items": _string,
                         "description": "PEM: the signer's certificate first."}},
        description="docs/formats.md, \"Electronic bid guarantee\": the file exactly as the guarantor signed it."),
    "TenderRevocation": _object(["reason"], {"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                                        "pattern": "\\S"}}),
    "TenderNewClaim": _object(["trigger", "amount"], {
        "trigger": {"type": "string", "enum": list(guarantees.CLAIM_TRIGGERS)},
        "amount": {"type": "string", "pattern": "^[0-9]{1,16}(\\.[0-9]{1,2})?$",
                   "description": "Yuan; with the earlier claims at most the guaranteed amount."},
        "note": {"type": "string", "maxLength": 2000}}),
}

describe({
    _P: {
        "post": {"summary": "Upload a signed guarantee the caller's organisation issued (guarantors)",
                 "description": "The body is the signed file byte for byte. The platform finds the section and "
                                "the bidder from it and answers 422 with the first failing reason code "
                                f"({', '.join(_reasons)}), 403 when the file names another guarantor, 409 "
                                "after the section's bid deadline.",
                 "operationId": "tenderIssueGuarantee", "parameters": [_idem],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _ref("TenderSignedGuarantee")}}},
                 "responses": {"201": _json("TenderGuarantee", "Accepted and kept"),
                               **error_responses(400, 401, 403, 409, 413, 422)}},
        "get": {"summary": "Guarantees: a guarantor's own, those issued for a bidder; the centre and supervisors "
                           "see all", "operationId": "tenderListGuarantees",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": list(GUARANTEE_LABELS)}},
                               _page_param],
                "responses": {"200": _json("TenderGuaranteePage"), **error_responses(400, 401, 403)}}},
    f"{_P}/{{guarantee_id}}": {
        "get": {"summary": "One guarantee with its claims, the signed file, and the opening's checks made now",
                "operationId": "tenderGetGuarantee", "parameters": [_id],
                "responses": {"200": _json("TenderGuaranteeDetail"), **error_responses(401, 403, 404)}}},
    f"{_P}/{{guarantee_id}}/revoke": {
        "post": {"summary": "Revoke a guarantee before the bid deadline, saying why (its guarantor)",
                 "operationId": "tenderRevokeGuarantee", "parameters": [_id],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _ref("TenderRevocation")}}},
                 "responses": {"200": _json("TenderGuarantee"), **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/{{guarantee_id}}/claims": {
        "post": {"summary": "Record a claim after award (its guarantor)", "operationId": "tenderClaimGuarantee",
                 "parameters": [_id, _idem],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _ref("TenderNewClaim")}}},
                 "responses": {"201": _json("TenderClaimRecorded", "Recorded"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
}, SCHEMAS)
