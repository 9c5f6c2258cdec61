from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional

from accounts.models import OrgKind
from core.permissions import ROLE_LABELS

KIND_LABELS = {
    OrgKind.CENTRE: _l("Trading centre"),
    OrgKind.PROCURING_UNIT: _l("Procuring unit"),
    OrgKind.BIDDER: _l("Bidder"),
    OrgKind.SUPPLIER: _l("Mall supplier"),
    OrgKind.GUARANTOR: _l("Guarantor (bank, insurer, guarantee company)"),
    OrgKind.SUPERVISOR_DEPARTMENT: _l("Supervising department"),
}

STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "deactivated": _l("Deactivated"),
    "active": _l("Active"),
}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code"), validators=[DataRequired(), Length(min=6, max=7)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class RegisterForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(min=18, max=18)],
                              description=_l("18 characters, as printed on the business licence."))
    kind = SelectField(_l("Kind of organisation"),
                       choices=[(k, KIND_LABELS[k]) for k in OrgKind.SELF_REGISTERED])
    region_code = SelectField(_l("Administrative division"), choices=[])
    contact_phone = StringField(_l("Contact telephone"), validators=[DataRequired(), Length(max=40)])
    person_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=60)],
                           render_kw={"autocomplete": "username"})
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10)],
                             description=_l("At least 10 characters, mixing letters with digits or symbols."),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False)])


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(1, 365)])


class DecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)],
                           description=_l("Required to reject or deactivate; the organisation is told it."))


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=60)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False)])
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10)],
                             render_kw={"autocomplete": "new-password"})


class SettingForm(FlaskForm):
    value = StringField(_l("New value"), validators=[DataRequired(), Length(max=200)])
    effective_from = DateTimeLocalField(_l("In force from (Beijing time)"), validators=[Optional()],
                                        description=_l("Leave empty for now."))
    reason = StringField(_l("Reason for the change"), validators=[DataRequired(), Length(max=500)])


class PinForm(FlaskForm):
    """Set, change or reset the PIN that guards one's personal key for opening keys."""
    old_pin = PasswordField(_l("Current PIN"), validators=[Optional()], render_kw={"autocomplete": "off"})
    pin = PasswordField(_l("New PIN (at least 8 characters)"), validators=[DataRequired(), Length(min=8, max=128)],
                        render_kw={"autocomplete": "new-password"})
    repeated = PasswordField(_l("New PIN again"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})
