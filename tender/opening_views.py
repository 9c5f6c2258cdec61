"""The opening hall (开标大厅) of a section: one page for the host, bidders, keyholders and supervisors. Its live
part comes from a server-sent event stream of the hall's state (tender.opening.hall_state); the forms post
and come back to the hall."""
import json
import time
from decimal import Decimal

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext as _
from flask_login import current_user

from accounts.models import User
from core import clock
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import opening as openings
from tender.forms import ActionForm, AnswerForm, DecisionForm, ReleaseForm, RespondForm, SuspendForm
from tender.models import RecordResponse, Section
from tender.views import _client, _local, tender_bp

ATTENDEES = (Role.CENTRE, Role.SUPERVISOR, Role.PROCURING, Role.BIDDER)


def _section(section_id: int) -> Section:
    return check_object(get_or_404(Section, section_id), action="attend")


def _opening(section: Section):
    opening = openings.current(section)
    if opening is None:
        raise DomainError("not_started", _("The opening of this section has not started."), 409)
    return opening


def _back(section_id: int, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("tender.opening_hall", section_id=section_id))


@tender_bp.get("/sections/<int:section_id>/opening")
@roles_required(*ATTENDEES)
def opening_hall(section_id: int):
    section = _section(section_id)
    opening = openings.current(section)
    return render_template("tender/opening.html", section=section, opening=opening,
                           state=openings.hall_state(section, current_user, clock.now()),
                           share=openings.share_of(opening, current_user) if opening else None,
                           action_form=ActionForm(), release_form=ReleaseForm(), suspend_form=SuspendForm(),
                           decision_form=DecisionForm(), respond_form=RespondForm(), answer_form=AnswerForm())


@tender_bp.get("/sections/<int:section_id>/opening/state")
@roles_required(*ATTENDEES)
def opening_state(section_id: int):
    return openings.hall_state(_section(section_id), current_user, clock.now())


@tender_bp.get("/sections/<int:section_id>/opening/events")
@roles_required(*ATTENDEES)
def opening_events(section_id: int):
    """Server-sent events: the hall's state whenever it changes (checked each second), for a while; the
    browser's EventSource reconnects by itself, so no request holds a server thread for long."""
    section_id, user_id = _section(section_id).id, current_user.id
    app = current_app._get_current_object()
    seconds = app.config.get("OPENING_STREAM_SECONDS", 15)
    locale = str(get_locale())  # the stream outlives the request: keep its language for the labels

    def events():
        # Its own app context and session: the request's are gone once the stream outlives the view.
        last, ends = None, time.monotonic() + seconds
        yield "retry: 1000\n\n"
        while True:
            with app.app_context(), force_locale(locale):
                section, user = db.session.get(Section, section_id), db.session.get(User, user_id)
                state = None if section is None or user is None else json.dumps(
                    openings.hall_state(section, user, clock.now()), ensure_ascii=False)
                db.session.rollback()  # end the read: let writers in
            if state is None:  # gone meanwhile: nothing more to tell
                return
            if state != last:
                yield f"data: {state}\n\n"
                last = state
            if time.monotonic() >= ends:
                return
            time.sleep(1)

    return Response(events(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@tender_bp.post("/sections/<int:section_id>/opening/start")
@roles_required(Role.CENTRE)
def opening_start(section_id: int):
    section = _section(section_id)
    if ActionForm().validate_on_submit():
        openings.start(current_user, section, clock.now())
        return _back(section_id, _("The opening has started: keyholders may release their shares."))
    raise DomainError("form_invalid", _("The form expired: try again."))


@tender_bp.post("/sections/<int:section_id>/opening/sign-in")
@roles_required(Role.BIDDER)
def opening_sign_in(section_id: int):
    section = _section(section_id)
    if not ActionForm().validate_on_submit():
        raise DomainError("form_invalid", _("The form expired: try again."))
    openings.sign_in(current_user, _opening(section), clock.now(), _client()[0])
    return _back(section_id, _("Your company is signed in."))


@tender_bp.post("/sections/<int:section_id>/opening/release")
@roles_required(Role.CENTRE, Role.PROCURING, Role.SUPERVISOR)
def opening_release(section_id: int):
    section = _section(section_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        raise DomainError("pin_required", _("Type your opening-key PIN."))
    openings.release(current_user, _opening(section), form.pin.data, clock.now(), _client()[0])
    return _back(section_id, _("Your share is released."))


@tender_bp.post("/sections/<int:section_id>/opening/suspend")
@roles_required(Role.CENTRE)
def opening_suspend(section_id: int):
    section = _section(section_id)
    form = SuspendForm()
    if not form.validate_on_submit():
        raise DomainError("form_invalid", _("Describe the anomaly and choose the rescheduled time."))
    openings.suspend(current_user, _opening(section), form.note.data, _local(form.reschedule_to.data), clock.now())
    return _back(section_id, _("The opening is suspended and rescheduled."))


@tender_bp.post("/sections/<int:section_id>/opening/decide")
@roles_required(Role.CENTRE)
def opening_decide(section_id: int):
    section = _section(section_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        raise DomainError("reason_required", _("Choose the decision and state its legal ground or reason."))
    openings.decide(current_user, _opening(section), form.decision.data, form.ground.data, clock.now())
    return _back(section_id, _("The decision is recorded."))


@tender_bp.post("/sections/<int:section_id>/opening/seal")
@roles_required(Role.CENTRE)
def opening_seal(section_id: int):
    section = _section(section_id)
    if not ActionForm().validate_on_submit():
        raise DomainError("form_invalid", _("The form expired: try again."))
    openings.seal_record(current_user, _opening(section), clock.now())
    return _back(section_id, _("The opening record is sealed and published to the bidders."))


@tender_bp.post("/sections/<int:section_id>/opening/respond")
@roles_required(Role.BIDDER)
def opening_respond(section_id: int):
    section = _section(section_id)
    form = RespondForm()
    if not form.validate_on_submit():
        raise DomainError("response_invalid", _("Confirm the record or object to it."))
    openings.respond(current_user, _opening(section), form.kind.data, form.text.data or "", clock.now())
    return _back(section_id, _("Your response is recorded."))


@tender_bp.post("/sections/<int:section_id>/opening/answer")
@roles_required(Role.CENTRE)
def opening_answer(section_id: int):
    section = _section(section_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        raise DomainError("reason_required", _("Write the answer to the objection."))
    response = db.session.get(RecordResponse, form.response_id.data)
    if response is None or response.opening.section_id != section.id:
        raise DomainError("not_found", _("No such objection in this opening."), 404)
    openings.answer(current_user, response, form.text.data, clock.now())
    return _back(section_id, _("The answer is recorded and sent to the bidder."))


@tender_bp.get("/sections/<int:section_id>/opening/record")
@roles_required(*ATTENDEES)
def opening_record(section_id: int):
    """The sealed opening record as a printable page; ?format=json gives the signed file itself."""
    section = _section(section_id)
    opening = _opening(section)
    if opening.record is None:
        raise DomainError("record_not_sealed", _("The opening record is not sealed yet."), 409)
    if request.args.get("format") == "json":
        return Response(opening.record, mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="opening-record-{section.code}-{opening.attempt}.json"'})
    record = json.loads(json.loads(opening.record)["body"])
    for bid in record["bids"]:
        bid["amount"] = Decimal(bid["price"]) if bid["price"] is not None else None
    return render_template("tender/opening_record.html", section=section, opening=opening, record=record,
                           record_sha256=openings.record_sha256(opening))
