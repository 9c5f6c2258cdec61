"""The tender forms (CSRF on). The services judge the values; the forms only gather them."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, PasswordField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tender.models import CATEGORIES, EVALUATION_METHODS, METHODS, ROOM_KINDS, SEALING_SUITES

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _choices(labels: dict) -> list:
    return list(labels.items())


class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), choices=_choices(CATEGORIES))
    region_code = SelectField(_l("Region"))
    green_channel = BooleanField(_l("Ask for the green channel (绿色通道): key or urgent project"))
    green_channel_reason = StringField(_l("Why the green channel"), validators=[Optional(), Length(max=300)])
    sealing_suite = SelectField(_l("Bid sealing"), choices=_choices(SEALING_SUITES), default="x25519",
                                description=_l("How bidders' envelopes are encrypted to the opening key."))


class SectionForm(FlaskForm):
    name = StringField(_l("Section name"), validators=[DataRequired(), Length(max=200)])
    method = SelectField(_l("Procurement method"), choices=_choices(METHODS))
    base_amount = StringField(_l("Control price or budget (yuan)"), validators=[DataRequired()],
                              render_kw={"inputmode": "decimal", "placeholder": "1250000.00"})
    guarantee_amount = StringField(_l("Bid guarantee required (yuan, at most %(share)s of the control price or budget)", share="2%"),
                                   validators=[DataRequired()], render_kw={"inputmode": "decimal"})
    bid_validity_days = IntegerField(_l("Bid validity (days)"), default=90,
                                     validators=[DataRequired(), NumberRange(30, 365)])
    evaluation_method = SelectField(_l("Evaluation method"), choices=_choices(EVALUATION_METHODS))
    # Comprehensive scoring only; the service checks that they add up to 100 (all three left empty: 30, 60, 10).
    price_weight = IntegerField(_l("Price weight"), default=30, validators=[Optional(), NumberRange(1, 100)],
                                description=_l("Comprehensive scoring: the price, technical and commercial weights add "
                                               "up to 100."))
    technical_weight = IntegerField(_l("Technical weight"), default=60, validators=[Optional(), NumberRange(0, 100)])
    commercial_weight = IntegerField(_l("Commercial weight"), default=10, validators=[Optional(), NumberRange(0, 100)])


class DocumentForm(FlaskForm):
    item = SelectField(_l("Which required material"))
    file = FileField(_l("File (PDF, OFD, Word, Excel, ZIP, JPEG or PNG)"), validators=[FileRequired()])


class PublishForm(FlaskForm):
    title = StringField(_l("Notice title"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("Notice text"), validators=[DataRequired()], render_kw={"rows": 8})
    deadline = DateTimeLocalField(_l("Bid deadline and opening time (Beijing time)"), format=DATETIME_FORMAT,
                                  validators=[DataRequired()])
    documents = MultipleFileField(_l("Tender documents (招标文件)"))


class AddendumForm(FlaskForm):
    title = StringField(_l("Addendum title"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("What changes"), validators=[DataRequired()], render_kw={"rows": 6})
    documents = MultipleFileField(_l("Changed documents (optional)"))


class QuestionForm(FlaskForm):
    question = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=5000)],
                             description=_l("Other bidders see the question and its answer, never who asked."))


class RoomForm(FlaskForm):
    name = StringField(_l("Room name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=_choices(ROOM_KINDS))
    seats = IntegerField(_l("Seats"), default=20, validators=[Optional(), NumberRange(0, 10000)])


class BookingForm(FlaskForm):
    room_id = SelectField(_l("Room"), coerce=int)
    starts_at = DateTimeLocalField(_l("From (Beijing time)"), format=DATETIME_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("To (Beijing time)"), format=DATETIME_FORMAT, validators=[DataRequired()])
    purpose = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=200)])
    section_code = StringField(_l("Section code (optional)"), validators=[Optional(), Length(max=50)])


class EnvelopeForm(FlaskForm):
    envelope = FileField(_l("Sealed envelope (.env file made by your bidding tool)"), validators=[FileRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired()])


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (start the opening, sign in, seal the record)."""


class ReleaseForm(FlaskForm):
    pin = PasswordField(_l("Your opening-key PIN"), validators=[DataRequired(), Length(max=200)])


class SuspendForm(FlaskForm):
    note = TextAreaField(_l("The anomaly, for the record"), validators=[DataRequired(), Length(max=2000)])
    reschedule_to = DateTimeLocalField(_l("Rescheduled opening (Beijing time)"), format=DATETIME_FORMAT,
                                       validators=[DataRequired()])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[("continue", _l("Continue the procedure")),
                                                   ("fail", _l("The section fails (流标)"))],
                          validators=[DataRequired()])
    ground = TextAreaField(_l("Legal ground or reason"), validators=[DataRequired(), Length(max=2000)])


class RespondForm(FlaskForm):
    kind = RadioField(_l("Your response"), choices=[("confirm", _l("Confirm the record")),
                                                    ("object", _l("Object"))], validators=[DataRequired()])
    text = TextAreaField(_l("Objection (what is wrong)"), validators=[Optional(), Length(max=4000)])


class AnswerForm(FlaskForm):
    response_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    text = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=4000)])
