"""Sign-in, registration, password reset, profile and API tokens, approvals, administration."""
import base64
from datetime import timedelta

import segno

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from accounts import auth, keys, organisations, tokens
from accounts.forms import (KIND_LABELS, STATUS_LABELS, CodeForm, DecisionForm, ForgotForm, LoginForm,
                            PinForm, RegisterForm, ResetForm, SettingForm, TokenForm, UserForm)
from accounts.models import KIND_ROLES, ApiToken, Organisation, Region, User
from core import clock, settings
from core.crypto import secretbox
from core.db import get_or_404
from core.errors import DomainError
from core.extensions import db, login_manager
from core.permissions import ROLE_HOME, ROLE_LABELS, Role, check_object, roles_required
from core.oncommit import after_commit
from core.tasks import send_mail

accounts_bp = Blueprint("accounts", __name__, template_folder="templates")
SECOND_FACTOR_WINDOW = timedelta(minutes=5)

login_manager.login_view = "accounts.login"
login_manager.login_message = None  # the sign-in page itself explains
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str):
    """A browser session is good only while its server-side row lives (sign-out and expiry end it).
    The API never accepts the session cookie: it takes bearer tokens only (see request_loader)."""
    if request.path.startswith("/api/"):
        return None
    token = session.get("sid")
    if not token:
        return None
    user = auth.session_user(token, clock.now())
    if user is None or str(user.id) != user_id:
        return None
    if db.session.dirty:
        db.session.commit()  # the sliding expiry
    return user


@login_manager.request_loader
def load_user_from_token(req):
    scheme, _space, secret = req.headers.get("Authorization", "").partition(" ")
    if not req.path.startswith("/api/") or scheme.lower() != "bearer" or not secret.strip():
        return None  # the scheme name is case-insensitive (RFC 7235)
    user = tokens.user_for(secret.strip(), clock.now())
    if user is not None and db.session.dirty:
        db.session.commit()  # last_used_at
    return user


def _client() -> tuple[str, str]:
    return request.remote_addr or "", request.headers.get("User-Agent", "")


def _finish_login(user: User):
    token = auth.start_session(user, clock.now(), *_client(), language=str(get_locale()))
    db.session.commit()
    session.clear()  # a new session for a new sign-in: no fixation
    session["sid"] = token
    session.permanent = True
    login_user(user)
    return redirect(url_for(ROLE_HOME[user.role]))


def _pending_user() -> User | None:
    pending = session.get("pending_login")
    if not pending or clock.now().timestamp() - pending["at"] > SECOND_FACTOR_WINDOW.total_seconds():
        return None
    return db.session.get(User, pending["id"])


@accounts_bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOME[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data, clock.now(), _client()[0])
        except DomainError as error:
            db.session.commit()  # keep the failure count
            flash(error.message, "danger")
            return render_template("accounts/login.html", form=form), error.status
        if auth.needs_second_factor(user):
            session.clear()
            session["pending_login"] = {"id": user.id, "at": clock.now().timestamp()}
            return redirect(url_for("accounts.second_factor" if user.has_totp else "accounts.second_factor_setup"))
        return _finish_login(user)
    return render_template("accounts/login.html", form=form), 400 if form.errors else 200


@accounts_bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    user = _pending_user()
    if user is None or not user.has_totp:
        flash(_("Sign in again: the second step took too long."), "warning")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            auth.verify_second_factor(user, form.code.data, clock.now())
        except DomainError as error:
            db.session.commit()
            flash(error.message, "danger")
            return render_template("accounts/code.html", form=form), 400
        return _finish_login(user)
    return render_template("accounts/code.html", form=form)


@accounts_bp.route("/login/code/setup", methods=["GET", "POST"])
def second_factor_setup():
    """Roles that must use a second factor set it up at their first sign-in."""
    user = _pending_user()
    if user is None or user.has_totp:
        return redirect(url_for("accounts.login"))
    if "totp_setup" not in session:
        session["totp_setup"] = secretbox.seal(auth.new_totp_secret(), f"totp-setup:{user.id}").hex()
    secret = secretbox.open_(bytes.fromhex(session["totp_setup"]), f"totp-setup:{user.id}")
    form = CodeForm()
    if form.validate_on_submit():
        try:
            auth.enrol_second_factor(user, secret, form.code.data, clock.now())
        except DomainError as error:
            flash(error.message, "danger")
        else:
            session.pop("totp_setup", None)
            return _finish_login(user)
    uri = auth.provisioning_uri(user, secret)
    return render_template("accounts/code_setup.html", form=form, secret=base64.b32encode(secret).decode(),
                           uri=uri, qr=segno.make(uri, error="m").svg_data_uri(scale=5))


@accounts_bp.post("/logout")
def logout():
    if session.get("sid"):
        auth.end_session(current_user if current_user.is_authenticated else None, session["sid"], clock.now())
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("core.index"))


@accounts_bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    form.region_code.choices = [(r.code, f"{r.code} {r.display_name(str(get_locale() or 'zh'))}")
                                for r in db.session.scalars(select(Region).order_by(Region.code))]
    if form.validate_on_submit():
        organisations.register(name=form.name.data, code=form.credit_code.data, kind=form.kind.data,
                               region_code=form.region_code.data, contact_phone=form.contact_phone.data,
                               username=form.username.data, person_name=form.person_name.data,
                               email=form.email.data, password=form.password.data, now=clock.now(),
                               language=str(get_locale()))
        db.session.commit()
        flash(_("Registration received. You can sign in once the trading centre approves your organisation."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/register.html", form=form), 400 if form.errors else 200


@accounts_bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        made = auth.request_password_reset(form.email.data, clock.now())
        if made:
            user, token = made
            link = current_app.config["BASE_URL"].rstrip("/") + url_for("accounts.reset_password", token=token)
            mail = (user.email, _("Reset your password"),
                    _("Open this link within one hour to choose a new password:\n\n%(link)s\n\n"
                      "If you did not ask for it, ignore this message.", link=link))
            after_commit(lambda: send_mail.delay(*mail))  # a broker outage is logged, not shown as a 500
        db.session.commit()
        # The same answer whether the address is known or not: it reveals no accounts.
        flash(_("If an account uses that address, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/simple_form.html", form=form, title=_("Forgot your password?"),
                           submit=_("Send the reset link")), 400 if form.errors else 200


@accounts_bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetForm()
    if form.validate_on_submit():
        auth.reset_password(token, form.password.data, clock.now())
        db.session.commit()
        flash(_("Your password has been changed. Sign in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/simple_form.html", form=form, title=_("Choose a new password"),
                           submit=_("Change the password")), 400 if form.errors else 200


@accounts_bp.get("/profile")
@login_required
def profile():
    return render_template("accounts/profile.html", tokens=tokens.of(current_user), form=TokenForm(),
                           new_token=session.pop("new_token", None))


@accounts_bp.route("/profile/pin", methods=["GET", "POST"])
@roles_required(*keys.KEYHOLDER_ROLES)
def pin():
    """The keyholder's PIN: set it once, change it, or reset it when it is lost (a new personal key)."""
    form = PinForm()
    key = keys.current(current_user)
    if form.validate_on_submit():
        action = request.form.get("action", "set")
        try:
            if action == "reset":
                keys.reset_pin(current_user, form.pin.data, form.repeated.data, clock.now())
            elif key is not None:
                keys.change_pin(current_user, form.old_pin.data or "", form.pin.data, form.repeated.data, clock.now())
            else:
                keys.set_pin(current_user, form.pin.data, form.repeated.data, clock.now())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return render_template("accounts/pin.html", form=form, key=key), error.status
        db.session.commit()
        flash({"reset": _("Your PIN is reset: a new personal key takes part in sections published from now on.")}
              .get(action, _("Your PIN is saved.")), "success")
        return redirect(url_for("accounts.pin"))
    return render_template("accounts/pin.html", form=form, key=key), 400 if form.errors else 200


@accounts_bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Name the token and give it 1 to 365 days."), "danger")
        return redirect(url_for("accounts.profile"))
    _token, secret = tokens.create(current_user, form.name.data, form.days.data, clock.now())
    db.session.commit()
    session["new_token"] = secret  # shown once on the next page, then gone
    return redirect(url_for("accounts.profile"))


@accounts_bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = check_object(get_or_404(ApiToken, token_id), action="manage")
    tokens.revoke(current_user, token, clock.now())
    db.session.commit()
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("accounts.profile"))


# The centre approves organisations that registered themselves.
@accounts_bp.get("/approvals")
@roles_required(Role.CENTRE, Role.ADMIN)
def approvals():
    pending = db.session.scalars(select(Organisation).where(Organisation.status == "pending")
                                 .order_by(Organisation.registered_at))
    return render_template("accounts/approvals.html", organisations=list(pending), form=DecisionForm(),
                           kind_labels=KIND_LABELS)


@accounts_bp.post("/approvals/<int:org_id>")
@roles_required(Role.CENTRE, Role.ADMIN)
def decide_registration(org_id: int):
    organisation = get_or_404(Organisation, org_id)
    action = request.form.get("action")
    if action not in ("approve", "reject"):
        abort(400)
    organisations.decide(current_user, organisation, action, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=organisation.name, status=STATUS_LABELS[organisation.status]), "success")
    return redirect(url_for("accounts.approvals"))


# Administration: organisations, users, settings.
@accounts_bp.get("/admin")
@roles_required(Role.ADMIN)
def admin_home():
    status = request.args.get("status") or None
    query = select(Organisation).order_by(Organisation.name)
    if status in STATUS_LABELS:
        query = query.where(Organisation.status == status)
    return render_template("accounts/admin_home.html", organisations=list(db.session.scalars(query)),
                           kind_labels=KIND_LABELS, status_labels=STATUS_LABELS, status=status)


@accounts_bp.get("/admin/organisations/<int:org_id>")
@roles_required(Role.ADMIN)
def admin_organisation(org_id: int):
    organisation = get_or_404(Organisation, org_id)
    form = UserForm()
    form.role.choices = [(r.value, ROLE_LABELS[r]) for r in KIND_ROLES[organisation.kind]]
    return render_template("accounts/admin_organisation.html", organisation=organisation, form=form,
                           decision=DecisionForm(), kind_labels=KIND_LABELS, status_labels=STATUS_LABELS)


@accounts_bp.post("/admin/organisations/<int:org_id>/status")
@roles_required(Role.ADMIN)
def admin_organisation_status(org_id: int):
    organisation = get_or_404(Organisation, org_id)
    action = request.form.get("action")
    if action not in ("deactivate", "reactivate", "approve", "reject"):
        abort(400)
    organisations.decide(current_user, organisation, action, request.form.get("reason", ""), clock.now())
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=organisation.name, status=STATUS_LABELS[organisation.status]), "success")
    return redirect(url_for("accounts.admin_organisation", org_id=org_id))


@accounts_bp.post("/admin/organisations/<int:org_id>/users")
@roles_required(Role.ADMIN)
def admin_add_user(org_id: int):
    organisation = get_or_404(Organisation, org_id)
    form = UserForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{form[field].label.text}: {errors[0]}", "danger")
        return redirect(url_for("accounts.admin_organisation", org_id=org_id))
    user = organisations.add_user(current_user, organisation, username=form.username.data, name=form.name.data,
                                  email=form.email.data, role=form.role.data, password=form.password.data,
                                  now=clock.now())
    db.session.commit()
    flash(_("User %(name)s added.", name=user.name), "success")
    return redirect(url_for("accounts.admin_organisation", org_id=org_id))


@accounts_bp.post("/admin/users/<int:user_id>/<any(deactivate, reactivate, unlock, reset_code):action>")
@roles_required(Role.ADMIN)
def admin_user_action(user_id: int, action: str):
    user = get_or_404(User, user_id)
    now = clock.now()
    if action == "unlock":
        organisations.unlock(current_user, user, now)
    elif action == "reset_code":
        auth.reset_second_factor(current_user, user, now)
    else:
        organisations.set_user_status(current_user, user, action, now)
    db.session.commit()
    flash(_("Done: %(name)s.", name=user.name), "success")
    return redirect(url_for("accounts.admin_organisation", org_id=user.organisation_id))


@accounts_bp.get("/admin/settings")
@roles_required(Role.ADMIN)
def admin_settings():
    rows = [(d, settings.value(d.key), settings.history(d.key)) for d in settings.DEFINITIONS.values()]
    return render_template("accounts/settings.html", rows=rows, form=SettingForm(), now=clock.now())


@accounts_bp.post("/admin/settings/<key>")
@roles_required(Role.ADMIN)
def admin_change_setting(key: str):
    form = SettingForm()
    if not form.validate_on_submit():
        flash(_("Give a value and a reason."), "danger")
        return redirect(url_for("accounts.admin_settings"))
    effective = form.effective_from.data
    if effective is not None:
        effective = effective.replace(tzinfo=clock.SHANGHAI)
    settings.change(current_user, key, form.value.data, effective, form.reason.data, clock.now())
    db.session.commit()
    flash(_("The setting has been changed."), "success")
    return redirect(url_for("accounts.admin_settings"))

