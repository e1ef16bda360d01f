"""Account pages: dashboard, organisation, accreditation applications and the admins' review queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import admin_required, ready_required
from accounts.forms import AccreditationApplyForm, DecisionForm, MembershipRequestForm, OrganisationCreateForm
from accounts.models import (
    Accreditation,
    AccreditationStatus,
    Membership,
    MembershipRequest,
    MembershipRole,
    Organisation,
    User,
)
from accounts.permissions import acting_user
from accounts.policy import (
    is_festival_admin,
    may_manage_organisation,
    organisation_role_of,
)
from accounts.selectors import (
    accreditations_of,
    accreditations_visible_to,
    members_of,
    membership_request_visible,
    membership_requests_visible_to,
)
from accounts.services import accreditations, memberships, organisations
from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from core.params import int_param
from festival.policy import films_of_team
from festival.selectors import sessions_open


def _render_dashboard(
    request: HttpRequest, user: User, apply_form: AccreditationApplyForm, status: int = 200
) -> HttpResponse:
    context = {
        "accreditations": accreditations_of(user=user),
        "organisations": user.organisations.all(),
        "team_films": films_of_team(user).select_related("session"),
        "apply_form": apply_form,
    }
    return render(request, "accounts/dashboard.html", context, status=status)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    return _render_dashboard(request, user, AccreditationApplyForm(user=user, sessions=sessions_open()))


def _organisation_panel(user: User, organisation_id: int | None) -> dict[str, Any] | None:
    """The members and pending requests of one organisation, for its members (requests only for its
    administrators) and festival admins; Http404 for anyone else."""
    if organisation_id is None:
        return None
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    role = organisation_role_of(user=user, organisation_id=organisation_id)
    if organisation is None or (role is None and not is_festival_admin(user)):
        raise Http404
    manages = may_manage_organisation(user=user, organisation_id=organisation_id)
    requests = (
        membership_requests_visible_to(user=user, organisation_id=organisation_id, status="pending")
        if manages
        else MembershipRequest.objects.none()
    )
    return {
        "organisation": organisation,
        "manages": manages,
        "members": members_of(organisation_id=organisation_id),
        "requests": requests,
        "roles": MembershipRole.choices,
    }


def _render_organisation(
    request: HttpRequest,
    user: User,
    *,
    create_form: OrganisationCreateForm | None = None,
    request_form: MembershipRequestForm | None = None,
    panel_org: int | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "create_form": create_form or OrganisationCreateForm(prefix="create"),
        "request_form": request_form or MembershipRequestForm(prefix="request", user=user),
        "my_memberships": user.memberships.select_related("organisation"),
        "my_requests": user.membership_requests.select_related("organisation")[:20],
        "administered_requests": membership_requests_visible_to(user=user, status="pending").exclude(
            user=user
        )
        if not is_festival_admin(user)
        else MembershipRequest.objects.none(),
        "panel": _organisation_panel(user, panel_org),
    }
    return render(request, "accounts/organisation.html", context, status=status)


def _refusal(request: HttpRequest, user: User, error: DomainError, panel_org: int | None) -> HttpResponse:
    """A refused membership action: 404 for what the user may not know of, 403 with the reason for what they
    may not do, otherwise the page again with the reason (400, or 409 for a state that does not allow it)."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, Forbidden):
        return render(request, "refused.html", {"message": error.message, "code": error.code}, status=403)
    messages.error(request, error.message)
    status = 409 if isinstance(error, Conflict) else 400
    return _render_organisation(request, user, panel_org=panel_org, status=status)


def _member_of_panel(user: User, organisation_id: int | None, member_id: int | None) -> Membership:
    """A member of an organisation the user belongs to (or any, for festival admins); Http404 otherwise."""
    panel = _organisation_panel(user, organisation_id)
    membership = panel["members"].filter(user_id=member_id).first() if panel and member_id else None
    if membership is None:
        raise Http404
    return membership


def _after(request: HttpRequest, organisation_id: int | None) -> HttpResponse:
    if request.POST.get("next") == "review":
        return redirect("accounts:review-queue")
    url = reverse("accounts:organisation")
    return redirect(f"{url}?org={organisation_id}" if organisation_id else url)


@ready_required
def organisation(request: HttpRequest) -> HttpResponse:
    """Your organisations: create one, ask to join one, and (as an administrator) decide who belongs.

    Every write needs a ready account, as everywhere else; joining an existing organisation is a request
    its administrators (or festival admins) approve (``accounts.services.memberships``).
    """
    user = acting_user(request)
    if request.method != "POST":
        try:
            panel_org = int_param(request.GET, "org")
        except InvalidInput as error:
            messages.error(request, error.message)
            return _render_organisation(request, user, status=400)
        return _render_organisation(request, user, panel_org=panel_org)
    action = request.POST.get("action") or ("create" if "create-name" in request.POST else "")
    if action == "create":
        create_form = OrganisationCreateForm(request.POST, prefix="create")
        if create_form.is_valid():
            try:
                org = organisations.organisation_create(user=user, **create_form.cleaned_data)
            except Forbidden as error:
                return _refusal(request, user, error, None)
            except DomainError as error:
                create_form.add_error(
                    error.field if error.field in create_form.fields else None, error.message
                )
            else:
                messages.success(
                    request, _("%(name)s created. You are its administrator.") % {"name": org.name}
                )
                return redirect("accounts:dashboard")
        return _render_organisation(request, user, create_form=create_form, status=400)
    if action == "request":
        request_form = MembershipRequestForm(request.POST, prefix="request", user=user)
        if request_form.is_valid():
            org = request_form.cleaned_data["organisation"]
            try:
                memberships.membership_request_create(
                    user=user, organisation=org, message=request_form.cleaned_data["message"]
                )
            except Forbidden as error:
                return _refusal(request, user, error, None)
            except DomainError as error:
                request_form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "Request sent to the administrators of %(name)s. "
                        "You will get an email when they decide."
                    )
                    % {"name": org.name},
                )
                return redirect("accounts:organisation")
        return _render_organisation(request, user, request_form=request_form, status=400)
    return _membership_action(request, user, action)


def _membership_action(request: HttpRequest, user: User, action: str) -> HttpResponse:
    """Withdraw, approve, reject, remove and change roles: parse, call one service, answer."""
    organisation_id: int | None = None
    try:
        organisation_id = int_param(request.POST, "organisation")
        reason = request.POST.get("reason", "")
        if action in ("withdraw", "approve", "reject"):
            request_id = int_param(request.POST, "request")
            if request_id is None:
                raise InvalidInput(_("Which request?"), field="request")
            found = membership_request_visible(user=user, request_id=request_id)
            organisation_id = found.organisation_id if found.user_id != user.pk else None
            if action == "withdraw":
                memberships.membership_request_withdraw(user=user, request=found)
                messages.success(request, _("Request withdrawn."))
            elif action == "approve":
                role = request.POST.get("role") or MembershipRole.MEMBER
                memberships.membership_request_approve(actor=user, request=found, role=role, reason=reason)
                messages.success(request, _("%(name)s is now a member.") % {"name": found.user.display_name})
            else:
                memberships.membership_request_reject(actor=user, request=found, reason=reason)
                messages.success(
                    request, _("Request rejected; %(email)s has been emailed.") % {"email": found.user.email}
                )
        elif action in ("remove", "role"):
            membership = _member_of_panel(user, organisation_id, int_param(request.POST, "user"))
            if action == "remove":
                memberships.membership_remove(actor=user, membership=membership, reason=reason)
                messages.success(request, _("%(name)s removed.") % {"name": membership.user.display_name})
                if membership.user_id == user.pk:
                    organisation_id = None
            else:
                memberships.membership_set_role(
                    actor=user, membership=membership, role=request.POST.get("role", "")
                )
                messages.success(request, _("Role changed."))
        else:
            raise InvalidInput(_("Unknown action."), field="action")
    except DomainError as error:
        return _refusal(request, user, error, organisation_id)
    return _after(request, organisation_id)


@ready_required
@require_POST
def accreditation_apply(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = AccreditationApplyForm(request.POST, user=user, sessions=sessions_open())
    if form.is_valid():
        try:
            accreditations.accreditation_apply(user=user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Application sent. You will get an email when an admin decides."))
            return redirect("accounts:dashboard")
    return _render_dashboard(request, user, form, status=400)


@ready_required
@require_POST
def accreditation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    accreditation = get_object_or_404(Accreditation, pk=pk, user=acting_user(request))
    try:
        accreditations.accreditation_withdraw(accreditation=accreditation, user=acting_user(request))
        messages.success(request, _("Application withdrawn."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("accounts:dashboard")


@admin_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    status = request.GET.get("status", AccreditationStatus.PENDING)
    return render(
        request,
        "accounts/review_queue.html",
        {
            "accreditations": accreditations_visible_to(user=user, status=status),
            "status": status,
            "statuses": AccreditationStatus.choices,
            "decision_form": DecisionForm(),
            "membership_requests": membership_requests_visible_to(user=user, status="pending"),
        },
    )


@admin_required
@require_POST
def review_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    accreditation = get_object_or_404(Accreditation, pk=pk)
    form = DecisionForm(request.POST)
    decisions: dict[str, Callable[..., Accreditation]] = {
        "approve": accreditations.accreditation_approve,
        "reject": accreditations.accreditation_reject,
        "revoke": accreditations.accreditation_revoke,
    }
    decide = decisions.get(decision)
    if decide is None or not form.is_valid():
        messages.error(request, _("Unknown decision."))
        return redirect("accounts:review-queue")
    try:
        decide(accreditation=accreditation, admin=acting_user(request), reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Decision recorded; %(email)s has been emailed.") % {"email": accreditation.user.email}
        )
    return redirect("accounts:review-queue")
