"""Account pages: dashboard, organisation, accreditation applications and the admins' review queue."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.decorators import admin_required, ready_required
from accounts.forms import AccreditationApplyForm, DecisionForm, OrganisationCreateForm, OrganisationJoinForm
from accounts.models import Accreditation, AccreditationStatus, User
from accounts.permissions import acting_user
from core.errors import DomainError
from festival.models import Session
from festival.selectors import films_of_team


def _open_sessions():  # type: ignore[no-untyped-def]
    return Session.objects.filter(ends_on__gte=timezone.now().date()).select_related("edition")


def _render_dashboard(
    request: HttpRequest, user: User, apply_form: AccreditationApplyForm, status: int = 200
) -> HttpResponse:
    context = {
        "accreditations": user.accreditations.select_related("session", "organisation"),
        "organisations": user.organisations.all(),
        "team_films": films_of_team(user=user),
        "apply_form": apply_form,
    }
    return render(request, "accounts/dashboard.html", context, status=status)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    return _render_dashboard(request, user, AccreditationApplyForm(user=user, sessions=_open_sessions()))


@login_required
def organisation(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    create_form = OrganisationCreateForm(prefix="create")
    join_form = OrganisationJoinForm(prefix="join")
    if request.method == "POST":
        try:
            if "create-name" in request.POST:
                create_form = OrganisationCreateForm(request.POST, prefix="create")
                if create_form.is_valid():
                    org = services.organisation_create(user=user, **create_form.cleaned_data)
                    messages.success(
                        request, _("%(name)s created. You are its first member.") % {"name": org.name}
                    )
                    return redirect("dashboard")
            else:
                join_form = OrganisationJoinForm(request.POST, prefix="join")
                if join_form.is_valid():
                    org = join_form.cleaned_data["organisation"]
                    services.organisation_join(user=user, organisation=org)
                    messages.success(request, _("You joined %(name)s.") % {"name": org.name})
                    return redirect("dashboard")
        except DomainError as error:
            create_form.add_error(error.field if error.field in create_form.fields else None, error.message)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/organisation.html",
        {"create_form": create_form, "join_form": join_form, "organisations": user.organisations.all()},
        status=status,
    )


@ready_required
@require_POST
def accreditation_apply(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = AccreditationApplyForm(request.POST, user=user, sessions=_open_sessions())
    if form.is_valid():
        try:
            services.accreditation_apply(user=user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Application sent. You will get an email when an admin decides."))
            return redirect("dashboard")
    return _render_dashboard(request, user, form, status=400)


@ready_required
@require_POST
def accreditation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    accreditation = get_object_or_404(Accreditation, pk=pk, user=acting_user(request))
    try:
        services.accreditation_withdraw(accreditation=accreditation, user=acting_user(request))
        messages.success(request, _("Application withdrawn."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("dashboard")


@admin_required
def review_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", AccreditationStatus.PENDING)
    accreditations = Accreditation.objects.select_related("user", "session", "organisation").filter(
        status=status
    )
    return render(
        request,
        "accounts/review_queue.html",
        {
            "accreditations": accreditations,
            "status": status,
            "statuses": AccreditationStatus.choices,
            "decision_form": DecisionForm(),
        },
    )


@admin_required
@require_POST
def review_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    accreditation = get_object_or_404(Accreditation, pk=pk)
    form = DecisionForm(request.POST)
    decisions: dict[str, Callable[..., Accreditation]] = {
        "approve": services.accreditation_approve,
        "reject": services.accreditation_reject,
        "revoke": services.accreditation_revoke,
    }
    decide = decisions.get(decision)
    if decide is None or not form.is_valid():
        messages.error(request, _("Unknown decision."))
        return redirect("review-queue")
    try:
        decide(accreditation=accreditation, admin=acting_user(request), reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Decision recorded; %(email)s has been emailed.") % {"email": accreditation.user.email}
        )
    return redirect("review-queue")
