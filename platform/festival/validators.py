"""Validators for ISO codes used across the festival's data."""

from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def iso4217_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def validate_currency(value: str) -> None:
    if value not in iso4217_codes():
        raise ValidationError(
            _("“%(value)s” is not an ISO 4217 currency code."), code="currency", params={"value": value}
        )


@cache
def currency_exponent(code: str) -> int:
    """Digits after the decimal point for a currency (EUR 2, JPY 0, CLP 0...)."""
    zero_decimal = {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
    three_decimal = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
    if code in zero_decimal:
        return 0
    if code in three_decimal:
        return 3
    return 2
