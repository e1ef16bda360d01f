"""How instalments read to people: their label, drawn from the agreed terms. Amounts are written by
``core.money.format_money`` (the ``money`` and ``instalment_amount`` tags of ``payments_tags``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from offers.terms.render import CATEGORY_LABELS
from offers.terms.types import PostProductionTerms
from payments.models import Instalment, Source


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
