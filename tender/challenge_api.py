"""/api/v1/tender: challenges (质疑). A registered bidder files one, the procuring unit answers; each party
reads its own, the centre and supervisors all. Bearer tokens only; HTTP here, the rules in tender.challenges."""
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.api import IDEMPOTENCY_KEY as _idem, api_blueprint, creating, describe, error_responses, json_body, ok
from core.api import json_answer as _json, json_request as _body, schema_ref as _ref
from core.db import get_or_404
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import challenges
from tender.api import (_bad, _nullable_time, _object, _page_param, _path, _section, _string, _time, _time_schema,
                        page_json)
from tender.models import CHALLENGE_SUBJECTS, Challenge
from tender.states import CHALLENGE_LABELS

api = api_blueprint("challenge_api", __name__)
SEEING = (Role.BIDDER, Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)


def extension_json(extension) -> dict:
    return {"number": extension.number, "days": extension.days, "reason": extension.reason,
            "status": extension.status, "requested_at": _time(extension.requested_at),
            "decided_at": _time(extension.decided_at), "due_before": _time(extension.due_before),
            "due_after": _time(extension.due_after)}


def challenge_json(challenge: Challenge) -> dict:
    now = clock.now()
    return {"id": challenge.id, "section_id": challenge.section_id, "section_code": challenge.section.code,
            "subject": challenge.subject, "grounds": challenge.grounds,
            "challenger": {"name": challenge.organisation.name, "credit_code": challenge.organisation.credit_code},
            "event_at": _time(challenge.event_at), "filed_at": _time(challenge.filed_at), "status": challenge.status,
            "first_due_at": _time(challenge.first_due_at), "due_at": _time(challenge.due_at),
            "overdue": challenge.is_overdue(now), "answer": challenge.answer,
            "answered_at": _time(challenge.answered_at), "satisfied": challenge.satisfied,
            "withdrawn_at": _time(challenge.withdrawn_at),
            "extensions": [extension_json(e) for e in challenge.extensions]}


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise _bad(f"{name}_invalid", _("%(name)s must be text.", name=name))
    return value


@api.get("/challenges")
@roles_required(*SEEING)
def index():
    return ok(page_json(challenges.visible(current_user), "challenges", challenge_json))


@api.post("/sections/<int:section_id>/challenges")
@roles_required(Role.BIDDER)
@creating
def file(section_id: int):
    target = _section(section_id)
    body = json_body()
    # The service judges both (registration first, so a stranger to the section learns nothing more).
    challenge = challenges.file(current_user, target, body.get("subject"), body.get("grounds"), clock.now())
    return ok(challenge_json(challenge), 201)


@api.get("/challenges/<int:challenge_id>")
@roles_required(*SEEING)
def detail(challenge_id: int):
    return ok(challenge_json(check_object(get_or_404(Challenge, challenge_id))))


@api.post("/challenges/<int:challenge_id>/answer")
@roles_required(Role.PROCURING)
def answer(challenge_id: int):
    target = check_object(get_or_404(Challenge, challenge_id), action="answer")
    challenges.answer(current_user, target, _text(json_body(), "answer"), clock.now())
    db.session.commit()
    return ok(challenge_json(target))


# The OpenAPI description.

_P = "/api/v1/tender"
_extension_properties = {"number": {"type": "integer", "enum": [1, 2]}, "days": {"type": "integer"},
                         "reason": _string, "status": {"type": "string",
                                                       "enum": ["granted", "requested", "approved", "refused"]},
                         "requested_at": _time_schema, "decided_at": _nullable_time, "due_before": _time_schema,
                         "due_after": _nullable_time}
_challenge_properties = {
    "id": {"type": "integer"}, "section_id": {"type": "integer"}, "section_code": _string,
    "subject": {"type": "string", "enum": list(CHALLENGE_SUBJECTS)}, "grounds": _string,
    "challenger": _object(["name", "credit_code"], {"name": _string, "credit_code": _string}),
    "event_at": _time_schema, "filed_at": _time_schema, "status": {"type": "string", "enum": list(CHALLENGE_LABELS)},
    "first_due_at": _time_schema, "due_at": {**_time_schema, "description": "The answer's due date, extensions included."},
    "overdue": {"type": "boolean"}, "answer": {"type": "string", "nullable": True}, "answered_at": _nullable_time,
    "satisfied": {"type": "boolean", "nullable": True}, "withdrawn_at": _nullable_time,
    "extensions": {"type": "array", "items": _ref("TenderChallengeExtension")}}
_text_field = {"type": "string", "minLength": 1, "maxLength": challenges.MAX_TEXT, "pattern": "\\S"}

SCHEMAS = {
    "TenderChallengeExtension": _object(list(_extension_properties), _extension_properties),
    "TenderChallenge": _object(list(_challenge_properties), _challenge_properties),
    "TenderChallengePage": _object(["challenges", "page", "per_page", "total", "pages"], {
        "challenges": {"type": "array", "items": _ref("TenderChallenge")}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}, "pages": {"type": "integer"}}),
    "TenderNewChallenge": _object(["subject", "grounds"], {
        "subject": {"type": "string", "enum": list(CHALLENGE_SUBJECTS)}, "grounds": _text_field}),
    "TenderChallengeAnswer": _object(["answer"], {"answer": _text_field}),
}

describe({
    f"{_P}/challenges": {
        "get": {"summary": "Challenges: a bidder's own, those of a unit's sections; the centre and supervisors see all",
                "operationId": "tenderListChallenges", "parameters": [_page_param],
                "responses": {"200": _json("TenderChallengePage"), **error_responses(400, 401, 403)}}},
    f"{_P}/sections/{{section_id}}/challenges": {
        "post": {"summary": "Challenge the documents, the opening or the result of a section (registered bidders)",
                 "description": "Within 7 working days (Chinese calendar) of the event: the tender notice or its "
                                "latest addendum, the bid deadline, the candidates' publicity. 409 with "
                                "challenge_window_closed, challenge_too_early or challenge_not_publicised.",
                 "operationId": "tenderFileChallenge", "parameters": [_path("section_id"), _idem],
                 "requestBody": _body("TenderNewChallenge"),
                 "responses": {"201": _json("TenderChallenge", "Filed"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/challenges/{{challenge_id}}": {
        "get": {"summary": "One challenge with its answer and extensions (the challenger, the unit, the centre, "
                           "supervisors)", "operationId": "tenderGetChallenge", "parameters": [_path("challenge_id")],
                "responses": {"200": _json("TenderChallenge"), **error_responses(401, 403, 404)}}},
    f"{_P}/challenges/{{challenge_id}}/answer": {
        "post": {"summary": "Answer a challenge (the section's procuring unit); after the due date it counts late",
                 "operationId": "tenderAnswerChallenge", "parameters": [_path("challenge_id")],
                 "requestBody": _body("TenderChallengeAnswer"),
                 "responses": {"200": _json("TenderChallenge"), **error_responses(400, 401, 403, 404, 409, 422)}}},
}, SCHEMAS)
