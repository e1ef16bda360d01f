from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedMultipleChoiceField  # type: ignore[attr-defined]

from accounts.models import AccreditationCategory, Organisation
from screening.models import AudienceRules, TerritoryMode


class AudienceRulesForm(forms.Form):
    allowed_categories = forms.MultipleChoiceField(
        label=_("Accreditation categories that may watch"),
        choices=AccreditationCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to open the screener to every category."),
    )
    blocked_organisations = forms.ModelMultipleChoiceField(
        label=_("Blocked companies (competitors)"),
        queryset=Organisation.objects.all(),
        required=False,
    )
    territory_mode = forms.ChoiceField(label=_("Territories"), choices=TerritoryMode.choices)
    territories = LazyTypedMultipleChoiceField(label=_("Territory list"), choices=countries, required=False)
    max_plays_after_session = forms.IntegerField(
        label=_("Plays allowed per viewer after the session"),
        min_value=0,
        required=False,
        help_text=_("Empty means no limit."),
    )

    @classmethod
    def initial_for(cls, rules: AudienceRules | None) -> dict[str, Any]:
        if rules is None:
            return {"territory_mode": TerritoryMode.ALL}
        return {
            "allowed_categories": rules.allowed_categories,
            "blocked_organisations": list(rules.blocked_organisations.all()),
            "territory_mode": rules.territory_mode,
            "territories": rules.territories,
            "max_plays_after_session": rules.max_plays_after_session,
        }
