"""The pages of challenges (质疑) and complaints (投诉): a registered bidder files a challenge from the
section's challenge page, the procuring unit answers or extends, a supervisor approves or refuses a second
extension and handles complaints; lists for each role and the timeliness report. HTTP only: the rules are
in tender.challenges and tender.complaints."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from sqlalchemy import select

from core import clock
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import challenges, complaints, participation
from tender.models import CHALLENGE_SUBJECTS, Challenge, Complaint, Registration, Section
from tender.states import CHALLENGE_LABELS, COMPLAINT_LABELS, COMPLAINT_OPEN

challenges_bp = Blueprint("challenges", __name__, template_folder="templates")
SEEING = (Role.BIDDER, Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
OVERSEERS = (Role.CENTRE, Role.SUPERVISOR)
PER_PAGE = 30
EXTENSION_LABELS = {"granted": _l("granted by the unit"), "requested": _l("asked of a supervisor"),
                    "approved": _l("approved by a supervisor"), "refused": _l("refused by a supervisor")}
TEXT = [DataRequired(), Length(max=challenges.MAX_TEXT)]


class ChallengeForm(FlaskForm):
    subject = SelectField(_l("What you challenge"), choices=list(CHALLENGE_SUBJECTS.items()))
    grounds = TextAreaField(_l("Grounds and the facts supporting them"), validators=TEXT, render_kw={"rows": 5})


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=TEXT, render_kw={"rows": 5})


class ExtensionForm(FlaskForm):
    days = IntegerField(_l("Working days"), validators=[DataRequired(), NumberRange(1, 10)])
    reason = TextAreaField(_l("Why the answer needs more time"), validators=TEXT, render_kw={"rows": 2})


class ExtensionDecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approve", _l("Approve")), ("refuse", _l("Refuse"))])
    reason = TextAreaField(_l("Reason (required to refuse)"), validators=[Optional(), Length(max=challenges.MAX_TEXT)],
                           render_kw={"rows": 2})


class RatingForm(FlaskForm):
    satisfied = SelectField(_l("Does the answer satisfy you?"),
                            choices=[("yes", _l("Satisfied")), ("no", _l("Not satisfied"))])


class ComplaintForm(FlaskForm):
    grounds = TextAreaField(_l("Grounds of the complaint"), validators=TEXT, render_kw={"rows": 5})


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=TEXT, render_kw={"rows": 2})


class DecisionForm(FlaskForm):
    outcome = SelectField(_l("Decision"), choices=[("upheld", _l("Upheld")), ("dismissed", _l("Dismissed"))])
    reason = TextAreaField(_l("Reasons of the decision"), validators=TEXT, render_kw={"rows": 4})


@challenges_bp.context_processor
def _labels():
    return {"challenge_labels": CHALLENGE_LABELS, "complaint_labels": COMPLAINT_LABELS,
            "challenge_subjects": CHALLENGE_SUBJECTS, "extension_labels": EXTENSION_LABELS}


def _checked(form) -> None:
    if not form.validate_on_submit():
        raise DomainError("form_invalid", _("Fill in the form: %(what)s.", what=", ".join(
            str(getattr(form, name).label.text) for name in form.errors)), 400)


# Lists.

@challenges_bp.get("/challenges/")
@roles_required(*SEEING)
def index():
    query = challenges.visible(current_user)
    overdue_only = request.args.get("overdue") == "1"
    if overdue_only:
        query = challenges.overdue(query, clock.now())
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    registered = []
    if current_user.role == Role.BIDDER:  # the sections it may challenge
        registered = db.session.scalars(select(Section).join(Registration, Registration.section_id == Section.id)
                                        .where(Registration.organisation_id == current_user.organisation_id)
                                        .order_by(Section.id.desc()).limit(100)).all()
    return render_template("tender/challenges.html", page=page, overdue_only=overdue_only, now=clock.now(),
                           registered=registered)


@challenges_bp.get("/challenges/timeliness")
@roles_required(*OVERSEERS)
def timeliness():
    now = clock.now()
    return render_template("tender/timeliness.html", rows=complaints.timeliness(now), now=now)


# A section's challenges, and filing one.

def _section(section_id: int) -> Section:
    """Bidders registered for it, and those running or watching it."""
    section = get_or_404(Section, section_id)
    if current_user.role == Role.BIDDER:
        if participation.registration(section, current_user.organisation_id) is None:
            abort(404)
    elif not section.project.can_view(current_user):
        abort(404)
    return section


def _section_page(section: Section, form: ChallengeForm, status: int = 200):
    rows = db.session.scalars(challenges.visible(current_user).where(Challenge.section_id == section.id)).all()
    return render_template("tender/challenge_section.html", section=section, rows=rows, form=form,
                           now=clock.now()), status


@challenges_bp.get("/sections/<int:section_id>/challenges")
@roles_required(*SEEING)
def section_challenges(section_id: int):
    return _section_page(_section(section_id), ChallengeForm())


@challenges_bp.post("/sections/<int:section_id>/challenges")
@roles_required(Role.BIDDER)
def file(section_id: int):
    section = _section(section_id)
    form = ChallengeForm()
    if not form.validate_on_submit():
        return _section_page(section, form, 400)
    try:
        challenge = challenges.file(current_user, section, form.subject.data, form.grounds.data, clock.now())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _section_page(db.session.get(Section, section_id), form, error.status)
    db.session.commit()
    flash(_("Your challenge is filed; the procuring unit must answer by %(day)s.",
            day=challenges.local_day(challenge.due_at)), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge.id))


# One challenge.

@challenges_bp.get("/challenges/<int:challenge_id>")
@roles_required(*SEEING)
def detail(challenge_id: int):
    challenge = check_object(get_or_404(Challenge, challenge_id))
    return render_template("tender/challenge.html", challenge=challenge, now=clock.now(),
                           answer_form=AnswerForm(), extension_form=ExtensionForm(),
                           decision_form=ExtensionDecisionForm(), rating_form=RatingForm(),
                           complaint_form=ComplaintForm())


def _act(challenge_id: int, action: str, form, act, done: str):
    """Check the challenge for ``action``, validate the form, call the service, commit once."""
    return _do(Challenge, challenge_id, action, form, act, done, url_for("challenges.detail", challenge_id=challenge_id))


def _do(model, object_id: int, action: str, form, act, done: str, back: str):
    obj = check_object(get_or_404(model, object_id), action=action)
    _checked(form)
    act(obj)
    db.session.commit()
    flash(done, "success")
    return redirect(back)


@challenges_bp.post("/challenges/<int:challenge_id>/answer")
@roles_required(Role.PROCURING)
def answer(challenge_id: int):
    form = AnswerForm()
    return _act(challenge_id, "answer", form,
                lambda c: challenges.answer(current_user, c, form.answer.data, clock.now()),
                _("The answer is sent to the challenger."))


@challenges_bp.post("/challenges/<int:challenge_id>/extend")
@roles_required(Role.PROCURING)
def extend(challenge_id: int):
    form = ExtensionForm()
    return _act(challenge_id, "answer", form,
                lambda c: challenges.extend(current_user, c, form.days.data, form.reason.data, clock.now()),
                _("The answer's due date is extended."))


@challenges_bp.post("/challenges/<int:challenge_id>/extension-request")
@roles_required(Role.PROCURING)
def request_extension(challenge_id: int):
    form = ExtensionForm()
    return _act(challenge_id, "answer", form,
                lambda c: challenges.request_extension(current_user, c, form.days.data, form.reason.data,
                                                       clock.now()),
                _("The request for a second extension is sent to the supervisors."))


@challenges_bp.post("/challenges/<int:challenge_id>/extension-decision")
@roles_required(Role.SUPERVISOR)
def decide_extension(challenge_id: int):
    form = ExtensionDecisionForm()
    return _act(challenge_id, "supervise", form,
                lambda c: challenges.decide_extension(current_user, c, form.decision.data == "approve",
                                                      form.reason.data, clock.now()),
                _("Your decision on the second extension is recorded; the unit has been told."))


@challenges_bp.post("/challenges/<int:challenge_id>/withdraw")
@roles_required(Role.BIDDER)
def withdraw(challenge_id: int):
    return _act(challenge_id, "file", FlaskForm(), lambda c: challenges.withdraw(current_user, c, clock.now()),
                _("Your challenge is withdrawn."))


@challenges_bp.post("/challenges/<int:challenge_id>/rate")
@roles_required(Role.BIDDER)
def rate(challenge_id: int):
    form = RatingForm()
    return _act(challenge_id, "file", form,
                lambda c: challenges.rate(current_user, c, form.satisfied.data == "yes", clock.now()),
                _("Thank you: your rating of the answer is recorded."))


@challenges_bp.post("/challenges/<int:challenge_id>/complaint")
@roles_required(Role.BIDDER)
def complain(challenge_id: int):
    challenge = check_object(get_or_404(Challenge, challenge_id), action="file")
    form = ComplaintForm()
    _checked(form)
    complaint = complaints.file(current_user, challenge, form.grounds.data, clock.now())
    db.session.commit()
    flash(_("Your complaint is sent to the supervisor, who decides by %(day)s.",
            day=challenges.local_day(complaint.due_at)), "success")
    return redirect(url_for("challenges.complaint", complaint_id=complaint.id))


# Complaints.

@challenges_bp.get("/complaints/")
@roles_required(*SEEING)
def complaint_index():
    query = complaints.visible(current_user)
    open_only = request.args.get("open") == "1"
    if open_only:
        query = query.where(Complaint.status.in_(COMPLAINT_OPEN))
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    return render_template("tender/complaints.html", page=page, open_only=open_only, now=clock.now())


@challenges_bp.get("/complaints/<int:complaint_id>")
@roles_required(*SEEING)
def complaint(complaint_id: int):
    return render_template("tender/complaint.html", complaint=check_object(get_or_404(Complaint, complaint_id)),
                           now=clock.now(), reason_form=ReasonForm(), decision_form=DecisionForm(),
                           rating_form=RatingForm())


def _handle(complaint_id: int, action: str, form, act, done: str):
    """Check the complaint for ``action``, validate the form, call the service, commit once."""
    return _do(Complaint, complaint_id, action, form, act, done, url_for("challenges.complaint",
                                                                       complaint_id=complaint_id))


@challenges_bp.post("/complaints/<int:complaint_id>/suspend")
@roles_required(Role.SUPERVISOR)
def suspend(complaint_id: int):
    form = ReasonForm()
    return _handle(complaint_id, "decide", form,
                   lambda k: complaints.suspend(current_user, k, form.reason.data, clock.now()),
                   _("The section's procedure is suspended; the unit and the complainant have been told."))


@challenges_bp.post("/complaints/<int:complaint_id>/resume")
@roles_required(Role.SUPERVISOR)
def resume(complaint_id: int):
    form = ReasonForm()
    return _handle(complaint_id, "decide", form,
                   lambda k: complaints.resume(current_user, k, form.reason.data, clock.now()),
                   _("The section's procedure resumes; the unit and the complainant have been told."))


@challenges_bp.post("/complaints/<int:complaint_id>/decide")
@roles_required(Role.SUPERVISOR)
def decide(complaint_id: int):
    form = DecisionForm()
    return _handle(complaint_id, "decide", form,
                   lambda k: complaints.decide(current_user, k, form.outcome.data, form.reason.data, clock.now()),
                   _("The decision is recorded; the unit and the complainant have been told."))


@challenges_bp.post("/complaints/<int:complaint_id>/withdraw")
@roles_required(Role.BIDDER)
def withdraw_complaint(complaint_id: int):
    form = ReasonForm()
    return _handle(complaint_id, "file", form,
                   lambda k: complaints.withdraw(current_user, k, form.reason.data, clock.now()),
                   _("Your complaint is withdrawn."))


@challenges_bp.post("/complaints/<int:complaint_id>/rate")
@roles_required(Role.BIDDER)
def rate_complaint(complaint_id: int):
    form = RatingForm()
    return _handle(complaint_id, "file", form,
                   lambda k: complaints.rate(current_user, k, form.satisfied.data == "yes", clock.now()),
                   _("Thank you: your rating of the decision is recorded."))
