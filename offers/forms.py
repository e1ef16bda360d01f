"""The make-an-offer form: organisation, type and expiry as form fields; the terms as JSON written by the
terms editor (platform/static/js/terms-editor.js). The terms themselves are validated by the services."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User
from offers.models import OfferKind


class DateInput(forms.DateInput):
    input_type = "date"


class OfferForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("On behalf of"), queryset=Organisation.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(label=_("Type of offer"), choices=OfferKind.choices)
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(format="%Y-%m-%d"),
        help_text=_("The offer expires after this day if it is still open. Leave empty for no expiry."),
    )
    terms = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Organisation]", self.fields["organisation"])
        field.queryset = Organisation.objects.filter(memberships__user=user).distinct().order_by("name")
        if editing:
            # A draft keeps its organisation and type; its expiry date can still change.
            for name in ("organisation", "kind"):
                self.fields[name].disabled = True

    def clean_terms(self) -> dict[str, Any]:
        text = self.cleaned_data.get("terms") or ""
        try:
            terms = json.loads(text) if text else None
        except ValueError:
            terms = None
        if not isinstance(terms, dict):
            raise forms.ValidationError(_("Fill in the terms of the offer."), code="terms_missing")
        return terms

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        terms, kind = cleaned.get("terms"), cleaned.get("kind")
        if isinstance(terms, dict) and kind and terms.get("kind") != kind:
            self.add_error("terms", _("The terms do not match the type of offer chosen."))
        return cleaned
