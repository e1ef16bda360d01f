"""An agreement's payment pages: its schedule (pay, confirm a delivery, refund) and the receipts."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import ready_required
from accounts.models import User
from accounts.permissions import acting_user
from accounts.policy import is_festival_admin
from core.errors import NotFound
from offers.models import Agreement
from offers.selectors.agreements import agreements_visible_to
from payments import gateway
from payments.display import instalment_label
from payments.models import Instalment, InstalmentStatus
from payments.selectors import (
    agreement_terms,
    instalment_rows,
    ledger_rows,
    payable_instalment,
    payment_progress,
    schedule_instalments,
    schedule_ledger_entries,
    schedule_of,
)
from payments.services.checkout import instalment_pay
from payments.services.refunds import instalment_refund
from payments.services.schedules import instalment_confirm_delivery
from payments.views.common import SERVICE_FAILURES, absolute_url, allow_stripe_forms, refused

RECEIPTED = frozenset({InstalmentStatus.PAID, InstalmentStatus.REFUNDED})


def _agreement_or_404(user: User, public_id: uuid.UUID) -> Agreement:
    """The same 404 for an agreement that does not exist and for one the user is no party to."""
    agreement = agreements_visible_to(user=user).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404(_("No such agreement."))
    return agreement


def _instalment_or_404(user: User, pk: int) -> Instalment:
    try:
        return payable_instalment(user, pk)
    except NotFound as error:
        raise Http404(error.message) from None


def _schedule_url(instalment: Instalment) -> str:
    return reverse("payments:schedule", args=[instalment.schedule.agreement.public_id])


def _query_id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@ready_required
@require_GET
def schedule(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = acting_user(request)
    agreement = _agreement_or_404(user, public_id)
    payment_schedule = schedule_of(agreement)
    if payment_schedule is None:  # written without one: ``manage.py backfill_payment_schedules`` makes it
        raise Http404(_("No such agreement."))
    instalments = schedule_instalments(payment_schedule)
    by_id = {instalment.pk: instalment for instalment in instalments}
    paid_id, cancelled_id = _query_id(request, "paid"), _query_id(request, "cancelled")
    context = {
        "agreement": agreement,
        "schedule": payment_schedule,
        "rows": instalment_rows(instalments, agreement, user, paid_id),
        "progress": payment_progress(instalments),
        "ledger_rows": ledger_rows(schedule_ledger_entries(payment_schedule)),
        "configured": gateway.configured(),
        "is_admin": is_festival_admin(user),
        "returned_paid": by_id.get(paid_id) if paid_id else None,
        "returned_cancelled": by_id.get(cancelled_id) if cancelled_id else None,
        "socket": f"/ws/agreements/{agreement.public_id}/payments/",
    }
    return allow_stripe_forms(render(request, "payments/schedule.html", context))


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
            success_url=absolute_url(request, "payments:schedule", public_id, query=f"paid={instalment.pk}"),
            cancel_url=absolute_url(
                request, "payments:schedule", public_id, query=f"cancelled={instalment.pk}"
            ),
        )
    except SERVICE_FAILURES as error:
        return refused(request, error, _schedule_url(instalment))
    return redirect(url)


@ready_required
@require_POST
def confirm_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    instalment = _instalment_or_404(user, pk)
    try:
        done = instalment_confirm_delivery(user=user, instalment=instalment)
    except SERVICE_FAILURES as error:
        return refused(request, error, _schedule_url(instalment))
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
        return refused(request, error, _schedule_url(instalment))
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
