"""The trust store page for admins: the CA certificates and CRLs the platform trusts, and uploads."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from core import clock, trust_store
from core.extensions import db
from core.permissions import Role, roles_required

trust_bp = Blueprint("trust", __name__, url_prefix="/admin/trust")


class UploadForm(FlaskForm):
    file = FileField(_l("CA certificate or revocation list (PEM or DER)"), validators=[FileRequired()])


@trust_bp.get("")
@roles_required(Role.ADMIN)
def index():
    return render_template("core/trust.html", rows=trust_store.rows(), unreadable=trust_store.unreadable_files(),
                           form=UploadForm(), now=clock.now())


@trust_bp.post("")
@roles_required(Role.ADMIN)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a certificate or revocation list file to upload."), "danger")
        return redirect(url_for("trust.index"))
    data = form.file.data.read(trust_store.MAX_FILE + 1)
    kind = trust_store.add_file(data, current_user, clock.now())  # TrustRefused: flashed by the error handler
    db.session.commit()
    if kind == "ca":
        flash(_("The CA certificate was added to the trust store."), "success")
    else:
        flash(_("The revocation list was updated."), "success")
    return redirect(url_for("trust.index"))
