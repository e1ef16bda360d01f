"""Stripe Connect for production companies: where each of the user's companies stands, and the way to
Stripe's onboarding and back."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import ready_required
from accounts.models import Organisation, User
from accounts.permissions import acting_user
from payments import gateway
from payments.selectors import companies_of, connected_account_of, own_organisation
from payments.services.connect import connect_onboarding_link, connect_refresh
from payments.views.common import SERVICE_FAILURES, absolute_url, allow_stripe_forms, refused


def _own_company_or_404(user: User, org_id: int) -> Organisation:
    organisation = own_organisation(user, org_id)
    if organisation is None:
        raise Http404(_("No such organisation."))
    return organisation


def _to_onboarding(request: HttpRequest, org_id: int) -> HttpResponse:
    """A fresh onboarding link of the user's company, and the browser sent there."""
    user = acting_user(request)
    organisation = _own_company_or_404(user, org_id)
    try:
        url = connect_onboarding_link(
            user=user,
            organisation=organisation,
            return_url=absolute_url(request, "payments:connect-return", organisation.pk),
            refresh_url=absolute_url(request, "payments:connect-refresh", organisation.pk),
        )
    except SERVICE_FAILURES as error:
        return refused(request, error, reverse("payments:connect"))
    return redirect(url)


@ready_required
@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """The user's production companies and where each stands with Stripe."""
    companies = companies_of(acting_user(request))
    context = {
        "companies": companies.production,
        "other_organisations": companies.others,
        "configured": gateway.configured(),
    }
    return allow_stripe_forms(render(request, "payments/connect.html", context))


@ready_required
@require_POST
def connect_start(request: HttpRequest, org_id: int) -> HttpResponse:
    return _to_onboarding(request, org_id)


@ready_required
@require_GET
def connect_return(request: HttpRequest, org_id: int) -> HttpResponse:
    """Where Stripe sends the user back after onboarding: re-read the account and say where it stands."""
    user = acting_user(request)
    organisation = _own_company_or_404(user, org_id)
    account = connected_account_of(organisation)
    if account is None:
        messages.info(request, _("%(name)s is not connected to Stripe yet.") % {"name": organisation.name})
        return redirect("payments:connect")
    try:
        account = connect_refresh(account=account, actor=user)
    except SERVICE_FAILURES as error:
        return refused(request, error, reverse("payments:connect"))
    if account.ready:
        messages.success(
            request,
            _("%(name)s is connected to Stripe and can receive payments.") % {"name": organisation.name},
        )
    else:
        messages.info(
            request,
            _("Stripe still needs some details before %(name)s can receive payments.")
            % {"name": organisation.name},
        )
    return redirect("payments:connect")


@ready_required
@require_GET
def connect_refresh_link(request: HttpRequest, org_id: int) -> HttpResponse:
    """Where Stripe sends the user when an onboarding link expired: a fresh link, straight away."""
    return _to_onboarding(request, org_id)
