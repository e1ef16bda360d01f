"""How instalments read to people: their label from the agreed terms, and amounts as money."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from offers.terms.common import Money
from offers.terms.render import CATEGORY_LABELS, format_money
from offers.terms.types import PostProductionTerms
from payments.models import Instalment, Source


def money_text(amount_minor: int, currency: str) -> str:
    """``EUR 1,250.00``; a credit in the ledger reads ``−EUR 1,250.00``."""
    text = format_money(Money(amount_minor=abs(amount_minor), currency=currency))
    return f"−{text}" if amount_minor < 0 else text


def instalment_label(instalment: Instalment, terms: Any = None) -> str:
    number = instalment.source_index + 1
    if instalment.source == Source.TRANCHE:
        return _("Tranche %(number)d") % {"number": number}
    if instalment.source == Source.MG_INSTALMENT:
        return _("Minimum guarantee, instalment %(number)d") % {"number": number}
    if instalment.source == Source.MINIMUM_GUARANTEE:
        return _("Minimum guarantee")
    if isinstance(terms, PostProductionTerms) and instalment.source_index < len(terms.service_lines):
        line = terms.service_lines[instalment.source_index]
        return str(CATEGORY_LABELS[line.category]) + (f": {line.description}" if line.description else "")
    return _("Service %(number)d") % {"number": number}
