"""The pages of evaluation, award and contract (registered at /tender): the centre keeps the expert pool,
draws committees and publishes candidates; committee members score and sign; the procuring unit awards
and records the contract or the winner's breach; the winner downloads its award notice; anyone reads the
candidates, the result and the contract. HTTP only: the rules are in tender.experts, tender.evaluation and
tender.award."""
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.models import User
from core import clock, storage
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, roles_required
from tender import award, evaluation, experts, guarantees
from tender.models import CATEGORIES, EVALUATION_METHODS, Section
from tender.states import STATE_LABELS

evaluation_bp = Blueprint("evaluation", __name__, template_folder="templates")
EVALUATION_ROLES = (Role.CENTRE, Role.PROCURING, Role.EVALUATOR, Role.SUPERVISOR)


class ProfileForm(FlaskForm):
    expert = SelectField(_l("Expert"), coerce=int)
    categories = SelectMultipleField(_l("Categories the expert may evaluate"), choices=list(CATEGORIES.items()),
                                     option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    affiliations = TextAreaField(_l("Affiliations (credit codes, one a line)"), validators=[Length(max=2000)],
                                 description=_l("The organisations the expert works for or is linked to: the expert is "
                                                "left out of their sections' committees (回避)."),
                                 render_kw={"rows": 3})
    active = BooleanField(_l("In the pool (may be drawn)"), default=True)


class ConfirmForm(FlaskForm):
    """A button: CSRF only."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2})


class AwardForm(FlaskForm):
    rank = IntegerField(_l("Candidate awarded (rank)"), default=1, validators=[DataRequired(), NumberRange(min=1)])
    reason = TextAreaField(_l("Why not the first candidate"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})


class ContractForm(FlaskForm):
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    amount = StringField(_l("Contract amount (yuan)"), validators=[DataRequired()], render_kw={"inputmode": "decimal"})
    performance_security = BooleanField(_l("Performance security received"))
    document = FileField(_l("Signed contract (PDF)"), validators=[FileRequired()])


class BreachForm(FlaskForm):
    kind = SelectField(_l("What the winner did"), choices=list(guarantees.CLAIM_TRIGGERS.items()))
    note = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2})
    fail = BooleanField(_l("The section fails (流标): no other candidate is awarded"))


def _done(message: str):
    db.session.commit()
    flash(message, "success")


def _public(section_id: int) -> Section:
    section = get_or_404(Section, section_id)
    if not section.is_public:
        abort(404)
    return section


def _insider(section_id: int) -> Section:
    """The evaluation's people: the centre, supervisors, the section's procuring unit, its committee."""
    section = get_or_404(Section, section_id)
    user = current_user
    if user.role == Role.EVALUATOR:
        if experts.member_of(section, user) is None:
            abort(404)
    elif user.role == Role.PROCURING and not section.can_manage(user):
        abort(404)
    return section


def _managed(section_id: int) -> Section:
    section = get_or_404(Section, section_id)
    if not section.can_manage(current_user):
        abort(404)
    return section


def _evaluation_page(section_id: int):
    return redirect(url_for("evaluation.evaluation_page", section_id=section_id))


# The expert pool.

@evaluation_bp.route("/experts", methods=["GET", "POST"])
@roles_required(Role.CENTRE)
def expert_pool():
    pool = experts.pool()
    form = ProfileForm()
    form.expert.choices = [(user.id, f"{user.name} ({user.username})") for user, _profile in pool]
    if form.validate_on_submit():
        expert = db.session.get(User, form.expert.data)
        if expert is None:
            abort(404)
        experts.save_profile(current_user, expert, categories=form.categories.data,
                             affiliations=form.affiliations.data or "", active=form.active.data, now=clock.now())
        _done(_("The profile of %(name)s is saved.", name=expert.name))
        return redirect(url_for("evaluation.expert_pool"))
    return render_template("tender/experts.html", form=form, pool=pool, categories=CATEGORIES,
                           categories_of=experts.categories_of,
                           affiliations_of=experts.affiliations_of), 400 if form.errors else 200


# Evaluation.

@evaluation_bp.get("/sections/<int:section_id>/evaluation")
@roles_required(*EVALUATION_ROLES)
def evaluation_page(section_id: int):
    section = _insider(section_id)
    now = clock.now()
    member = experts.member_of(section, current_user)
    results = section.openings[-1].results if section.openings else []
    ready_problem = None
    try:
        evaluation.require_ready(section, now)
    except DomainError as error:
        ready_problem = error.message
    return render_template("tender/evaluation.html", section=section, member=member, results=results,
                           valid=experts.valid_results(section), ready_problem=ready_problem,
                           my_scores=evaluation.scores_of(member) if member else {},
                           candidates=evaluation.candidates(section), form=ConfirmForm(), fail_form=ReasonForm(),
                           methods=EVALUATION_METHODS, state_labels=STATE_LABELS,
                           documents_of=lambda r: json.loads(r.documents or "[]"),
                           drawn_from=len(json.loads(section.committee.candidates)) if section.committee else 0,
                           excluded=len(experts.eligible(section)[1]) if section.committee is None else None)


@evaluation_bp.post("/sections/<int:section_id>/committee")
@roles_required(Role.CENTRE)
def draw(section_id: int):
    section = get_or_404(Section, section_id)
    if ConfirmForm().validate_on_submit():
        committee = experts.draw(current_user, section, clock.now())
        _done(_("The committee of %(n)s experts is drawn.", n=committee.size))
    return _evaluation_page(section_id)


@evaluation_bp.post("/sections/<int:section_id>/scores")
@roles_required(Role.EVALUATOR)
def scores(section_id: int):
    section = _insider(section_id)
    if ConfirmForm().validate_on_submit():
        entered = {r.id: (request.form.get(f"technical-{r.id}", ""), request.form.get(f"commercial-{r.id}", ""))
                   for r in experts.valid_results(section)}
        evaluation.enter_scores(current_user, section, entered, clock.now())
        _done(_("Your scores are saved."))
    return _evaluation_page(section_id)


@evaluation_bp.post("/sections/<int:section_id>/evaluation/sign")
@roles_required(Role.EVALUATOR)
def sign(section_id: int):
    section = _insider(section_id)
    if ConfirmForm().validate_on_submit():
        evaluation.sign(current_user, section, clock.now())
        _done(_("The report is sealed: the section is evaluated.") if section.status == "evaluated"
              else _("You signed the report off."))
    return _evaluation_page(section_id)


@evaluation_bp.get("/sections/<int:section_id>/evaluation/report")
@roles_required(*EVALUATION_ROLES)
def report(section_id: int):
    section = _insider(section_id)
    if section.evaluation is None:
        abort(404)
    return Response(section.evaluation.report, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="evaluation-{section.code}.json"'})


@evaluation_bp.post("/sections/<int:section_id>/publicise")
@roles_required(Role.CENTRE)
def publicise(section_id: int):
    section = get_or_404(Section, section_id)
    if ConfirmForm().validate_on_submit():
        evaluation.publicise(current_user, section, clock.now())
        _done(_("The candidates are published."))
    return _evaluation_page(section_id)


@evaluation_bp.post("/sections/<int:section_id>/evaluation/fail")
@roles_required(Role.CENTRE, Role.PROCURING)
def fail(section_id: int):
    section = get_or_404(Section, section_id)
    if current_user.role == Role.PROCURING and not section.can_manage(current_user):
        abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        award.fail(current_user, section, form.reason.data, clock.now())
        _done(_("The section has failed (流标). It may be tendered again."))
    elif form.errors:
        flash(_("Say why the section failed (流标)."), "danger")
    return _evaluation_page(section_id)


@evaluation_bp.get("/sections/<int:section_id>/candidates")
def candidates(section_id: int):
    section = _public(section_id)
    shown = evaluation.candidates(section)[:evaluation.PUBLIC_CANDIDATES] if section.publicised_at else []
    return render_template("tender/evaluation_candidates.html", section=section, candidates=shown,
                           in_publicity=evaluation.in_publicity(section, clock.now()))


# Award.

@evaluation_bp.route("/sections/<int:section_id>/award", methods=["GET", "POST"])
@roles_required(Role.PROCURING)
def award_section(section_id: int):
    section = _managed(section_id)
    form = AwardForm()
    if form.validate_on_submit():
        award.award(current_user, section, clock.now(), rank=form.rank.data, reason=form.reason.data or "")
        _done(_("The section is awarded: the winner has its award notice, the others their result."))
        return redirect(url_for("evaluation.result", section_id=section.id))
    problem = None
    try:
        award.require_awardable(section, clock.now())
    except DomainError as error:
        problem = error.message
    return render_template("tender/award.html", section=section, form=form, problem=problem,
                           candidates=evaluation.candidates(section)), 400 if form.errors else 200


@evaluation_bp.get("/sections/<int:section_id>/award-notice")
@roles_required(Role.BIDDER, Role.PROCURING, Role.CENTRE, Role.SUPERVISOR)
def award_notice(section_id: int):
    section = get_or_404(Section, section_id)
    row = section.award
    if current_user.role == Role.BIDDER and (row is None or row.organisation_id != current_user.organisation_id):
        abort(404)
    if current_user.role == Role.PROCURING and not section.can_manage(current_user):
        abort(404)
    if row is None:
        raise DomainError("section_not_awarded", _("The section is not awarded."), 409)
    return Response(row.notice, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="award-notice-{section.code}.json"'})


@evaluation_bp.get("/sections/<int:section_id>/result")
def result(section_id: int):
    section = _public(section_id)
    mine = None
    if current_user.is_authenticated and current_user.role == Role.BIDDER:
        mine = award.result_of(section, current_user.organisation_id)
    return render_template("tender/award_result.html", section=section, row=section.award, mine=mine,
                           contract=section.contract)


# Contract.

@evaluation_bp.route("/sections/<int:section_id>/contract", methods=["GET", "POST"])
@roles_required(Role.PROCURING)
def contract(section_id: int):
    section = _managed(section_id)
    form = ContractForm()
    if form.validate_on_submit():
        award.record_contract(current_user, section, signed_on=form.signed_on.data, amount=form.amount.data,
                              performance_security=form.performance_security.data,
                              document=(form.document.data.filename, form.document.data.read()), now=clock.now())
        _done(_("The contract is recorded and published."))
        return redirect(url_for("evaluation.result", section_id=section.id))
    return render_template("tender/contract.html", section=section, form=form, breach_form=BreachForm(),
                           due=award.contract_due(section.award) if section.award else None,
                           triggers=guarantees.CLAIM_TRIGGERS), 400 if form.errors else 200


@evaluation_bp.post("/sections/<int:section_id>/contract/breach")
@roles_required(Role.PROCURING)
def breach(section_id: int):
    section = _managed(section_id)
    form = BreachForm()
    if form.validate_on_submit():
        award.record_breach(current_user, section, form.kind.data, form.note.data, clock.now(), fail=form.fail.data)
        _done(_("The breach is recorded: the guarantor of the winner's bid may record its claim."))
    elif form.errors:
        flash(_("Describe what happened."), "danger")
    return redirect(url_for("evaluation.contract", section_id=section.id))


@evaluation_bp.get("/sections/<int:section_id>/contract/document")
def contract_document(section_id: int):
    section = _public(section_id)
    if section.contract is None:
        abort(404)
    row = section.contract
    return Response(storage.get(row.sha256), mimetype=row.content_type, headers={
        "Content-Disposition": f'attachment; filename="contract-{section.code}.pdf"'})
