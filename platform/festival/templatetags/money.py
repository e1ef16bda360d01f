"""The one money formatter: integer minor units and an ISO 4217 currency, as the reader writes amounts.

430000 EUR -> "EUR 4,300.00" (en), "EUR 4.300,00" (es), "EUR 4 300,00" (fr). Pages (the ``money``
filter), terms and deal memos (offers.terms.render.format_money) and payments all format through
``format_money_minor``; the order of code and amount is the catalogue's ("%(currency)s %(amount)s").
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

from festival.validators import currency_exponent

register = template.Library()


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent)


def format_money_minor(amount_minor: int, currency: str, *, exponent: int | None = None) -> str:
    """``exponent`` overrides the currency's minor-unit digits when the caller knows better (offers'
    terms carry ISO 4217's four-digit units, CLF and UYW)."""
    digits = currency_exponent(currency) if exponent is None else exponent
    major = Decimal(amount_minor).scaleb(-digits)
    amount = number_format(major, decimal_pos=digits, use_l10n=True, force_grouping=True)
    return gettext("%(currency)s %(amount)s") % {"currency": currency, "amount": amount}


@register.filter
def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return format_money_minor(amount_minor, currency)
