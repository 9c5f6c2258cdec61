"""The guarantee pages (/tender/guarantees): a guarantor uploads the signed files it issued, lists them,
revokes before the deadline and records claims after award; a bidder sees those issued for it; the centre
and supervisors see all. HTTP only: the rules are in tender.guarantees."""
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core import clock
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role, check_object, roles_required
from tender import guarantees
from tender.models import Guarantee, Section
from tender.states import GUARANTEE_LABELS

guarantees_bp = Blueprint("guarantees", __name__, template_folder="templates")
SEEING = (Role.GUARANTOR, Role.BIDDER, Role.CENTRE, Role.SUPERVISOR)
PER_PAGE = 30


class UploadForm(FlaskForm):
    file = FileField(_l("Signed guarantee file (.json)"), validators=[FileRequired()],
                     description=_l("The file your signing system made: the guarantee's fields in canonical JSON, "
                                    "your signature and your certificate. The platform finds the section and the "
                                    "bidder from it."))


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Why the guarantee is revoked"), validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2})


class ClaimForm(FlaskForm):
    trigger = SelectField(_l("What happened"), choices=list(guarantees.CLAIM_TRIGGERS.items()))
    amount = StringField(_l("Amount claimed (yuan)"), validators=[DataRequired()],
                         render_kw={"inputmode": "decimal"})
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


@guarantees_bp.context_processor
def _labels():
    return {"claim_triggers": guarantees.CLAIM_TRIGGERS, "guarantee_fields": guarantees.fields}


@guarantees_bp.app_context_processor
def _for_the_notice():
    """tender/notice.html names the guarantees issued for the signed-in bidder on its section."""
    def my_guarantees(section: Section) -> list[Guarantee]:
        if not current_user.is_authenticated or current_user.role != Role.BIDDER:
            return []
        return guarantees.for_bid(section, current_user.organisation)
    return {"my_guarantees": my_guarantees, "guarantee_labels": GUARANTEE_LABELS}


@guarantees_bp.get("/")
@roles_required(*SEEING)
def index():
    status = request.args.get("status", "")
    query = guarantees.visible(current_user)
    if status in GUARANTEE_LABELS:
        query = query.where(Guarantee.status == status)
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    return render_template("tender/guarantees.html", page=page, status=status)


@guarantees_bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.GUARANTOR)
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            guarantee = guarantees.issue(current_user, form.file.data.read(guarantees.MAX_DOCUMENT + 1), clock.now())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return render_template("tender/guarantees_new.html", form=form, refusal=error), error.status
        db.session.commit()
        flash(_("Guarantee %(number)s for %(code)s accepted and kept; the bidder has been told.",
                number=guarantee.number, code=guarantee.section.code), "success")
        return redirect(url_for("guarantees.detail", guarantee_id=guarantee.id))
    return render_template("tender/guarantees_new.html", form=form, refusal=None), 400 if form.errors else 200


def _detail(guarantee: Guarantee, revoke_form=None, claim_form=None, status: int = 200):
    now = clock.now()
    return render_template("tender/guarantees_detail.html", guarantee=guarantee,
                           check=guarantees.verify_at_opening(guarantee, now),
                           claimed=guarantees.claimed_total(guarantee),
                           may_revoke=guarantees.may_revoke(current_user, guarantee, now),
                           may_claim=guarantees.may_claim(current_user, guarantee),
                           revoke_form=revoke_form or RevokeForm(), claim_form=claim_form or ClaimForm()), \
        status


@guarantees_bp.get("/<int:guarantee_id>")
@roles_required(*SEEING)
def detail(guarantee_id: int):
    return _detail(check_object(get_or_404(Guarantee, guarantee_id)))


@guarantees_bp.get("/<int:guarantee_id>/document")
@roles_required(*SEEING)
def document(guarantee_id: int):
    guarantee = check_object(get_or_404(Guarantee, guarantee_id))
    name = f"guarantee-{guarantee.id}.json"
    return Response(guarantee.document, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _act(guarantee_id: int, form, act, done: str, which: str):
    guarantee = check_object(get_or_404(Guarantee, guarantee_id), action="manage")
    if not form.validate_on_submit():
        flash(_("Fill in the form: %(what)s.", what=", ".join(str(getattr(form, f).label.text) for f in form.errors)),
              "danger")
        return _detail(guarantee, **{which: form}, status=400)
    try:
        act(guarantee)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _detail(db.session.get(Guarantee, guarantee_id), **{which: form}, status=error.status)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("guarantees.detail", guarantee_id=guarantee_id))


@guarantees_bp.post("/<int:guarantee_id>/revoke")
@roles_required(Role.GUARANTOR)
def revoke(guarantee_id: int):
    form = RevokeForm()
    return _act(guarantee_id, form, lambda g: guarantees.revoke(current_user, g, form.reason.data, clock.now()),
                _("The guarantee is revoked; the bidder has been told."), "revoke_form")


@guarantees_bp.post("/<int:guarantee_id>/claims")
@roles_required(Role.GUARANTOR)
def claim(guarantee_id: int):
    form = ClaimForm()
    return _act(guarantee_id, form,
                lambda g: guarantees.claim(current_user, g, trigger=form.trigger.data, amount=form.amount.data,
                                           note=form.note.data, now=clock.now()),
                _("The claim is recorded; the bidder has been told."), "claim_form")

