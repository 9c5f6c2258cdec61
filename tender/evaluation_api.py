"""/api/v1/tender: a section's evaluation (committee, opened bids, the member's own scores, the candidates),
a committee member's scores, and the procuring unit's award. Bearer tokens only; HTTP here, the rules in
tender.evaluation and tender.award."""
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from core import clock, money
from core.api import IDEMPOTENCY_KEY as _idem, api_blueprint, creating, describe, error_responses, json_body, ok
from core.api import json_answer as _json, json_request as _body
from core.db import get_or_404
from core.permissions import Role, roles_required
from tender import award, evaluation, experts
from tender.api import _bad, _nullable_time, _object, _string, _time, _time_schema
from tender.models import Section
from tender.states import STATE_LABELS

api = api_blueprint("evaluation_api", __name__)
INSIDERS = (Role.CENTRE, Role.PROCURING, Role.EVALUATOR, Role.SUPERVISOR)


def _section(section_id: int) -> Section:
    section = get_or_404(Section, section_id)
    if current_user.role == Role.EVALUATOR and experts.member_of(section, current_user) is None:
        abort(404)
    if current_user.role == Role.PROCURING and not section.can_manage(current_user):
        abort(404)
    return section


def _score(value) -> str:
    return money.to_json(value)


def evaluation_json(section: Section) -> dict:
    member = experts.member_of(section, current_user)
    mine = evaluation.scores_of(member) if member else {}
    committee = section.committee
    return {
        "section_id": section.id, "section_code": section.code, "status": section.status,
        "method": section.evaluation_method,
        "weights": {"price": section.price_weight, "technical": section.technical_weight,
                    "commercial": section.commercial_weight},
        "committee": None if committee is None else {
            "drawn_at": _time(committee.drawn_at), "seed": committee.seed,
            "members": [{"position": m.position, "name": m.user.name, "chair": m.is_chair,
                         "signed_at": _time(m.signed_at)} for m in committee.members]},
        "bids": [{"bid_result_id": r.id, "bidder": r.organisation.name, "credit_code": r.organisation.credit_code,
                  "price": money.to_json(r.price),
                  "my_scores": {"technical": _score(mine[r.id].technical),
                                "commercial": _score(mine[r.id].commercial)} if r.id in mine else None}
                 for r in experts.valid_results(section)],
        "candidates": [{"rank": c["rank"], "bidder": c["name"], "credit_code": c["bidder"],
                        "price": money.to_json(c["price"]),
                        "score": money.to_json(c["score"]) if "score" in c else None}
                       for c in evaluation.candidates(section)],
        "publicity_ends_at": _time(section.publicity_ends_at),
    }


@api.get("/sections/<int:section_id>/evaluation")
@roles_required(*INSIDERS)
def show(section_id: int):
    return ok(evaluation_json(_section(section_id)))


@api.post("/sections/<int:section_id>/scores")
@roles_required(Role.EVALUATOR)
@creating
def scores(section_id: int):
    section = _section(section_id)
    rows = json_body().get("scores")
    if not isinstance(rows, list) or not rows or not all(
            isinstance(row, dict) and isinstance(row.get("bid_result_id"), int)
            and not isinstance(row.get("bid_result_id"), bool)
            and isinstance(row.get("technical"), str) and isinstance(row.get("commercial"), str) for row in rows):
        raise _bad("scores_invalid", _("scores must be a list of {bid_result_id, technical, commercial} with the "
                                       "scores as decimal strings."))
    evaluation.enter_scores(current_user, section,
                            {row["bid_result_id"]: (row["technical"], row["commercial"]) for row in rows},
                            clock.now())
    return ok(evaluation_json(section))


@api.post("/sections/<int:section_id>/award")
@roles_required(Role.PROCURING)
@creating
def award_section(section_id: int):
    section = _section(section_id)
    body = json_body()
    rank, reason = body.get("rank", 1), body.get("reason", "")
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise _bad("rank_invalid", _("rank must be a whole number."))
    if not isinstance(reason, str):
        raise _bad("reason_invalid", _("%(name)s must be text.", name="reason"))
    row = award.award(current_user, section, clock.now(), rank=rank, reason=reason)
    return ok({"section_id": section.id, "status": section.status, "rank": row.rank, "reason": row.reason,
               "winner": {"name": row.organisation.name, "credit_code": row.organisation.credit_code},
               "amount": money.to_json(row.amount), "award_date": section.award_date.isoformat(),
               "bidder_count": section.bidder_count, "awarded_at": _time(row.awarded_at),
               "notice": row.notice}, 201)


# The OpenAPI description.

_P = "/api/v1/tender/sections/{section_id}"
_id = {"name": "section_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_money = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}
_nullable_money = {**_money, "nullable": True}
_int = {"type": "integer"}

_evaluation_properties = {
    "section_id": _int, "section_code": _string, "status": {"type": "string", "enum": list(STATE_LABELS)},
    "method": {"type": "string", "enum": ["lowest_price", "comprehensive"]},
    "weights": _object(["price", "technical", "commercial"], {"price": _int, "technical": _int, "commercial": _int}),
    "committee": _object(["drawn_at", "seed", "members"], {
        "drawn_at": _time_schema, "seed": _string,
        "members": {"type": "array", "items": _object(["position", "name", "chair", "signed_at"], {
            "position": _int, "name": _string, "chair": {"type": "boolean"}, "signed_at": _nullable_time})}},
        nullable=True),
    "bids": {"type": "array", "items": _object(["bid_result_id", "bidder", "credit_code", "price", "my_scores"], {
        "bid_result_id": _int, "bidder": _string, "credit_code": _string, "price": _money,
        "my_scores": _object(["technical", "commercial"], {"technical": _money, "commercial": _money},
                             nullable=True)})},
    "candidates": {"type": "array", "items": _object(["rank", "bidder", "credit_code", "price", "score"], {
        "rank": _int, "bidder": _string, "credit_code": _string, "price": _money, "score": _nullable_money})},
    "publicity_ends_at": _nullable_time,
}
_award_properties = {
    "section_id": _int, "status": {"type": "string", "enum": list(STATE_LABELS)}, "rank": _int, "reason": _string,
    "winner": _object(["name", "credit_code"], {"name": _string, "credit_code": _string}), "amount": _money,
    "award_date": {"type": "string", "format": "date"}, "bidder_count": _int, "awarded_at": _time_schema,
    "notice": {"type": "string", "description": "The sealed award notice (docs/formats.md, \"Award notice\")."}}

SCHEMAS = {
    "TenderEvaluation": _object(list(_evaluation_properties), _evaluation_properties),
    "TenderScores": _object(["scores"], {"scores": {"type": "array", "minItems": 1, "items": _object(
        ["bid_result_id", "technical", "commercial"], {
            "bid_result_id": _int,
            "technical": {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]{1,2})?$",
                          "description": "0 to the section's technical weight."},
            "commercial": {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]{1,2})?$",
                           "description": "0 to the section's commercial weight."}})}}),
    "TenderNewAward": {"type": "object", "properties": {
        "rank": {"type": "integer", "minimum": 1, "default": 1, "description": "The candidate awarded."},
        "reason": {"type": "string", "maxLength": 2000, "description": "Why not the first candidate (required then)."}}},
    "TenderAward": _object(list(_award_properties), _award_properties),
}

describe({
    f"{_P}/evaluation": {
        "get": {"summary": "A section's evaluation: committee, valid bids (with the caller's own scores), candidates "
                           "(the centre, supervisors, the procuring unit, committee members)",
                "operationId": "tenderGetEvaluation", "parameters": [_id],
                "responses": {"200": _json("TenderEvaluation"), **error_responses(401, 403, 404)}}},
    f"{_P}/scores": {
        "post": {"summary": "Enter or change one's technical and commercial scores of valid bids (committee members, "
                            "comprehensive scoring, before the first sign-off)",
                 "operationId": "tenderEnterScores", "parameters": [_id, _idem], "requestBody": _body("TenderScores"),
                 "responses": {"200": _json("TenderEvaluation"), **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/award": {
        "post": {"summary": "Award the section after the publicity period (its procuring unit): 409 while a challenge "
                            "is pending or the procedure is suspended",
                 "operationId": "tenderAward", "parameters": [_id, _idem], "requestBody": _body("TenderNewAward"),
                 "responses": {"201": _json("TenderAward", "Awarded"), **error_responses(400, 401, 403, 404, 409, 422)}}},
}, SCHEMAS)
