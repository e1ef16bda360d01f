"""Refunds (an admin's decision) and disputes (Stripe's news) on paid instalments.

A refund reverses the transfer to the producer company first (so the platform is not out of pocket),
then refunds the payer in full, platform fee included. A dispute flags the agreement for admins and
posts the funds Stripe withdrew; its close posts them back (won) or as a loss (lost).
"""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import is_festival_admin
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput
from payments import ledger
from payments.gateway import call, gateway
from payments.models import Instalment, InstalmentStatus, LedgerKind, PaymentSchedule
from payments.schedules import instalment_transition
from payments.tasks import tell_admins_of_dispute


def instalment_refund(*, user: User, instalment: Instalment, reason: object) -> Instalment:
    if not is_festival_admin(user):
        raise Forbidden(_("Only festival admins refund a payment."), code="admins_only")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > 500:
        raise InvalidInput(_("Give the reason for the refund (up to 500 characters)."), field="reason")
    client = gateway()
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PAID:
            raise Conflict(_("Only a paid instalment can be refunded."), code="not_paid")
        net = locked.amount_minor - locked.fee_minor
        try:
            reversal: Any = call(
                client.v1.transfers.reversals.create,
                "instalment.transfer_reversal",
                locked.pk,
                locked.transfer_id,
                on=locked.transfer_id,
                params={"amount": net, "metadata": {"instalment_id": str(locked.pk)}},
            )
            refund: Any = call(
                client.v1.refunds.create,
                "instalment.refund",
                locked.pk,
                locked.payment_intent_id,
                params={
                    "payment_intent": locked.payment_intent_id,
                    "reason": "requested_by_customer",
                    "metadata": {"instalment_id": str(locked.pk)},
                },
            )
        except stripe.StripeError as exc:
            raise Conflict(
                _("Stripe refused the refund: %(reason)s") % {"reason": exc.user_message or str(exc)},
                code="stripe_refused",
            ) from None
        due_to = ledger.due_to(locked)
        ledger.post(
            kind=LedgerKind.TRANSFER_REVERSAL,
            stripe_object_id=reversal.id,
            instalment=locked,
            legs=ledger.move(ledger.STRIPE_BALANCE, due_to, net),
        )
        ledger.post(
            kind=LedgerKind.FEE_REFUND,
            stripe_object_id=refund.id,
            instalment=locked,
            legs=ledger.move(ledger.PLATFORM_FEES, due_to, locked.fee_minor),
        )
        ledger.post(
            kind=LedgerKind.REFUND,
            stripe_object_id=refund.id,
            instalment=locked,
            legs=ledger.move(due_to, ledger.STRIPE_BALANCE, locked.amount_minor),
        )
        return instalment_transition(
            locked,
            InstalmentStatus.REFUNDED,
            actor=user,
            action="payments.instalment_refunded",
            data={"refund": refund.id, "transfer_reversal": reversal.id, "reason": text},
            refund_id=refund.id,
            transfer_reversal_id=reversal.id,
            refunded_at=timezone.now(),
        )


def dispute_update(dispute_id: str) -> str:
    """Re-read a dispute from Stripe and record what it means for its instalment and the ledger."""
    dispute: Any = gateway().v1.disputes.retrieve(dispute_id)
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().filter(charge_id=dispute.charge).first()
        if locked is None:
            return "ignored: the disputed charge is not one of ours"
        schedule = PaymentSchedule.objects.select_for_update().get(pk=locked.schedule_id)
        opened = ledger.post(
            kind=LedgerKind.DISPUTE,
            stripe_object_id=dispute.id,
            instalment=locked,
            legs=ledger.move(ledger.DISPUTED_FUNDS, ledger.STRIPE_BALANCE, dispute.amount),
        )
        closed = None
        if dispute.status == "won":
            closed = ledger.post(
                kind=LedgerKind.DISPUTE_WON,
                stripe_object_id=dispute.id,
                instalment=locked,
                legs=ledger.move(ledger.STRIPE_BALANCE, ledger.DISPUTED_FUNDS, dispute.amount),
            )
        elif dispute.status == "lost":
            closed = ledger.post(
                kind=LedgerKind.DISPUTE_LOST,
                stripe_object_id=dispute.id,
                instalment=locked,
                legs=ledger.move(ledger.DISPUTE_LOSSES, ledger.DISPUTED_FUNDS, dispute.amount),
            )
        still_open = dispute.status not in ("won", "lost")
        if locked.dispute_status == dispute.status and opened is None and closed is None:
            return "ignored: nothing new"
        locked.dispute_id, locked.dispute_status = dispute.id, dispute.status
        locked.save(update_fields=["dispute_id", "dispute_status", "updated_at"])
        schedule.disputed = still_open
        schedule.save(update_fields=["disputed"])
        audit_record(
            action="payments.dispute_opened" if opened else "payments.dispute_updated",
            actor=None,
            organisation=locked.payee_organisation,
            target=locked,
            data={
                "dispute": dispute.id,
                "status": dispute.status,
                "reason": dispute.reason,
                "amount_minor": dispute.amount,
                "agreement": str(schedule.agreement.public_id),
            },
        )
        if opened is not None:
            transaction.on_commit(lambda: tell_admins_of_dispute.delay(locked.pk))
    return f"processed: dispute {dispute.status}"
