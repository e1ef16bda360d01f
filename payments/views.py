"""Payment pages: an agreement's schedule (pay, confirm a delivery, refund), receipts, Stripe Connect
onboarding of production companies, the admins' payments desk, and Stripe's webhook endpoint.

Views parse, authorise, call one service of ``payments.*`` and render. A service's refusal becomes a
message and a redirect back (or, for a client that asks for JSON, the refusal's status and reason);
Stripe unconfigured or unreachable is said on the page, never a 500. What a person may not know about
(an agreement or instalment they are no party to, another company) is a 404.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import stripe
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import admin_required, ready_required
from accounts.models import CompanyType, Organisation, User
from accounts.permissions import acting_user
from accounts.policy import is_festival_admin
from core.errors import DomainError, NotFound
from core.middleware import raw_body_allowed
from offers.agreement_selectors import agreements_visible_to
from offers.models import Agreement
from offers.terms.render import format_percent
from payments import gateway, ledger
from payments.checkout import instalment_pay, payable_instalment, stray_payment_refund
from payments.connect import connect_onboarding_link, connect_refresh
from payments.display import instalment_label, money_text
from payments.fees import current_fee_bp, platform_fee_set
from payments.models import (
    ConnectedAccount,
    Dispute,
    Instalment,
    InstalmentStatus,
    LedgerEntry,
    PaymentSchedule,
    PlatformFee,
    StrayPayment,
    WebhookEvent,
)
from payments.reconcile import reconcile as reconcile_with_stripe
from payments.refunds import instalment_refund
from payments.schedules import agreement_terms, instalment_confirm_delivery
from payments.selectors import (
    account_labels,
    instalment_rows,
    ledger_rows,
    payment_progress,
    schedule_of,
    schedule_summaries,
)
from payments.webhooks import receive_webhook

log = logging.getLogger(__name__)

NOT_CONFIGURED = gettext_lazy("Payments are not configured on this server.")
STRIPE_FAILED = gettext_lazy("Stripe could not complete the request. Try again in a moment.")
SERVICE_FAILURES = (DomainError, gateway.PaymentsNotConfigured, stripe.StripeError)
RECEIPTED = frozenset({InstalmentStatus.PAID, InstalmentStatus.REFUNDED})
# Where our pay and onboarding forms send the browser (by redirect): CSP's form-action must allow them.
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://connect.stripe.com")
RECONCILE_SESSION_KEY = "payments_reconcile_report"


# --- answers shared by the views -------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(request: HttpRequest, error: Exception, back: str) -> HttpResponse:
    """A service's refusal (or Stripe's absence or failure) as a message on the page it came from; the
    refusal's own status and reason for clients that ask for JSON. Nothing was changed."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, DomainError):
        message, status, code = error.message, error.status_code, error.code
    elif isinstance(error, gateway.PaymentsNotConfigured):
        message, status, code = str(NOT_CONFIGURED), 503, "payments_not_configured"
    else:
        log.warning("Stripe call failed for %s: %s", request.path, error)
        message, status, code = str(STRIPE_FAILED), 502, "stripe_failed"
    if _wants_json(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    messages.error(request, message)
    return redirect(back)


def _allow_stripe_forms(response: HttpResponse) -> HttpResponse:
    """Let this page's forms redirect to Stripe's Checkout and Connect (``SecurityHeadersMiddleware``)."""
    targets = list(STRIPE_FORM_TARGETS)
    if settings.STRIPE_API_BASE:  # a Stripe-shaped test server, whose pages stand in for Stripe's
        parts = urlsplit(settings.STRIPE_API_BASE)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    response.csp_form_action = targets  # type: ignore[attr-defined]
    return response


def _absolute(request: HttpRequest, name: str, *args: Any, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name, args=args) + (f"?{query}" if query else ""))


def _agreement_or_404(user: User, public_id: uuid.UUID) -> Agreement:
    """The same 404 for an agreement that does not exist and for one the user is no party to."""
    agreement = agreements_visible_to(user).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404(_("No such agreement."))
    return agreement


def _instalment_or_404(user: User, pk: int) -> Instalment:
    try:
        return payable_instalment(user, pk)
    except NotFound as error:
        raise Http404(error.message) from None


def _schedule_url(instalment: Instalment) -> str:
    return reverse("payments-schedule", args=[instalment.schedule.agreement.public_id])


# --- the schedule of an agreement ------------------------------------------------------------------------


def _query_id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@ready_required
@require_GET
def schedule(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    agreement = _agreement_or_404(user, public_id)
    payment_schedule = schedule_of(agreement)
    instalments = list(
        payment_schedule.instalments.select_related("payer_organisation", "payee_organisation").order_by(
            "number"
        )
    )
    by_id = {instalment.pk: instalment for instalment in instalments}
    paid_id, cancelled_id = _query_id(request, "paid"), _query_id(request, "cancelled")
    entries = (
        LedgerEntry.objects.filter(transaction__instalment__schedule=payment_schedule)
        .select_related("transaction", "transaction__instalment")
        .order_by("transaction__created_at", "transaction_id", "pk")
    )
    context = {
        "agreement": agreement,
        "schedule": payment_schedule,
        "rows": instalment_rows(instalments, agreement, user, paid_id),
        "progress": payment_progress(instalments),
        "ledger_rows": ledger_rows(entries),
        "configured": gateway.configured(),
        "is_admin": is_festival_admin(user),
        "returned_paid": by_id.get(paid_id) if paid_id else None,
        "returned_cancelled": by_id.get(cancelled_id) if cancelled_id else None,
        "socket": f"/ws/agreements/{agreement.public_id}/payments/",
    }
    return _allow_stripe_forms(render(request, "payments/schedule.html", context))


@ready_required
@require_POST
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a Stripe Checkout for the instalment and send the payer there."""
    user = acting_user(request)
    instalment = _instalment_or_404(user, pk)
    public_id = instalment.schedule.agreement.public_id
    try:
        url = instalment_pay(
            user=user,
            instalment=instalment,
            success_url=_absolute(request, "payments-schedule", public_id, query=f"paid={instalment.pk}"),
            cancel_url=_absolute(request, "payments-schedule", public_id, query=f"cancelled={instalment.pk}"),
        )
    except SERVICE_FAILURES as error:
        return _refused(request, error, _schedule_url(instalment))
    return redirect(url)


@ready_required
@require_POST
def confirm_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    instalment = _instalment_or_404(user, pk)
    try:
        done = instalment_confirm_delivery(user=user, instalment=instalment)
    except SERVICE_FAILURES as error:
        return _refused(request, error, _schedule_url(instalment))
    if done.status == InstalmentStatus.DUE:
        messages.success(request, _("Delivery confirmed: the payment is now due."))
    else:
        messages.success(request, _("Delivery confirmed."))
    return redirect(_schedule_url(instalment))


@ready_required
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin's refund of a paid instalment, with the reason given in the form."""
    user = acting_user(request)
    instalment = _instalment_or_404(user, pk)
    try:
        instalment_refund(user=user, instalment=instalment, reason=request.POST.get("reason", ""))
    except SERVICE_FAILURES as error:
        return _refused(request, error, _schedule_url(instalment))
    messages.success(request, _("Refunded: the payer gets the full amount back."))
    return redirect(_schedule_url(instalment))


@ready_required
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable receipt of a paid (or since refunded) instalment, for its parties and admins."""
    instalment = _instalment_or_404(acting_user(request), pk)
    if instalment.status not in RECEIPTED:
        raise Http404(_("This instalment has not been paid: there is no receipt."))
    agreement = instalment.schedule.agreement
    context = {
        "instalment": instalment,
        "agreement": agreement,
        "label": instalment_label(instalment, agreement_terms(agreement)),
        "net_minor": instalment.amount_minor - instalment.fee_minor,
    }
    return render(request, "payments/receipt.html", context)


# --- Stripe's webhook ------------------------------------------------------------------------------------


@csrf_exempt
@raw_body_allowed
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe's deliveries: no session, no CSRF token; the signature of the raw body is the credential.
    The body reaches ``receive_webhook`` untouched (``raw_body_allowed``): it is stored byte for byte
    and judged there, after its signature holds."""
    try:
        reply = receive_webhook(request.body, request.headers.get("Stripe-Signature"))
    except gateway.PaymentsNotConfigured:
        return JsonResponse({"detail": "payments are not configured"}, status=503)
    return JsonResponse({"detail": reply.detail}, status=reply.status)


# --- Stripe Connect for production companies ------------------------------------------------------------


def _own_company_or_404(user: User, org_id: int) -> Organisation:
    organisation = Organisation.objects.filter(pk=org_id, memberships__user=user).first()
    if organisation is None:
        raise Http404(_("No such organisation."))
    return organisation


def _onboarding_link(request: HttpRequest, user: User, organisation: Organisation) -> str:
    return connect_onboarding_link(
        user=user,
        organisation=organisation,
        return_url=_absolute(request, "payments-connect-return", organisation.pk),
        refresh_url=_absolute(request, "payments-connect-refresh", organisation.pk),
    )


@ready_required
@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """The user's production companies and where each stands with Stripe."""
    user = acting_user(request)
    organisations = list(user.organisations.order_by("name"))
    accounts = {
        account.organisation_id: account
        for account in ConnectedAccount.objects.filter(organisation__in=[o.pk for o in organisations])
    }
    companies = [
        {"organisation": org, "account": accounts.get(org.pk)}
        for org in organisations
        if org.company_type == CompanyType.PRODUCTION
    ]
    context = {
        "companies": companies,
        "other_organisations": [org for org in organisations if org.company_type != CompanyType.PRODUCTION],
        "configured": gateway.configured(),
    }
    return _allow_stripe_forms(render(request, "payments/connect.html", context))


@ready_required
@require_POST
def connect_start(request: HttpRequest, org_id: int) -> HttpResponse:
    user = acting_user(request)
    organisation = _own_company_or_404(user, org_id)
    try:
        url = _onboarding_link(request, user, organisation)
    except SERVICE_FAILURES as error:
        return _refused(request, error, reverse("payments-connect"))
    return redirect(url)


@ready_required
@require_GET
def connect_return(request: HttpRequest, org_id: int) -> HttpResponse:
    """Where Stripe sends the user back after onboarding: re-read the account and say where it stands."""
    user = acting_user(request)
    organisation = _own_company_or_404(user, org_id)
    account = ConnectedAccount.objects.filter(organisation=organisation).first()
    if account is None:
        messages.info(request, _("%(name)s is not connected to Stripe yet.") % {"name": organisation.name})
        return redirect("payments-connect")
    try:
        account = connect_refresh(account=account, actor=user)
    except SERVICE_FAILURES as error:
        return _refused(request, error, reverse("payments-connect"))
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
    return redirect("payments-connect")


@ready_required
@require_GET
def connect_refresh_link(request: HttpRequest, org_id: int) -> HttpResponse:
    """Where Stripe sends the user when an onboarding link expired: a fresh link, straight away."""
    user = acting_user(request)
    organisation = _own_company_or_404(user, org_id)
    try:
        url = _onboarding_link(request, user, organisation)
    except SERVICE_FAILURES as error:
        return _refused(request, error, reverse("payments-connect"))
    return redirect(url)


# --- the admins' payments desk --------------------------------------------------------------------------


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


def _render_staff(request: HttpRequest, form: PlatformFeeForm, status: int = 200) -> HttpResponse:
    schedules = list(
        PaymentSchedule.objects.select_related(
            "agreement__film", "agreement__offeror_organisation", "agreement__producer_organisation"
        ).order_by("-created_at")[:200]
    )
    summaries = schedule_summaries(schedules)
    balances = ledger.balances()
    labels = account_labels(balances)
    totals = ledger.totals_by_currency()
    context = {
        "form": form,
        "fee_text": format_percent(current_fee_bp()),
        "fees": [
            (fee, format_percent(fee.fee_bp)) for fee in PlatformFee.objects.select_related("set_by")[:20]
        ],
        "accounts": ConnectedAccount.objects.select_related("organisation").order_by("organisation__name"),
        "disputed": PaymentSchedule.objects.filter(disputed=True).select_related("agreement__film"),
        "schedules": [{"schedule": s, "summary": summaries.get(s.pk, "")} for s in schedules],
        "balances": [
            {
                "account": labels[account],
                "amounts": [money_text(amount, currency) for currency, amount in sorted(by_currency.items())],
            }
            for account, by_currency in sorted(balances.items())
        ],
        "totals": [(currency, money_text(total, currency)) for currency, total in totals.items()],
        "ledger_balanced": all(total == 0 for total in totals.values()),
        "unbalanced": ledger.unbalanced_transactions(),
        "events": WebhookEvent.objects.defer("body", "payload")[:50],
        "strays": StrayPayment.objects.select_related("instalment__schedule__agreement__film")[:50],
        "waiting_disputes": Dispute.objects.filter(instalment__isnull=True)[:50],
        "configured": gateway.configured(),
        "report": request.session.pop(RECONCILE_SESSION_KEY, None),
    }
    return render(request, "payments/staff.html", context, status=status)


@admin_required
@require_GET
def staff(request: HttpRequest) -> HttpResponse:
    initial = {"percent": Decimal(current_fee_bp()) / 100}
    return _render_staff(request, PlatformFeeForm(initial=initial))


@admin_required
@require_POST
def fee_set(request: HttpRequest) -> HttpResponse:
    form = PlatformFeeForm(request.POST)
    if form.is_valid():
        try:
            fee = platform_fee_set(user=acting_user(request), fee_bp=form.basis_points())
        except DomainError as error:
            form.add_error("percent", error.message)
        else:
            messages.success(
                request, _("The platform fee is now %(fee)s.") % {"fee": format_percent(fee.fee_bp)}
            )
            return redirect("payments-staff")
    return _render_staff(request, form, status=400)


@admin_required
@require_POST
def stray_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin refunds a payment not due that was held because Stripe refused its automatic refund."""
    stray = StrayPayment.objects.filter(pk=pk).first()
    if stray is None:
        raise Http404(_("No such payment."))
    try:
        stray_payment_refund(user=acting_user(request), stray=stray)
    except SERVICE_FAILURES as error:
        return _refused(request, error, reverse("payments-staff"))
    messages.success(request, _("Refunded: the payer gets the payment back."))
    return redirect("payments-staff")


@admin_required
@require_POST
def reconcile(request: HttpRequest) -> HttpResponse:
    """Compare our records with Stripe's; the report is shown once, on the desk it redirects to."""
    if not gateway.configured():
        messages.error(request, str(NOT_CONFIGURED))
        return redirect("payments-staff")
    try:
        report = reconcile_with_stripe()
    except (gateway.PaymentsNotConfigured, stripe.StripeError) as error:
        return _refused(request, error, reverse("payments-staff"))
    request.session[RECONCILE_SESSION_KEY] = {
        "ok": bool(report.ok),
        "checked": int(report.checked),
        "problems": [str(problem) for problem in report.problems],
        "disputes": [
            {key: str(value) if key != "recorded" else bool(value) for key, value in dispute.items()}
            for dispute in report.disputes
        ],
        "at": timezone.now().isoformat(),
    }
    return redirect("payments-staff")
