"""/api/v1/tender: projects, acceptance, notices, registration and downloads, clarifications and addenda,
rooms, and the historical import. Bearer tokens only; HTTP here, the rules in the services.

Money is a decimal string ("1250000.00"), times ISO-8601 with offset. Documents travel as the raw
request body (application documents) or base64 inside JSON (tender documents and addenda).
"""
import base64
import binascii
import io
from datetime import date, datetime, timezone

from functools import wraps

from flask import abort, current_app, jsonify, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import clock, uploads
from core.api import api_blueprint, creating, describe, error_responses, json_body, ok
from core.api import IDEMPOTENCY_KEY as _idem, json_answer as _json, json_request as _body
from core.api import query_parameter as _query, schema_ref as _ref
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import acceptance, bids, checklists, history, participation, projects, publication, rooms
from tender.models import (CATEGORIES, EVALUATION_METHODS, METHODS, OVERSEERS, ROOM_KINDS, Bid, Booking,
                           Clarification, Finding, Notice, NoticeDocument, Project, Registration, Room,
                           Section)
from tender.states import STATE_LABELS

api = api_blueprint("tender_api", __name__)

PER_PAGE = 20
MAX_PAGE = 100_000
MAX_DOCUMENTS = 20
PROJECT_STATES = ("draft", "submitted", "returned", "accepted", "accepted_with_gaps", "cancelled")


# What the answers look like.

def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def finding_json(finding: Finding) -> dict:
    return {"id": finding.id, "item": finding.item, "problem": finding.problem, "note": finding.note,
            "cleared_at": _time(finding.cleared_at)}


def review_json(review) -> dict | None:
    if review is None:
        return None
    return {"id": review.id, "outcome": review.outcome, "comment": review.comment,
            "decided_at": _time(review.decided_at),
            "gaps_due": review.gaps_due.isoformat() if review.gaps_due else None,
            "findings": [finding_json(f) for f in review.findings]}


def section_json(section: Section) -> dict:
    return {"id": section.id, "project_id": section.project_id, "code": section.code, "name": section.name,
            "category": section.category, "region_code": section.region_code, "method": section.method,
            "base_amount": _money(section.base_amount), "guarantee_amount": _money(section.guarantee_amount),
            "bid_validity_days": section.bid_validity_days, "evaluation_method": section.evaluation_method,
            "weights": {"price": section.price_weight, "technical": section.technical_weight,
                        "commercial": section.commercial_weight},
            "status": section.status, "round": section.round, "previous_id": section.previous_id,
            "published_at": _time(section.published_at), "deadline": _time(section.deadline),
            "min_days": section.min_days, "failure_reason": section.failure_reason,
            "deal_amount": _money(section.deal_amount),
            "award_date": section.award_date.isoformat() if section.award_date else None,
            "bidder_count": section.bidder_count}


def project_json(project: Project) -> dict:
    return {"id": project.id, "code": project.code, "name": project.name, "category": project.category,
            "region_code": project.region_code, "green_channel": project.green_channel,
            "green_channel_reason": project.green_channel_reason, "status": project.status,
            "historical": project.historical, "procuring_unit_id": project.procuring_unit_id,
            "procuring_credit_code": project.procuring_credit_code, "created_at": _time(project.created_at),
            "submitted_at": _time(project.submitted_at),
            "checklist": [{"item": i.key, "label": str(i.label), "critical": i.critical}
                          for i in checklists.checklist(project.category)],
            "sections": [section_json(s) for s in project.sections],
            "documents": [{"id": d.id, "item": d.item, "filename": d.filename, "content_type": d.content_type,
                           "size": d.size, "sha256": d.sha256, "uploaded_at": _time(d.uploaded_at)}
                          for d in project.documents],
            "latest_review": review_json(project.latest_review)}


def notice_json(notice: Notice) -> dict:
    return {"id": notice.id, "section_id": notice.section_id, "kind": notice.kind, "title": notice.title,
            "body": notice.body, "published_at": _time(notice.published_at),
            "deadline_before": _time(notice.deadline_before), "deadline_after": _time(notice.deadline_after),
            "documents": [{"id": d.id, "filename": d.filename, "content_type": d.content_type, "size": d.size,
                           "sha256": d.sha256} for d in notice.documents]}


def clarification_json(clarification: Clarification, user) -> dict:
    """Never who asked: a bidder learns only whether the question is its own organisation's."""
    return {"id": clarification.id, "section_id": clarification.section_id, "question": clarification.question,
            "asked_at": _time(clarification.asked_at), "answer": clarification.answer,
            "answered_at": _time(clarification.answered_at),
            "mine": clarification.asked_by_org_id == user.organisation_id}


def room_json(room: Room) -> dict:
    return {"id": room.id, "name": room.name, "kind": room.kind, "seats": room.seats}


def booking_json(booking: Booking) -> dict:
    return {"id": booking.id, "room_id": booking.room_id, "section_id": booking.section_id,
            "starts_at": _time(booking.starts_at), "ends_at": _time(booking.ends_at), "purpose": booking.purpose,
            "booked_at": _time(booking.booked_at), "cancelled_at": _time(booking.cancelled_at)}


def page_json(query, key: str, render) -> dict:
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    return {key: [render(row) for row in page.items], "page": page.page, "per_page": PER_PAGE,
            "total": page.total or 0, "pages": page.pages}


# Reading the request. Malformed input is a 400 with its reason; the services judge the rest.

def _bad(code: str, message: str):
    return DomainError(code, message, 400)


def _arg(name: str, maximum: int = 100) -> str:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise _bad("query_invalid", _("Give %(name)s at most once.", name=name))
    value = values[0] if values else ""
    if len(value) > maximum:
        raise _bad("query_invalid", _("%(name)s has at most %(n)s characters.", name=name, n=maximum))
    return value


def _choice_arg(name: str, options) -> str:
    value = _arg(name)
    if name in request.args and value not in options:
        raise _bad("query_invalid", _("%(name)s must be one of: %(options)s.", name=name, options=", ".join(options)))
    return value


def _page() -> int:
    value = _arg("page", 6)
    if "page" not in request.args:
        return 1
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise _bad("page_invalid", _("page is a whole number from 1 to %(n)s.", n=MAX_PAGE))
    return int(value)


def _text(body: dict, name: str, *, required: bool = False) -> str | None:
    """A text field as it came, or None when absent; anything but text is refused here."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _bad(f"{name}_invalid", _("%(name)s must be text.", name=name))
    return value


def _moment(body: dict, name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    try:  # at the ends of the calendar a moment has no UTC or Beijing equivalent
        if moment is not None and moment.tzinfo is not None:
            return clock.local(moment.astimezone(timezone.utc)).astimezone(timezone.utc)
    except OverflowError:
        pass
    raise _bad(f"{name}_invalid", _("%(name)s must be a date and time with its offset, such as "
                                    "2026-05-20T09:30:00+08:00.", name=name))


def _day(body: dict, name: str) -> date | None:
    value = body.get(name)
    if value is None:
        return None
    try:  # the last days of the calendar have no day after them for a deadline
        if isinstance(value, str) and len(value) == 10 and date.fromisoformat(value) < date(9999, 1, 1):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _bad(f"{name}_invalid", _("%(name)s must be a date such as 2026-05-20.", name=name))


def _documents(body: dict) -> list[tuple[str, bytes]]:
    """[{filename, content_base64}] as (filename, bytes)."""
    value = body.get("documents", [])
    if not isinstance(value, list) or len(value) > MAX_DOCUMENTS \
            or not all(isinstance(d, dict) and isinstance(d.get("filename"), str)
                       and isinstance(d.get("content_base64"), str) for d in value):
        raise _bad("documents_invalid", _("documents is a list of at most %(n)s objects, each with a filename and "
                                          "its content_base64.", n=MAX_DOCUMENTS))
    documents = []
    for document in value:
        try:
            data = base64.b64decode(document["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise _bad("document_base64_invalid", _("The content of %(name)s is not valid base64.",
                                                    name=uploads.clean_filename(document["filename"]))) from None
        documents.append((document["filename"], data))
    return documents


def _project(project_id: int, action: str = "view") -> Project:
    return check_object(get_or_404(Project, project_id), action=action)


def _section(section_id: int, action: str = "view") -> Section:
    section = check_object(get_or_404(Section, section_id))
    return check_object(section, action=action) if action != "view" else section


def _may_follow(section: Section) -> Section:
    """Registered bidders and those running or watching the section follow its documents and questions."""
    if not participation.may_download(current_user, section):
        raise DomainError("not_registered", _("Register for the section to see its documents and questions."), 403)
    return section


# Projects and acceptance.

@api.get("/projects")
@roles_required(Role.PROCURING, *OVERSEERS)
def project_list():
    status = _choice_arg("status", PROJECT_STATES)
    query = projects.mine(current_user) if current_user.role == Role.PROCURING \
        else select(Project).order_by(Project.id.desc())
    if status:
        query = query.where(Project.status == status)
    return ok(page_json(query, "projects", project_json))


@api.post("/projects")
@roles_required(Role.PROCURING)
@creating
def create_project():
    body = json_body()
    sections = body.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise _bad("sections_invalid", _("sections is a list of objects, one per section (标段)."))
    green = body.get("green_channel", False)
    if not isinstance(green, bool):
        raise _bad("green_channel_invalid", _("green_channel is true or false."))
    project = projects.create(current_user, name=body.get("name"), category=body.get("category"),
                              region_code=body.get("region_code"), green_channel=green,
                              green_channel_reason=_text(body, "green_channel_reason") or "",
                              sections=[_section_fields(s) for s in sections], now=clock.now())
    return ok(project_json(project), 201)


def _section_fields(body: dict) -> dict:
    return {name: body.get(name) for name in projects.SECTION_FIELDS}


@api.get("/projects/<int:project_id>")
def project(project_id: int):
    return ok(project_json(_project(project_id)))


@api.post("/projects/<int:project_id>/sections")
@roles_required(Role.PROCURING)
@creating
def add_section(project_id: int):
    target = _project(project_id, "manage")
    section = projects.add_section(current_user, target, now=clock.now(), **_section_fields(json_body()))
    return ok(section_json(section), 201)


@api.post("/projects/<int:project_id>/documents")
@roles_required(Role.PROCURING)
@creating
def add_document(project_id: int):
    target = _project(project_id, "manage")
    document = projects.add_document(current_user, target, _arg("item", 40), _arg("filename", 200),
                                     request.get_data(), clock.now())
    return ok({"id": document.id, "item": document.item, "filename": document.filename,
               "content_type": document.content_type, "size": document.size, "sha256": document.sha256,
               "uploaded_at": _time(document.uploaded_at)}, 201)


@api.post("/projects/<int:project_id>/submit")
@roles_required(Role.PROCURING)
def submit_project(project_id: int):
    submitted = projects.submit(current_user, _project(project_id, "manage"), clock.now())
    db.session.commit()
    return ok(project_json(submitted))


@api.get("/acceptance-queue")
@roles_required(Role.CENTRE)
def acceptance_queue():
    return ok(page_json(acceptance.queue(), "projects", project_json))


@api.post("/projects/<int:project_id>/decision")
@roles_required(Role.CENTRE)
@creating
def decide(project_id: int):
    target = _project(project_id, "review")
    body = json_body()
    verdicts = body.get("verdicts", {})
    if not isinstance(verdicts, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("verdict"), str) and isinstance(v.get("note", ""), str | None)
            for v in verdicts.values()):
        raise _bad("verdicts_invalid", _("verdicts maps each checklist item to {\"verdict\": \"ok\", \"missing\" or "
                                         "\"defective\", \"note\": text}."))
    review = acceptance.decide(current_user, target, outcome=body.get("outcome"),
                               verdicts={k: (v["verdict"], v.get("note") or "") for k, v in verdicts.items()},
                               comment=_text(body, "comment") or "", gaps_due=_day(body, "gaps_due"),
                               now=clock.now())
    return ok({**review_json(review), "project_status": target.status}, 201)


@api.post("/projects/<int:project_id>/gaps/<int:finding_id>/clear")
@roles_required(Role.CENTRE)
def clear_gap(project_id: int, finding_id: int):
    target = _project(project_id, "review")
    finding = get_or_404(Finding, finding_id)
    if finding.review.project_id != target.id:
        abort(404)
    acceptance.clear_gap(current_user, target, finding, clock.now())
    db.session.commit()
    return ok(project_json(target))


# Publication and the notice board.

@api.post("/sections/<int:section_id>/publish")
@roles_required(Role.CENTRE)
@creating
def publish(section_id: int):
    section = _section(section_id, "publish")
    body = json_body()
    notice = publication.publish(current_user, section, title=body.get("title"), body=body.get("body"),
                                 deadline=_moment(body, "deadline"), documents=_documents(body), now=clock.now())
    return ok({**notice_json(notice), "section": section_json(section)}, 201)


@api.get("/notices")
def notices():
    filters = {"q": _arg("q"), "region": _arg("region"), "category": _choice_arg("category", CATEGORIES),
               "method": _choice_arg("method", METHODS), "status": _choice_arg("status", publication.PUBLIC_STATES)}
    if "region" in request.args and not (len(filters["region"]) == 6 and filters["region"].isascii()
                                         and filters["region"].isdigit()):
        raise _bad("query_invalid", _("region is a six-digit administrative division code."))
    return ok(page_json(publication.notice_board(**filters), "notices", _board_entry))


def _board_entry(section: Section) -> dict:
    notice = section.tender_notice
    return {**section_json(section), "project_code": section.project.code, "project_name": section.project.name,
            "title": notice.title if notice else None}


@api.get("/sections/<int:section_id>")
def section(section_id: int):
    target = _section(section_id)
    registered = participation.registration(target, current_user.organisation_id) is not None \
        if current_user.role == Role.BIDDER else None
    return ok({**section_json(target), "project_code": target.project.code, "project_name": target.project.name,
               "status_label": str(STATE_LABELS.get(target.status, target.status)), "registered": registered,
               "notices": [notice_json(n) for n in target.notices]})


# Bidders: registration and documents.

@api.post("/sections/<int:section_id>/registrations")
@roles_required(Role.BIDDER)
@creating
def register(section_id: int):
    entry = participation.register(current_user, _section(section_id), clock.now())
    return ok(registration_json(entry), 201)


def registration_json(entry: Registration) -> dict:
    return {"id": entry.id, "section_id": entry.section_id, "organisation_id": entry.organisation_id,
            "registered_at": _time(entry.registered_at)}


@api.get("/sections/<int:section_id>/documents/<int:document_id>")
def download(section_id: int, document_id: int):
    target = _section(section_id)
    document = get_or_404(NoticeDocument, document_id)
    if document.notice.section_id != target.id:
        abort(404)
    data = participation.download(current_user, document, clock.now(), request.remote_addr or "",
                                  request.headers.get("User-Agent", ""))
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=document.content_type, as_attachment=True,
                     download_name=document.filename, etag=document.sha256, max_age=0)


# Clarifications and addenda.

@api.get("/sections/<int:section_id>/clarifications")
def clarifications(section_id: int):
    target = _may_follow(_section(section_id))
    return ok({"clarifications": [clarification_json(c, current_user)
                                  for c in participation.visible_clarifications(current_user, target)]})


@api.post("/sections/<int:section_id>/clarifications")
@roles_required(Role.BIDDER)
@creating
def ask(section_id: int):
    target = _section(section_id)
    asked = participation.ask(current_user, target, _text(json_body(), "question"), clock.now())
    return ok(clarification_json(asked, current_user), 201)


@api.post("/clarifications/<int:clarification_id>/answer")
@roles_required(Role.PROCURING, Role.CENTRE)
def answer(clarification_id: int):
    clarification = get_or_404(Clarification, clarification_id)
    check_object(clarification.section, action="answer")
    participation.answer(current_user, clarification, _text(json_body(), "answer"), clock.now())
    db.session.commit()
    return ok(clarification_json(clarification, current_user))


@api.post("/sections/<int:section_id>/addenda")
@roles_required(Role.PROCURING, Role.CENTRE)
@creating
def addendum(section_id: int):
    target = _section(section_id, "answer")
    body = json_body()
    notice = participation.addendum(current_user, target, title=body.get("title"), body=body.get("body"),
                                    documents=_documents(body), now=clock.now())
    return ok({**notice_json(notice), "section": section_json(target)}, 201)


# Rooms.

@api.get("/rooms")
@roles_required(Role.CENTRE, Role.SUPERVISOR)
def room_list():
    return ok({"rooms": [room_json(r) for r in db.session.scalars(select(Room).order_by(Room.name))],
               "bookings": [booking_json(b) for b in db.session.scalars(rooms.upcoming(clock.now()))]})


@api.post("/rooms")
@roles_required(Role.CENTRE)
@creating
def create_room():
    body = json_body()
    room = rooms.create_room(current_user, body.get("name"), body.get("kind"), body.get("seats", 0), clock.now())
    return ok(room_json(room), 201)


@api.post("/rooms/<int:room_id>/bookings")
@roles_required(Role.CENTRE)
@creating
def book(room_id: int):
    room = get_or_404(Room, room_id)
    body = json_body()
    section_id = body.get("section_id")
    target = None
    if section_id is not None:
        if isinstance(section_id, bool) or not isinstance(section_id, int):
            raise _bad("section_id_invalid", _("section_id is the id of a section."))
        target = db.session.get(Section, section_id) if -2 ** 63 <= section_id < 2 ** 63 else None
        if target is None:
            raise DomainError("section_unknown", _("There is no section %(id)s.", id=section_id))
    booking = rooms.book(current_user, room, starts_at=_moment(body, "starts_at"), ends_at=_moment(body, "ends_at"),
                         purpose=body.get("purpose"), section=target, now=clock.now())
    return ok(booking_json(booking), 201)


@api.delete("/bookings/<int:booking_id>")
@roles_required(Role.CENTRE)
def cancel_booking(booking_id: int):
    booking = rooms.cancel(current_user, get_or_404(Booking, booking_id), clock.now())
    db.session.commit()
    return ok(booking_json(booking))


# The historical import.

@api.post("/history/imports")
@roles_required(Role.ADMIN)
@creating
def import_history():
    try:
        report = history.import_csv(current_user, request.get_data(), clock.now())
    except history.ImportRefused as refused:
        db.session.rollback()
        return jsonify({"error": {"code": refused.code, "message": refused.message,
                                  "lines": [{"line": line, "message": message}
                                            for line, message in refused.report.errors]}}), refused.status
    return ok({"rows": report.rows, "projects": report.projects, "sections": report.sections,
               "failed": report.failed}, 201)


# The OpenAPI description of the routes above; tests hold the route map to it.







def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}




def _object(required: list, properties: dict, **extra) -> dict:
    return {"type": "object", "required": required, "properties": properties, **extra}


_page_param = _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1})
_string = {"type": "string"}
_text_field = {"type": "string", "minLength": 1, "pattern": "\\S"}
_nullable_string = {"type": "string", "nullable": True}
_time_schema = {"type": "string", "format": "date-time"}
_nullable_time = {"type": "string", "format": "date-time", "nullable": True}
_amount = {"type": "string", "pattern": "^[0-9]{1,16}(\\.[0-9]{1,2})?$",
           "description": "Yuan as a decimal string with at most two decimal places."}
_nullable_amount = {"type": "string", "pattern": "^[0-9]{1,16}\\.[0-9]{2}$", "nullable": True}
_region = {"type": "string", "pattern": "^[0-9]{6}$", "description": "Administrative division code (行政区划代码)."}
_item_keys = sorted({i.key for items in checklists.CHECKLISTS.values() for i in items})
_section_states = list(STATE_LABELS)

_finding = _object(["id", "item", "problem", "note", "cleared_at"], {
    "id": {"type": "integer"}, "item": {"type": "string", "enum": _item_keys},
    "problem": {"type": "string", "enum": ["missing", "defective"]}, "note": _string, "cleared_at": _nullable_time})
_review_properties = {
    "id": {"type": "integer"}, "outcome": {"type": "string", "enum": ["accepted", "returned", "accepted_with_gaps"]},
    "comment": _string, "decided_at": _time_schema,
    "gaps_due": {"type": "string", "format": "date", "nullable": True},
    "findings": {"type": "array", "items": _finding}}
_review_required = list(_review_properties)
_section_properties = {
    "id": {"type": "integer"}, "project_id": {"type": "integer"}, "code": _string, "name": _string,
    "category": {"type": "string", "enum": list(CATEGORIES)}, "region_code": _string,
    "method": {"type": "string", "enum": list(METHODS)}, "base_amount": _nullable_amount,
    "guarantee_amount": {"type": "string", "pattern": "^[0-9]{1,16}\\.[0-9]{2}$"},
    "bid_validity_days": {"type": "integer"}, "evaluation_method": {"type": "string", "enum": list(EVALUATION_METHODS)},
    "weights": {"type": "object", "description": "Comprehensive scoring's weights (price, technical, commercial).",
                "properties": {k: {"type": "integer"} for k in ("price", "technical", "commercial")},
                "required": ["price", "technical", "commercial"], "additionalProperties": False},
    "status": {"type": "string", "enum": _section_states}, "round": {"type": "integer", "minimum": 1},
    "previous_id": {"type": "integer", "nullable": True}, "published_at": _nullable_time, "deadline": _nullable_time,
    "min_days": {"type": "integer", "nullable": True}, "failure_reason": _string, "deal_amount": _nullable_amount,
    "award_date": {"type": "string", "format": "date", "nullable": True},
    "bidder_count": {"type": "integer", "nullable": True}}
_notice_document = _object(["id", "filename", "content_type", "size", "sha256"], {
    "id": {"type": "integer"}, "filename": _string, "content_type": _string, "size": {"type": "integer"},
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}})
_notice_properties = {
    "id": {"type": "integer"}, "section_id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["tender", "addendum"]}, "title": _string, "body": _string,
    "published_at": _time_schema, "deadline_before": _nullable_time, "deadline_after": _nullable_time,
    "documents": {"type": "array", "items": _notice_document}}
_project_document_properties = {
    "id": {"type": "integer"}, "item": {"type": "string", "enum": _item_keys}, "filename": _string,
    "content_type": _string, "size": {"type": "integer"}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "uploaded_at": _time_schema}
_upload = _object(["filename", "content_base64"], {
    "filename": {"type": "string", "minLength": 1, "maxLength": 200},
    "content_base64": {"type": "string", "format": "byte", "description": "The file's bytes in base64."}})
_page_properties = {"page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
                    "pages": {"type": "integer"}}

SCHEMAS = {
    "TenderSection": _object(list(_section_properties), _section_properties),
    "TenderReview": _object(_review_required + ["project_status"], {
        **_review_properties, "project_status": {"type": "string", "enum": list(PROJECT_STATES)}}),
    "TenderProject": _object(
        ["id", "code", "name", "category", "region_code", "green_channel", "green_channel_reason", "status",
         "historical", "procuring_unit_id", "procuring_credit_code", "created_at", "submitted_at", "checklist",
         "sections", "documents", "latest_review"], {
            "id": {"type": "integer"}, "code": _string, "name": _string,
            "category": {"type": "string", "enum": list(CATEGORIES)}, "region_code": _string,
            "green_channel": {"type": "boolean"}, "green_channel_reason": _string,
            "status": {"type": "string", "enum": list(PROJECT_STATES)}, "historical": {"type": "boolean"},
            "procuring_unit_id": {"type": "integer", "nullable": True}, "procuring_credit_code": _string,
            "created_at": _time_schema, "submitted_at": _nullable_time,
            "checklist": {"type": "array", "items": _object(["item", "label", "critical"], {
                "item": {"type": "string", "enum": _item_keys}, "label": _string, "critical": {"type": "boolean"}})},
            "sections": {"type": "array", "items": _ref("TenderSection")},
            "documents": {"type": "array", "items": _object(list(_project_document_properties),
                                                            _project_document_properties)},
            "latest_review": _object(_review_required, _review_properties, nullable=True)}),
    "TenderProjectPage": _object(["projects", *_page_properties], {
        "projects": {"type": "array", "items": _ref("TenderProject")}, **_page_properties}),
    "TenderProjectDocument": _object(list(_project_document_properties), _project_document_properties),
    "TenderNotice": _object(list(_notice_properties), _notice_properties),
    "TenderPublished": _object([*_notice_properties, "section"], {**_notice_properties,
                                                                   "section": _ref("TenderSection")}),
    "TenderSectionDetail": _object([*_section_properties, "project_code", "project_name", "status_label",
                                    "registered", "notices"], {
        **_section_properties, "project_code": _string, "project_name": _string, "status_label": _string,
        "registered": {"type": "boolean", "nullable": True,
                       "description": "For a bidder: whether its organisation is registered; else null."},
        "notices": {"type": "array", "items": _ref("TenderNotice")}}),
    "TenderNoticeBoard": _object(["notices", *_page_properties], {
        "notices": {"type": "array", "items": _object([*_section_properties, "project_code", "project_name", "title"], {
            **_section_properties, "project_code": _string, "project_name": _string, "title": _nullable_string})},
        **_page_properties}),
    "TenderRegistration": _object(["id", "section_id", "organisation_id", "registered_at"], {
        "id": {"type": "integer"}, "section_id": {"type": "integer"}, "organisation_id": {"type": "integer"},
        "registered_at": _time_schema}),
    "TenderClarification": _object(["id", "section_id", "question", "asked_at", "answer", "answered_at", "mine"], {
        "id": {"type": "integer"}, "section_id": {"type": "integer"}, "question": _string, "asked_at": _time_schema,
        "answer": _nullable_string, "answered_at": _nullable_time,
        "mine": {"type": "boolean", "description": "Asked by the caller's organisation. Who asked is never shown."}}),
    "TenderClarificationList": _object(["clarifications"], {
        "clarifications": {"type": "array", "items": _ref("TenderClarification")}}),
    "TenderRoom": _object(["id", "name", "kind", "seats"], {
        "id": {"type": "integer"}, "name": _string, "kind": {"type": "string", "enum": list(ROOM_KINDS)},
        "seats": {"type": "integer", "minimum": 0}}),
    "TenderBooking": _object(["id", "room_id", "section_id", "starts_at", "ends_at", "purpose", "booked_at",
                              "cancelled_at"], {
        "id": {"type": "integer"}, "room_id": {"type": "integer"}, "section_id": {"type": "integer", "nullable": True},
        "starts_at": _time_schema, "ends_at": _time_schema, "purpose": _string, "booked_at": _time_schema,
        "cancelled_at": _nullable_time}),
    "TenderRoomList": _object(["rooms", "bookings"], {
        "rooms": {"type": "array", "items": _ref("TenderRoom")},
        "bookings": {"type": "array", "items": _ref("TenderBooking"), "description": "Bookings not yet over."}}),
    "TenderImportReport": _object(["rows", "projects", "sections", "failed"], {
        "rows": {"type": "integer"}, "projects": {"type": "integer"}, "sections": {"type": "integer"},
        "failed": {"type": "integer", "description": "Sections without a deal amount: failed (流标)."}}),
    "TenderImportRefused": _object(["error"], {"error": _object(["code", "message"], {
        "code": _string, "message": _string,
        "lines": {"type": "array", "description": "Every bad line of the file and what is wrong with it.",
                  "items": _object(["line", "message"], {"line": {"type": "integer"}, "message": _string})}})}),
    # Request bodies.
    "TenderNewSection": _object(["name", "method", "base_amount", "guarantee_amount", "bid_validity_days",
                                 "evaluation_method"], {
        "name": {**_text_field, "maxLength": 200}, "method": {"type": "string", "enum": list(METHODS)},
        "base_amount": {**_amount, "description": "Control price (works) or budget, greater than zero."},
        "guarantee_amount": {**_amount, "description": "Bid guarantee: at most 2% of base_amount."},
        "bid_validity_days": {"type": "integer", "minimum": 30, "maximum": 365},
        "evaluation_method": {"type": "string", "enum": list(EVALUATION_METHODS)},
        "region_code": {**_region, "description": "Defaults to the project's region."},
        **{f"{part}_weight": {"type": "integer", "minimum": 0, "maximum": 100,
                              "description": "Comprehensive scoring: the three weights add up to 100 (price above "
                                             "0); all left out: 30, 60 and 10."}
           for part in ("price", "technical", "commercial")}}),
    "TenderNewProject": _object(["name", "category", "region_code"], {
        "name": {**_text_field, "maxLength": 200}, "category": {"type": "string", "enum": list(CATEGORIES)},
        "region_code": _region, "green_channel": {"type": "boolean", "default": False},
        "green_channel_reason": {"type": "string", "maxLength": 300,
                                 "description": "Required (not blank) with green_channel."},
        "sections": {"type": "array", "items": _ref("TenderNewSection")}}),
    "TenderDecision": _object(["outcome", "verdicts"], {
        "outcome": {"type": "string", "enum": list(acceptance.OUTCOMES)},
        "verdicts": {"type": "object", "description": "Every item of the project's checklist, judged.",
                     "additionalProperties": _object(["verdict"], {
                         "verdict": {"type": "string", "enum": list(acceptance.VERDICTS)},
                         "note": {"type": "string", "maxLength": 1000, "nullable": True,
                                  "description": "Required for a defective item."}})},
        "comment": {"type": "string", "maxLength": 2000},
        "gaps_due": {"type": "string", "format": "date", "nullable": True,
                     "description": "With accept_with_gaps: a day after today (Beijing time)."}}),
    "TenderPublication": _object(["title", "body", "deadline", "documents"], {
        "title": {**_text_field, "maxLength": 300}, "body": _text_field,
        "deadline": {**_time_schema, "description": "The bid deadline and opening time, at least the statutory "
                                                    "minimum of days after publication."},
        "documents": {"type": "array", "minItems": 1, "maxItems": MAX_DOCUMENTS, "items": _upload}}),
    "TenderQuestion": _object(["question"], {"question": {**_text_field, "maxLength": 5000}}),
    "TenderAnswer": _object(["answer"], {"answer": {**_text_field, "maxLength": 5000}}),
    "TenderAddendum": _object(["title", "body"], {
        "title": {**_text_field, "maxLength": 300}, "body": {**_text_field, "maxLength": 20000},
        "documents": {"type": "array", "maxItems": MAX_DOCUMENTS, "items": _upload, "default": []}}),
    "TenderNewRoom": _object(["name", "kind"], {
        "name": {**_text_field, "maxLength": 100}, "kind": {"type": "string", "enum": list(ROOM_KINDS)},
        "seats": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}),
    "TenderNewBooking": _object(["starts_at", "ends_at", "purpose"], {
        "starts_at": _time_schema, "ends_at": {**_time_schema, "description": "After starts_at, within a week."},
        "purpose": {**_text_field, "maxLength": 200}, "section_id": {"type": "integer", "nullable": True}}),
}

_P = "/api/v1/tender"
_project_id, _section_id = _path("project_id"), _path("section_id")
_download_types = {content_type: {"schema": {"type": "string", "format": "binary"}}
                   for content_type, _signatures in uploads.DOCUMENT_TYPES.values()}
_import_refused = {"description": "Nothing imported: every bad line listed",
                   "content": {"application/json": {"schema": _ref("TenderImportRefused")}}}

describe({
    f"{_P}/projects": {
        "get": {"summary": "Projects: a procuring unit's own; the centre, supervisors and admins see all",
                "operationId": "tenderListProjects",
                "parameters": [_query("status", {"type": "string", "enum": list(PROJECT_STATES)}), _page_param],
                "responses": {"200": _json("TenderProjectPage"), **error_responses(400, 401, 403)}},
        "post": {"summary": "Register a draft project with its sections (procuring units)",
                 "operationId": "tenderCreateProject", "parameters": [_idem],
                 "requestBody": _body("TenderNewProject"),
                 "responses": {"201": _json("TenderProject", "Created"), **error_responses(400, 401, 403, 422)}}},
    f"{_P}/projects/{{project_id}}": {
        "get": {"summary": "One project with its sections, documents and latest acceptance decision",
                "operationId": "tenderGetProject", "parameters": [_project_id],
                "responses": {"200": _json("TenderProject"), **error_responses(401, 404)}}},
    f"{_P}/projects/{{project_id}}/sections": {
        "post": {"summary": "Add a section (标段) before submission", "operationId": "tenderAddSection",
                 "parameters": [_project_id, _idem], "requestBody": _body("TenderNewSection"),
                 "responses": {"201": _json("TenderSection", "Created"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/projects/{{project_id}}/documents": {
        "post": {"summary": "Upload an application document for one checklist item (the body is the file)",
                 "operationId": "tenderAddProjectDocument",
                 "parameters": [_project_id, _idem,
                                {**_query("item", {"type": "string", "enum": _item_keys},
                                          "The checklist item the document answers."), "required": True},
                                {**_query("filename", {"type": "string", "minLength": 1, "maxLength": 200},
                                          "The file's name; its extension must match its content."),
                                 "required": True}],
                 "requestBody": {"required": True, "content": {"application/octet-stream": {
                     "schema": {"type": "string", "format": "binary"}}}},
                 "responses": {"201": _json("TenderProjectDocument", "Created"),
                               **error_responses(400, 401, 403, 404, 409, 413, 415, 422)}}},
    f"{_P}/projects/{{project_id}}/submit": {
        "post": {"summary": "Submit the project for acceptance", "operationId": "tenderSubmitProject",
                 "parameters": [_project_id],
                 "responses": {"200": _json("TenderProject"), **error_responses(401, 403, 404, 409, 422)}}},
    f"{_P}/acceptance-queue": {
        "get": {"summary": "Submitted projects waiting for acceptance: green channel first, then first come",
                "operationId": "tenderAcceptanceQueue", "parameters": [_page_param],
                "responses": {"200": _json("TenderProjectPage"), **error_responses(400, 401, 403)}}},
    f"{_P}/projects/{{project_id}}/decision": {
        "post": {"summary": "Accept, return (listing every finding at once) or accept with gaps (centre)",
                 "operationId": "tenderDecide", "parameters": [_project_id, _idem],
                 "requestBody": _body("TenderDecision"),
                 "responses": {"201": _json("TenderReview", "Decided"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/projects/{{project_id}}/gaps/{{finding_id}}/clear": {
        "post": {"summary": "Confirm a supplied gap; the last one makes the project accepted (centre)",
                 "operationId": "tenderClearGap", "parameters": [_project_id, _path("finding_id")],
                 "responses": {"200": _json("TenderProject"), **error_responses(401, 403, 404, 409)}}},
    f"{_P}/sections/{{section_id}}/publish": {
        "post": {"summary": "Publish the tender notice and documents (centre)", "operationId": "tenderPublish",
                 "parameters": [_section_id, _idem], "requestBody": _body("TenderPublication"),
                 "responses": {"201": _json("TenderPublished", "Published"),
                               **error_responses(400, 401, 403, 404, 409, 413, 415, 422)}}},
    f"{_P}/notices": {
        "get": {"summary": "The notice board: published sections, newest first, with search and filters",
                "operationId": "tenderNotices",
                "parameters": [_query("q", {"type": "string", "maxLength": 100}, "Words in a name or code."),
                               _query("region", _region, "A city's code covers its districts."),
                               _query("category", {"type": "string", "enum": list(CATEGORIES)}),
                               _query("method", {"type": "string", "enum": list(METHODS)}),
                               _query("status", {"type": "string", "enum": list(publication.PUBLIC_STATES)}),
                               _page_param],
                "responses": {"200": _json("TenderNoticeBoard"), **error_responses(400, 401)}}},
    f"{_P}/sections/{{section_id}}": {
        "get": {"summary": "One section with its notices and documents", "operationId": "tenderGetSection",
                "parameters": [_section_id],
                "responses": {"200": _json("TenderSectionDetail"), **error_responses(401, 404)}}},
    f"{_P}/sections/{{section_id}}/registrations": {
        "post": {"summary": "Register the caller's organisation for the section (bidders)",
                 "operationId": "tenderRegister", "parameters": [_section_id, _idem],
                 "responses": {"201": _json("TenderRegistration", "Registered"),
                               **error_responses(400, 401, 403, 404, 409)}}},
    f"{_P}/sections/{{section_id}}/documents/{{document_id}}": {
        "get": {"summary": "Download a tender document; every download is recorded (time, address, program)",
                "operationId": "tenderDownload", "parameters": [_section_id, _path("document_id")],
                "responses": {"200": {"description": "The document's bytes, with its content type and filename",
                                      "content": _download_types},
                              **error_responses(401, 403, 404)}}},
    f"{_P}/sections/{{section_id}}/clarifications": {
        "get": {"summary": "Questions and answers: bidders see answered ones and their own, never who asked",
                "operationId": "tenderClarifications", "parameters": [_section_id],
                "responses": {"200": _json("TenderClarificationList"), **error_responses(401, 403, 404)}},
        "post": {"summary": "Ask a question (registered bidders)", "operationId": "tenderAsk",
                 "parameters": [_section_id, _idem], "requestBody": _body("TenderQuestion"),
                 "responses": {"201": _json("TenderClarification", "Asked"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/clarifications/{{clarification_id}}/answer": {
        "post": {"summary": "Answer a question for every registered bidder (the procuring unit or the centre)",
                 "operationId": "tenderAnswer", "parameters": [_path("clarification_id")],
                 "requestBody": _body("TenderAnswer"),
                 "responses": {"200": _json("TenderClarification"), **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/sections/{{section_id}}/addenda": {
        "post": {"summary": "Publish an addendum; one too close to the deadline moves it",
                 "operationId": "tenderAddendum", "parameters": [_section_id, _idem],
                 "requestBody": _body("TenderAddendum"),
                 "responses": {"201": _json("TenderPublished", "Published"),
                               **error_responses(400, 401, 403, 404, 409, 413, 415, 422)}}},
    f"{_P}/rooms": {
        "get": {"summary": "Opening and evaluation rooms and the bookings not yet over", "operationId": "tenderRooms",
                "responses": {"200": _json("TenderRoomList"), **error_responses(401, 403)}},
        "post": {"summary": "Add a room (centre, admins)", "operationId": "tenderCreateRoom",
                 "parameters": [_idem], "requestBody": _body("TenderNewRoom"),
                 "responses": {"201": _json("TenderRoom", "Created"), **error_responses(400, 401, 403, 409, 422)}}},
    f"{_P}/rooms/{{room_id}}/bookings": {
        "post": {"summary": "Book a room for a time range; an overlap is refused (centre)", "operationId": "tenderBook",
                 "parameters": [_path("room_id"), _idem], "requestBody": _body("TenderNewBooking"),
                 "responses": {"201": _json("TenderBooking", "Booked"),
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    f"{_P}/bookings/{{booking_id}}": {
        "delete": {"summary": "Cancel a booking (centre)", "operationId": "tenderCancelBooking",
                   "parameters": [_path("booking_id")],
                   "responses": {"200": _json("TenderBooking"), **error_responses(401, 403, 404, 409)}}},
    f"{_P}/history/imports": {
        "post": {"summary": "Import completed historical sections from CSV: all rows or none (admins)",
                 "description": "UTF-8 CSV (a BOM is fine) with the header " + ",".join(history.COLUMNS) + ".",
                 "operationId": "tenderImportHistory", "parameters": [_idem],
                 "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
                 "responses": {"201": _json("TenderImportReport", "Imported"), "422": _import_refused,
                               **error_responses(400, 401, 403)}}},
}, SCHEMAS)


# Sealed bids.

def bid_json(bid: Bid) -> dict:
    return {"id": bid.id, "section_id": bid.section_id, "version": bid.version, "sequence": bid.sequence,
            "status": bid.status, "envelope_sha256": bid.envelope_sha256, "envelope_size": bid.envelope_size,
            "received_at": bid.received_at.isoformat(timespec="milliseconds"),
            "withdrawn_at": _time(bid.withdrawn_at)}


def _body_limited_to_envelope_size(view):
    """Refuse an envelope over the size limit from its Content-Length, before reading it (and before an
    Idempotency-Key's fingerprint would read it)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        limit = bids.max_bytes(clock.now())
        if request.content_length is not None and request.content_length > limit:
            raise DomainError("envelope_too_large", _("The envelope is larger than %(mb)s MB.",
                                                      mb=limit // (1024 * 1024)), 413)
        request.max_content_length = limit  # a body without a length is cut off at the limit (413)
        return view(*args, **kwargs)
    return wrapped


@api.get("/sections/<int:section_id>/key")
def section_key(section_id: int):
    """The section's public opening key, for the bidder's tool to seal with."""
    target = get_or_404(Section, section_id)
    if not target.is_public:
        abort(404)
    return current_app.response_class(bids.key_file(target), mimetype="application/json")


@api.get("/sections/<int:section_id>/bids")
@roles_required(Role.BIDDER)
def my_bids(section_id: int):
    target = _section(section_id)
    return ok({"bids": [bid_json(b) for b in bids.of_bidder(target, current_user.organisation_id)]})


@api.post("/sections/<int:section_id>/bids")
@roles_required(Role.BIDDER)
@_body_limited_to_envelope_size
@creating
def submit_bid(section_id: int):
    """The answer is the receipt file itself, signed by the platform seal: keep it as it is."""
    target = _section(section_id)
    data = request.get_data(cache=True)
    bid = bids.submit(current_user, target, data, clock.now(), request.remote_addr or "",
                      request.headers.get("User-Agent", ""))
    response = current_app.response_class(bid.receipt, status=201, mimetype="application/json")
    response.headers["Location"] = f"{_P}/bids/{bid.id}"
    return response


@api.get("/bids/<int:bid_id>/receipt")
def bid_receipt(bid_id: int):
    bid = check_object(get_or_404(Bid, bid_id))
    return current_app.response_class(bid.receipt, mimetype="application/json")


@api.post("/bids/<int:bid_id>/withdraw")
def withdraw_bid(bid_id: int):
    bid = check_object(get_or_404(Bid, bid_id), action="manage")
    bids.withdraw(current_user, bid, clock.now())
    db.session.commit()
    return ok(bid_json(bid))


describe({
    f"{_P}/sections/{{section_id}}/key": {
        "get": {"summary": "The section's public opening key file, to seal bids with (docs/formats.md)",
                "operationId": "tenderSectionKey", "parameters": [_section_id],
                "responses": {"200": _json("TenderSectionKey"), **error_responses(401, 404)}}},
    f"{_P}/sections/{{section_id}}/bids": {
        "get": {"summary": "The caller's bids for the section, every version (bidders)", "operationId": "tenderMyBids",
                "parameters": [_section_id],
                "responses": {"200": _json("TenderBidList"), **error_responses(401, 403, 404)}},
        "post": {"summary": "Submit a sealed envelope (bidders); the answer is the receipt signed by the platform "
                            "seal. A later envelope replaces the bid. Refused at or after the deadline.",
                 "operationId": "tenderSubmitBid", "parameters": [_section_id, _idem],
                 "requestBody": {"required": True, "content": {"application/octet-stream": {
                     "schema": {"type": "string", "format": "binary"}}}},
                 "responses": {"201": _json("TenderReceipt", "Accepted"),
                               **error_responses(400, 401, 403, 404, 409, 413, 422)}}},
    f"{_P}/bids/{{bid_id}}/receipt": {
        "get": {"summary": "The receipt of one of the caller's bids", "operationId": "tenderBidReceipt",
                "parameters": [_path("bid_id")],
                "responses": {"200": _json("TenderReceipt"), **error_responses(401, 404)}}},
    f"{_P}/bids/{{bid_id}}/withdraw": {
        "post": {"summary": "Withdraw the current bid before the deadline", "operationId": "tenderWithdrawBid",
                 "parameters": [_path("bid_id")],
                 "responses": {"200": _json("TenderBid"), **error_responses(401, 404, 409)}}},
}, {
    "TenderSectionKey": _object(["type", "version", "suite", "section", "public_key"], {
        "type": {"type": "string", "enum": ["eproc-section-key"]}, "version": {"type": "integer"},
        "suite": {"type": "string"}, "public_key": {"type": "string", "pattern": "^[0-9a-f]+$"},
        "section": _object(["id", "code"], {"id": {"type": "string"}, "code": {"type": "string"}})}),
    "TenderReceipt": _object(["body", "signature"], {
        "body": {"type": "string", "description": "Canonical JSON of the receipt (docs/formats.md)"},
        "signature": {"type": "string", "pattern": "^[0-9a-f]+$"}}),
    "TenderBid": _object(["id", "section_id", "version", "sequence", "status", "envelope_sha256", "envelope_size",
                          "received_at", "withdrawn_at"], {
        "id": {"type": "integer"}, "section_id": {"type": "integer"}, "version": {"type": "integer"},
        "sequence": {"type": "integer"}, "status": {"type": "string", "enum": ["submitted", "replaced", "withdrawn"]},
        "envelope_sha256": {"type": "string"}, "envelope_size": {"type": "integer"},
        "received_at": {"type": "string", "format": "date-time"},
        "withdrawn_at": {"type": "string", "format": "date-time", "nullable": True}}),
    "TenderBidList": _object(["bids"], {"bids": {"type": "array", "items": _ref("TenderBid")}}),
})
