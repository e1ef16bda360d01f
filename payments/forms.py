"""The admins' payments desk's form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy


class PlatformFeeForm(forms.Form):
    percent = forms.DecimalField(
        label=gettext_lazy("Platform fee (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        max_digits=4,
        decimal_places=2,
        help_text=gettext_lazy("Taken from each paid instalment; from 0 to 50, with two decimals."),
    )

    def basis_points(self) -> int:
        return int(self.cleaned_data["percent"] * 100)
