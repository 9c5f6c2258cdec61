"""The supervisor's workspace: openings live and past in the supervisor's region, the replay of one from the
journal, annotations and flags, and a section's extract of the journal (supervision.workspace, .replay)."""
from datetime import datetime
from decimal import Decimal

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from accounts.models import Organisation, User
from core import clock
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, area_required, roles_required
from supervision import replay, workspace
from supervision.views import supervision_bp
from tender import opening as openings
from tender import states

SUBJECT_LABELS = {"section": _l("Section (code)"), "order": _l("Mall order (number)")}
ACTION_LABELS = {
    "tender.section.start_opening": _l("The host started the opening"),
    "tender.opening.signed_in": _l("A bidder signed in"),
    "tender.opening.share_released": _l("A keyholder released a key share"),
    "tender.opening.decryption_started": _l("Enough shares: decryption started"),
    "tender.opening.bids_decided": _l("A batch of bids was decrypted and checked"),
    "tender.opening.bid_decided": _l("A bid was decrypted and checked"),
    "tender.opening.decrypted": _l("Every bid decided"),
    "tender.opening.decided": _l("The host recorded a decision"),
    "tender.section.suspend_opening": _l("The opening was suspended"),
    "tender.section.finish_opening": _l("The opening record was sealed"),
    "tender.section.fail": _l("The section failed (流标)"),
    "tender.opening.record_confirmed": _l("A bidder confirmed the record"),
    "tender.opening.record_objected": _l("A bidder objected to the record"),
    "tender.opening.objection_answered": _l("The host answered an objection"),
}


class AnnotationForm(FlaskForm):
    subject_type = SelectField(_l("About"), choices=list(SUBJECT_LABELS.items()))
    reference = StringField(_l("Section code or order number"), validators=[DataRequired(), Length(max=50)])
    text = TextAreaField(_l("Annotation"), validators=[DataRequired(), Length(max=workspace.TEXT_LIMIT)])
    flagged = BooleanField(_l("Flag it for attention"))
    next = HiddenField()


def _section(section_id: int):
    section = workspace.section_in_scope(current_user, section_id)
    if section is None:
        abort(404)  # outside the supervisor's region: as if it did not exist
    return section


def _workspace_page(form: AnnotationForm, status: int = 200):
    now = clock.now()
    days = min(max(request.args.get("days", workspace.PAST_DAYS, type=int) or workspace.PAST_DAYS, 1), 366)
    notes = workspace.annotations(current_user)
    return render_template("supervision/workspace.html", live=workspace.live_openings(current_user),
                           past=workspace.past_openings(current_user, now, days), days=days, notes=notes,
                           labels=workspace.subject_labels(notes), form=form, subject_labels=SUBJECT_LABELS,
                           status_labels=states.OPENING_LABELS), status


@supervision_bp.get("/openings")
@area_required("supervision")
def workspace_home():
    return _workspace_page(AnnotationForm())


@supervision_bp.post("/annotations")
@roles_required(Role.SUPERVISOR)
def annotate():
    form = AnnotationForm()
    back = form.next.data if (form.next.data or "").startswith("/supervision/") else url_for(
        "supervision.workspace_home")
    if not form.validate_on_submit():
        flash(_("Choose what to annotate, name it and write the annotation."), "danger")
        return _workspace_page(form, 400)
    try:
        workspace.annotate(current_user, form.subject_type.data, form.reference.data, form.text.data,
                           form.flagged.data, clock.now())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _workspace_page(form, error.status)
    db.session.commit()
    flash(_("The annotation is recorded in the journal."), "success")
    return redirect(back)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@supervision_bp.get("/sections/<int:section_id>/replay")
@area_required("supervision")
def section_replay(section_id: int):
    section = _section(section_id)
    steps = replay.steps(section)
    codes = {s.payload.get("bidder") for s in steps} | {c["credit_code"] for s in steps for c in s.state["sign_ins"]} \
        | {b["bidder"] for s in steps[-1:] for b in s.state["bids"]}
    names = dict(db.session.execute(select(Organisation.credit_code, Organisation.name)
                                    .where(Organisation.credit_code.in_(codes - {None}))).all())
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({s.actor_id for s in steps})))}
    notes = workspace.annotations(current_user, "section", section.id)
    form = AnnotationForm(subject_type="section", reference=section.code,
                          next=url_for("supervision.section_replay", section_id=section.id))
    return render_template("supervision/replay.html", section=section, steps=steps, checks=replay.checks(steps),
                           names=names, actors=actors, notes=notes, form=form, action_labels=ACTION_LABELS,
                           status_labels=states.OPENING_LABELS, outcomes=openings.OUTCOMES,
                           decisions=openings.DECISIONS, as_time=_time, as_money=lambda v: Decimal(v))


@supervision_bp.get("/sections/<int:section_id>/journal.jsonl")
@area_required("supervision")
def section_journal(section_id: int):
    """The section's extract of the journal, verifiable offline (docs/formats.md, "A section's extract")."""
    section = _section(section_id)
    # Streamed once this request has ended: between one of the section's entries and the checkpoint covering
    # it lie up to an hour of the whole platform's entries (withheld, but listed).
    return Response(replay.export_lines(db.engine, section.id), mimetype="application/jsonl",
                    headers={"Content-Disposition": f"attachment; filename=section-{section.id}-journal.jsonl"})
