from django import template

from payments.display import instalment_label, money_text
from payments.models import Instalment

register = template.Library()


@register.filter
def instalment_amount(instalment: Instalment) -> str:
    return money_text(instalment.amount_minor, instalment.currency)


@register.filter
def instalment_name(instalment: Instalment) -> str:
    return instalment_label(instalment)


@register.simple_tag
def money(amount_minor: int, currency: str) -> str:
    return money_text(amount_minor, currency)
