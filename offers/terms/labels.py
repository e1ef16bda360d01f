"""The names people read for the fields of offer terms: the terms editor's labels, the titles of the JSON
schema it draws from (`/offers/schema/<type>.json`), and the field an error names.

One table, keyed by field name as the schemas spell it, so the form and its errors say the same word in
the reader's language. Every label goes through gettext with the same msgid as the editor's own fallback
table in platform/static/js/terms-editor.js, so one translation serves both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

PathPart = str | int

FIELD_LABELS: dict[str, Promise] = {
    "kind": gettext_lazy("Type of offer"),
    "schema_version": gettext_lazy("Version of the terms schema"),
    "provider_organisation_id": gettext_lazy("Provider organisation"),
    "service_lines": gettext_lazy("Services"),
    "category": gettext_lazy("Category"),
    "quantity": gettext_lazy("Quantity"),
    "unit": gettext_lazy("Unit"),
    "value": gettext_lazy("Value"),
    "languages": gettext_lazy("Languages"),
    "description": gettext_lazy("Description"),
    "facility": gettext_lazy("Facility"),
    "country": gettext_lazy("Country"),
    "city": gettext_lazy("City"),
    "time_window": gettext_lazy("Time window"),
    "start": gettext_lazy("Start"),
    "end": gettext_lazy("End"),
    "deliverables": gettext_lazy("Deliverables"),
    "consideration": gettext_lazy("What the provider asks in return"),
    "credit": gettext_lazy("Credit"),
    "logo": gettext_lazy("Logo"),
    "co_production_share_bp": gettext_lazy("Co-production share"),
    "rights_territories": gettext_lazy("Rights in territories"),
    "include": gettext_lazy("Territories included"),
    "exclude": gettext_lazy("Territories excluded"),
    "signature_deadline": gettext_lazy("Signature deadline"),
    "amount": gettext_lazy("Amount"),
    "amount_minor": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "tranches": gettext_lazy("Tranches"),
    "share_bp": gettext_lazy("Share"),
    "trigger": gettext_lazy("Payable"),
    "date": gettext_lazy("Date"),
    "conditions": gettext_lazy("Conditions"),
    "recoupment_position": gettext_lazy("Recoupment position"),
    "credit_obligations": gettext_lazy("Credit obligations"),
    "report_deadlines": gettext_lazy("Report deadlines"),
    "territories": gettext_lazy("Territories"),
    "media": gettext_lazy("Media and rights"),
    "exclusive": gettext_lazy("Exclusive"),
    "term": gettext_lazy("Term"),
    "years": gettext_lazy("Years"),
    "minimum_guarantee": gettext_lazy("Minimum guarantee"),
    "payment_schedule": gettext_lazy("Payment schedule of the minimum guarantee"),
    "distributor_share_bp": gettext_lazy("Distributor's share of revenue"),
    "distribution_fee_bp": gettext_lazy("Distribution fee"),
    "holdbacks": gettext_lazy("Holdbacks"),
    "days": gettext_lazy("Days"),
    "release": gettext_lazy("Release commitments"),
    "min_screens": gettext_lazy("Minimum screens"),
    "window": gettext_lazy("Release window"),
    "minimum_pa_spend": gettext_lazy("Minimum P&A spend"),
    "commission_bp": gettext_lazy("Commission"),
    "expenses_cap": gettext_lazy("Expenses cap"),
    "term_years": gettext_lazy("Term (years)"),
    "minimum_prices": gettext_lazy("Minimum prices"),
    "price": gettext_lazy("Price"),
}

# A list whose items the editor draws as numbered rows ("Tranche 2"): an error in an item names the row.
ROW_LABELS: dict[str, Promise] = {
    "service_lines": gettext_lazy("Service"),
    "tranches": gettext_lazy("Tranche"),
    "payment_schedule": gettext_lazy("Instalment"),
    "holdbacks": gettext_lazy("Holdback"),
    "minimum_prices": gettext_lazy("Minimum price"),
    "deliverables": gettext_lazy("Deliverable"),
    "conditions": gettext_lazy("Condition"),
    "report_deadlines": gettext_lazy("Report deadline"),
}

# Parts of a value the editor draws inside its parent's field (a money field is one labelled input for
# the amount beside a currency menu): the parent's label already names them.
_INSIDE_PARENT = frozenset({"amount_minor"})
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str | Sequence[PathPart]) -> tuple[PathPart, ...]:
    """ "tranches.1.share_bp" or "tranches[1].share_bp" (core.text's form) -> ("tranches", 1, "share_bp")."""
    if not isinstance(path, str):
        return tuple(path)
    parts: list[PathPart] = []
    for name, index in _PATH_PART.findall(path):
        text = index or name
        parts.append(int(text) if text.isdigit() else text)
    return tuple(parts)


def label_of(key: str) -> str:
    """One field's label in the active language; a key the table does not know is shown as it is."""
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key


def field_label(path: str | Sequence[PathPart]) -> str:
    """The field a path names, as the form labels it, in the active language:
    ("tranches", 1, "share_bp") -> "Tranche 2 › Share"; ("commission_bp",) -> "Commission"; () -> "Terms".
    """
    parts = split_path(path)
    names: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(part, int):  # an item of a list drawn as one input (codes): the list names it
            index += 1
            continue
        if isinstance(following, int) and part in ROW_LABELS:
            names.append(
                gettext("%(row)s %(number)d") % {"row": str(ROW_LABELS[part]), "number": following + 1}
            )
            index += 2
            continue
        if part not in _INSIDE_PARENT or not names:
            names.append(label_of(part))
        index += 1
    return " › ".join(names) if names else gettext("Terms")


def titled_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (pydantic's JSON schema of a terms model) with every property titled by its label in
    the active language, and lists drawn as rows carrying their row's name (``x-row-title``)."""

    def title(properties: dict[str, Any]) -> None:
        for key, node in properties.items():
            if key in FIELD_LABELS:
                node["title"] = label_of(key)
            if key in ROW_LABELS:
                node["x-row-title"] = str(ROW_LABELS[key])

    title(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        title(definition.get("properties", {}))
    return schema
