"""Money is Decimal CNY with two places, never float; shown in 元 / 万元 / 亿元."""
from flask_babel import gettext as _
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import DomainError

CENT = Decimal("0.01")
WAN = Decimal("10000")
YI = Decimal("100000000")


def parse(value) -> Decimal:
    """Read an amount typed by a person or sent in JSON: '1234.5', '1,234.50', 1234 — never a float."""
    if isinstance(value, float):
        raise DomainError("amount_float", _("Send amounts as decimal strings, not floating-point numbers."))
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError("amount_invalid", _("'%(value)s' is not an amount of money.", value=value)) from None
    if not amount.is_finite():
        raise DomainError("amount_invalid", _("'%(value)s' is not an amount of money.", value=value))
    if amount != amount.quantize(CENT):
        raise DomainError("amount_precision", _("Amounts have at most two decimal places (分)."))
    return amount.quantize(CENT)


def to_json(amount: Decimal) -> str:
    """Amounts in JSON and canonical documents are decimal strings with two places: "1234.50"."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def split_units(amount: Decimal) -> tuple[Decimal, str]:
    """Choose the unit a Chinese report would use: 元 below 1万, 万元 below 1亿, else 亿元."""
    amount = Decimal(amount)
    magnitude = abs(amount)
    if magnitude >= YI:
        return (amount / YI).quantize(CENT, rounding=ROUND_HALF_UP), "亿元"
    if magnitude >= WAN:
        return (amount / WAN).quantize(CENT, rounding=ROUND_HALF_UP), "万元"
    return amount.quantize(CENT, rounding=ROUND_HALF_UP), "元"


def format_exact(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP):,} 元"


def format_cny(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    value, unit = split_units(amount)
    return f"{value:,} {unit}"
