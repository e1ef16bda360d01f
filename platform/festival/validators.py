"""Validators for ISO codes used across the festival's data (a currency's minor-unit digits: core.money)."""

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
