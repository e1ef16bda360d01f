"""Creating an organisation. Joining an existing one is a request its administrators decide
(``accounts.services.memberships``)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import CompanyType, Membership, MembershipRole, Organisation, User
from accounts.policy import require_ready
from audit.services import audit_record
from core.errors import Conflict, InvalidInput


def organisation_create(
    *, user: User, name: str, country: str, company_type: str, website: str = ""
) -> Organisation:
    """Create an organisation and make ``user`` its first member and administrator."""
    require_ready(user)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("An organisation needs a name."), field="name")
    if country not in dict(countries):
        raise InvalidInput(
            _("“%(value)s” is not an ISO 3166 country code.") % {"value": country}, field="country"
        )
    if company_type not in CompanyType.values:
        raise InvalidInput(_("Unknown company type."), field="company_type")
    with transaction.atomic():
        if Organisation.objects.filter(name__iexact=name, country=country).exists():
            raise Conflict(
                _("%(name)s already exists in this country: ask to join it instead.") % {"name": name},
                field="name",
            )
        organisation = Organisation.objects.create(
            name=name, country=country, company_type=company_type, website=website
        )
        Membership.objects.create(user=user, organisation=organisation, role=MembershipRole.ADMIN)
        audit_record(
            action="organisation.created",
            actor=user,
            organisation=organisation,  # the founder acts for it from now on
            target=organisation,
            data={
                "name": name,
                "country": country,
                "company_type": company_type,
                "founder_id": user.pk,
                "founder_role": MembershipRole.ADMIN,
            },
        )
    return organisation
