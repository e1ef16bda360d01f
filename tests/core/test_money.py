"""core.money: the one exponent table and the one formatter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from core.money import MINUS, currency_exponent, format_money, major_to_minor, minor_to_major


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("EUR", 2), ("USD", 2), ("ARS", 2), ("JPY", 0), ("CLP", 0), ("KWD", 3), ("CLF", 4), ("UYW", 4)],
)
def test_exponents_follow_iso_4217(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_minor_and_major_units_convert_exactly_both_ways() -> None:
    assert minor_to_major(430000, "EUR") == Decimal("4300.00")
    assert minor_to_major(12345, "CLF") == Decimal("1.2345")
    assert major_to_minor(Decimal("1.2345"), "CLF") == 12345
    assert major_to_minor(Decimal("1500"), "JPY") == 1500
    with pytest.raises(ValueError, match="more decimals"):
        major_to_minor(Decimal("10.5"), "JPY")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "EUR 4,300.00"), ("es", "EUR 4\u202f300,00"), ("fr", "EUR 4\u202f300,00")],
)
def test_amounts_read_as_the_reader_writes_them(language: str, expected: str) -> None:
    with translation.override(language):
        text = format_money(430000, "EUR")
    assert text.replace("\xa0", "\u202f") == expected.replace("\xa0", "\u202f")


def test_each_currency_keeps_its_own_digits_and_credits_read_negative() -> None:
    with translation.override("en"):
        assert format_money(1500, "JPY") == "JPY 1,500"
        assert format_money(1250, "KWD") == "KWD 1.250"
        assert format_money(12345, "CLF") == "CLF 1.2345"
        assert format_money(-125000, "EUR") == f"{MINUS}EUR 1,250.00"
