from decimal import Decimal

import pytest

from core import money
from core.errors import DomainError
from core.templating import yuan


@pytest.mark.parametrize("amount, shown", [
    (Decimal("8500"), "8,500.00 元"),
    (Decimal("9999.99"), "9,999.99 元"),
    (Decimal("10000"), "1.00 万元"),
    (Decimal("1234567.89"), "123.46 万元"),
    (Decimal("99999999.99"), "10,000.00 万元"),
    (Decimal("100000000"), "1.00 亿元"),
    (Decimal("2350000000"), "23.50 亿元"),
    (Decimal("-15000"), "-1.50 万元"),
])
def test_amounts_are_shown_in_the_unit_a_report_would_use(amount, shown):
    assert money.format_cny(amount) == shown


def test_the_exact_amount_is_in_the_title_for_hover_and_screen_readers():
    assert str(yuan(Decimal("1234567.89"))) == '<span class="money" title="1,234,567.89 元">123.46 万元</span>'


@pytest.mark.parametrize("typed, parsed", [("1234.5", "1234.50"), ("1,234.50", "1234.50"), (1234, "1234.00"),
                                           (" 12 ", "12.00"), ("１２", "12.00")])
def test_amounts_typed_by_people_are_read_exactly(typed, parsed):
    assert money.parse(typed) == Decimal(parsed)


@pytest.mark.parametrize("bad, reason", [(1.5, "amount_float"), ("abc", "amount_invalid"), ("NaN", "amount_invalid"),
                                         ("Infinity", "amount_invalid"), ("1.234", "amount_precision")])
def test_bad_amounts_are_refused_with_a_reason(app, bad, reason):
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            money.parse(bad)
    assert refused.value.code == reason


def test_json_carries_amounts_as_decimal_strings():
    assert money.to_json(Decimal("1234.5")) == "1234.50"
