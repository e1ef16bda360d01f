"""Forms for the account pages. They parse and validate input; services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]

from accounts.models import AccreditationCategory, CompanyType, Organisation, User
from festival.models import Session


class SignupExtraForm(forms.Form):
    """Extra fields on allauth's signup form."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    language = forms.ChoiceField(label=_("Preferred language"), choices=settings.LANGUAGES)

    def signup(self, request: Any, user: User) -> None:
        user.full_name = self.cleaned_data["full_name"]
        user.language = self.cleaned_data["language"]
        user.save(update_fields=["full_name", "language"])


class OrganisationCreateForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    company_type = forms.ChoiceField(label=_("Company type"), choices=CompanyType.choices)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")


class MembershipRequestForm(forms.Form):
    """Ask to join an organisation one does not belong to yet; its administrators decide."""

    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    message = forms.CharField(
        label=_("Message to its administrators"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.exclude(  # type: ignore[attr-defined]
            memberships__user=user
        )


class AccreditationApplyForm(forms.Form):
    session = forms.ModelChoiceField(label=_("Session"), queryset=Session.objects.none())
    organisation = forms.ModelChoiceField(label=_("On behalf of"), queryset=Organisation.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=AccreditationCategory.choices)
    motivation = forms.CharField(
        label=_("Why you are attending"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    accept_terms = forms.BooleanField(
        label=_(
            "I accept the accreditation terms: screeners are for my professional evaluation only, every "
            "stream carries my identity, and producers see reports of what I watched."
        ),
        required=False,
    )

    def __init__(self, *args: Any, user: User, sessions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = user.organisations.all()  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
