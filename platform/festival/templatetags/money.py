"""Render integer minor units as a localised amount with its currency: 430000 EUR -> "4,300.00 EUR"."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from festival.validators import currency_exponent

register = template.Library()


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent)


@register.filter
def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    exponent = currency_exponent(currency)
    value = minor_to_major(amount_minor, currency)
    return f"{number_format(value, decimal_pos=exponent, use_l10n=True, force_grouping=True)} {currency}"
