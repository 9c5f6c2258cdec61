"""Forms of the mall's pages (Flask-WTF: CSRF on). The services check every rule again."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from mall.models import CATEGORIES


def category_choices():
    return [(key, label) for key, label in CATEGORIES.items()]


class ListingForm(FlaskForm):
    category = SelectField(_l("Category"), choices=category_choices)
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=200)])
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=100)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=100)])
    specifications = TextAreaField(_l("Specifications"), validators=[Optional(), Length(max=5000)])
    unit = StringField(_l("Unit of sale"), validators=[DataRequired(), Length(max=20)],
                       description=_l("For example 台, 盒, 箱."))
    price = StringField(_l("Agreement price (yuan)"), validators=[DataRequired(), Length(max=20)])
    stock = IntegerField(_l("Stock"), validators=[DataRequired(), NumberRange(0, 10_000_000)])
    regions = SelectMultipleField(_l("Delivery regions"), choices=[], validators=[DataRequired()],
                                  description=_l("A province or city covers the places inside it."))
    reference_source = StringField(_l("Market reference: store"), validators=[Optional(), Length(max=100)],
                                   description=_l("A large e-commerce self-operated store, e.g. 京东自营. "
                                                  "Leave empty if a current reference was entered already."))
    reference_price = StringField(_l("Market reference: price (yuan)"), validators=[Optional(), Length(max=20)])
    reference_url = StringField(_l("Market reference: link"), validators=[Optional(), Length(max=500)])


class MarketPriceForm(FlaskForm):
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=100)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=100)])
    source = StringField(_l("Store"), validators=[DataRequired(), Length(max=100)])
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(), Length(max=20)])
    captured_at = StringField(_l("Captured (Beijing time)"), validators=[DataRequired(), Length(max=30)],
                              description=_l("2026-05-01 14:30"))
    url = StringField(_l("Link"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file (UTF-8)"), validators=[DataRequired()])


class BudgetLineForm(FlaskForm):
    fiscal_year = IntegerField(_l("Fiscal year"), validators=[DataRequired(), NumberRange(2000, 2200)])
    code = StringField(_l("Budget code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])


class CheckoutForm(FlaskForm):
    budget_line_id = SelectField(_l("Budget line"), coerce=int, choices=[])
    delivery_region = SelectField(_l("Delivery region"), choices=[])
    delivery_address = StringField(_l("Delivery address"), validators=[DataRequired(), Length(max=300)])


class AuctionForm(FlaskForm):
    category = SelectField(_l("Category"), choices=category_choices)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    requirement = TextAreaField(_l("Requirement"), validators=[DataRequired(), Length(max=5000)])
    quantity = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(1, 100_000)])
    ceiling = StringField(_l("Ceiling for the whole quantity (yuan)"), validators=[DataRequired(), Length(max=20)],
                          description=_l("Reserved on the budget line while quotes are taken."))
    hours = IntegerField(_l("Quotes taken for (hours)"), default=72, validators=[DataRequired(), NumberRange(1, 720)])
    budget_line_id = SelectField(_l("Budget line"), coerce=int, choices=[])
    delivery_region = SelectField(_l("Delivery region"), choices=[])
    delivery_address = StringField(_l("Delivery address"), validators=[DataRequired(), Length(max=300)])
