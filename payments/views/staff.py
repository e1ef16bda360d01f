"""The admins' payments desk: the platform fee, connected accounts, schedules, the ledger, Stripe's
events, payments not due and reconciliation with Stripe."""

from __future__ import annotations

from decimal import Decimal

import stripe
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import admin_required
from accounts.permissions import acting_user
from core.errors import DomainError
from offers.terms.common import format_percent
from payments import gateway
from payments.forms import PlatformFeeForm
from payments.selectors import current_fee_bp, staff_desk, stray_payment
from payments.services.checkout import stray_payment_refund
from payments.services.fees import platform_fee_set
from payments.services.reconcile import reconcile as reconcile_with_stripe
from payments.views.common import NOT_CONFIGURED, SERVICE_FAILURES, refused

RECONCILE_SESSION_KEY = "payments_reconcile_report"


def _render_staff(request: HttpRequest, form: PlatformFeeForm, status: int = 200) -> HttpResponse:
    desk = staff_desk()
    context = {
        **desk,
        "form": form,
        "fee_text": format_percent(desk["fee_bp"]),
        "fees": [(fee, format_percent(fee.fee_bp)) for fee in desk["fees"]],
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
            return redirect("payments:staff")
    return _render_staff(request, form, status=400)


@admin_required
@require_POST
def stray_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin refunds a payment not due that was held because Stripe refused its automatic refund."""
    stray = stray_payment(pk)
    if stray is None:
        raise Http404(_("No such payment."))
    try:
        stray_payment_refund(user=acting_user(request), stray=stray)
    except SERVICE_FAILURES as error:
        return refused(request, error, reverse("payments:staff"))
    messages.success(request, _("Refunded: the payer gets the payment back."))
    return redirect("payments:staff")


@admin_required
@require_POST
def reconcile(request: HttpRequest) -> HttpResponse:
    """Compare our records with Stripe's; the report is shown once, on the desk it redirects to."""
    if not gateway.configured():
        messages.error(request, str(NOT_CONFIGURED))
        return redirect("payments:staff")
    try:
        report = reconcile_with_stripe()
    except (gateway.PaymentsNotConfigured, stripe.StripeError) as error:
        return refused(request, error, reverse("payments:staff"))
    request.session[RECONCILE_SESSION_KEY] = {
        "ok": bool(report.ok),
        "checked": int(report.checked),
        "problems": [str(problem) for problem in report.problems],
        "disputes": [
            {
                **{key: str(value) for key, value in dispute.items()},
                "recorded": bool(dispute["recorded"]),
                "amount": int(dispute["amount"]),  # in minor units, written by the page's money tag
            }
            for dispute in report.disputes
        ],
        "at": timezone.now().isoformat(),
    }
    return redirect("payments:staff")
