"""The ``money`` filter, for every app's templates: ``{{ need.estimated_cost_minor|money:need.currency }}``.

Amounts are integer minor units plus an ISO 4217 currency, formatted by the one formatter,
``core.money.format_money`` (430000 EUR -> "EUR 4,300.00" in English).
"""

from __future__ import annotations

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return format_money(amount_minor, currency)
