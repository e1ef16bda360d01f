from django import template

from core.money import format_money
from payments.display import instalment_label
from payments.models import Instalment

register = template.Library()


@register.filter
def instalment_amount(instalment: Instalment) -> str:
    return format_money(instalment.amount_minor, instalment.currency)


@register.filter
def instalment_name(instalment: Instalment) -> str:
    return instalment_label(instalment)


@register.simple_tag
def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)
