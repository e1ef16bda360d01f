"""Page forms for a film's presentation and its needs. Amounts are typed in major units (4300.00) and
converted to integer minor units for the services, with the currency's own digits (core.money: EUR 2,
JPY 0, KWD 3, CLF 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import major_to_minor
from festival.models import Film, NeedCategory
from festival.services import FILM_EDITABLE_FIELDS
from festival.validators import iso4217_codes

# The most digits a currency has after the point (ISO 4217: CLF and UYW have four), and room for
# amounts up to 10^11 in any currency.
MAX_DECIMALS = 4
MAX_DIGITS = 11 + MAX_DECIMALS


class FilmForm(forms.ModelForm[Film]):
    directors_text = forms.CharField(
        label=_("Director(s)"), help_text=_("Separate several names with commas."), max_length=500
    )

    class Meta:
        model = Film
        fields = [f for f in FILM_EDITABLE_FIELDS if f != "directors"]
        widgets = {
            "synopsis_es": forms.Textarea(attrs={"rows": 4}),
            "synopsis_fr": forms.Textarea(attrs={"rows": 4}),
            "synopsis_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["directors_text"] = ", ".join(self.instance.directors)

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["directors"] = [d.strip() for d in self.cleaned_data["directors_text"].split(",") if d.strip()]
        return data


class NeedForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=NeedCategory.choices)
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost"), min_value=Decimal(0), max_digits=MAX_DIGITS, decimal_places=MAX_DECIMALS
    )
    secured = forms.DecimalField(
        label=_("Already secured"),
        min_value=Decimal(0),
        max_digits=MAX_DIGITS,
        decimal_places=MAX_DECIMALS,
        required=False,
        initial=0,
    )
    currency = forms.CharField(label=_("Currency"), min_length=3, max_length=3, initial="EUR")
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def clean_currency(self) -> str:
        code = str(self.cleaned_data["currency"]).upper()
        if code not in iso4217_codes():
            raise forms.ValidationError(
                _("“%(value)s” is not an ISO 4217 currency code."), params={"value": code}
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency")
        if currency:
            for field in ("estimated_cost", "secured"):
                try:
                    cleaned[f"{field}_minor"] = major_to_minor(cleaned.get(field) or Decimal(0), currency)
                except ValueError:
                    self.add_error(field, _("Too many decimals for this currency."))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        c = self.cleaned_data
        return {
            "category": c["category"],
            "estimated_cost_minor": c["estimated_cost_minor"],
            "secured_minor": c["secured_minor"],
            "currency": c["currency"],
            "notes": c["notes"],
        }
