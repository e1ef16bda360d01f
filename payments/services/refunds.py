"""Refunds of paid instalments: an admin's decision (disputes, Stripe's news, are in ``disputes``).

A refund is refused before any money moves when Stripe would refuse it: the charge was charged back
(a dispute that withdrew the funds; an inquiry leaves the charge refundable) or is refunded already.
Then the transfer to the producer company is reversed (so the platform is not out of pocket) and the
payer refunded in full, platform fee included; each step is committed and recorded as it happens, so a
refund that fails after the reversal leaves the reversal on the books, and retrying finishes the refund.

Admins act for the festival, not for a company: their entries name no organisation.
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
from audit.transitions import transition
from core.errors import Conflict, Forbidden, InvalidInput
from payments.gateway import call, gateway
from payments.models import INSTALMENT_MACHINE, Dispute, Instalment, InstalmentStatus, LedgerKind
from payments.services import ledger
from payments.services.schedules import instalment_entry


def _stripe_refusal(exc: stripe.StripeError) -> Conflict:
    return Conflict(
        _("Stripe refused the refund: %(reason)s") % {"reason": exc.user_message or str(exc)},
        code="stripe_refused",
    )


def _refusal_before_moving_money(client: stripe.StripeClient, instalment: Instalment) -> Conflict | None:
    """What Stripe would refuse, found before anything is reversed or refunded."""
    charged_back = _("This payment was charged back: the bank has taken the money, it cannot be refunded.")
    if any(
        not dispute.status.startswith("warning_") for dispute in Dispute.objects.filter(instalment=instalment)
    ):
        return Conflict(charged_back, code="charged_back")
    charge: Any = client.v1.charges.retrieve(instalment.charge_id)
    if charge.amount_refunded >= charge.amount:
        return Conflict(_("Stripe has refunded this payment already."), code="already_refunded")
    if charge.disputed:
        listed: Any = client.v1.disputes.list(params={"charge": charge.id, "limit": 100})
        if any(not dispute.is_charge_refundable for dispute in listed.auto_paging_iter()):
            return Conflict(charged_back, code="charged_back")
    return None


def instalment_refund(*, user: User, instalment: Instalment, reason: object) -> Instalment:
    if not is_festival_admin(user):
        raise Forbidden(_("Only festival admins refund a payment."), code="admins_only")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > 500:
        raise InvalidInput(_("Give the reason for the refund (up to 500 characters)."), field="reason")
    client = gateway()
    # Step 1: the reversal of the transfer, committed on its own
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PAID:
            raise Conflict(_("Only a paid instalment can be refunded."), code="not_paid")
        refusal = _refusal_before_moving_money(client, locked)
        if refusal is not None:
            raise refusal
        net = locked.amount_minor - locked.fee_minor
        if not locked.transfer_reversal_id:
            try:
                reversal: Any = call(
                    client.v1.transfers.reversals.create,
                    "instalment.transfer_reversal",
                    locked.pk,
                    locked.transfer_id,
                    on=locked.transfer_id,
                    params={"amount": net, "metadata": {"instalment_id": str(locked.pk)}},
                )
            except stripe.StripeError as exc:
                raise _stripe_refusal(exc) from None
            ledger.post(
                kind=LedgerKind.TRANSFER_REVERSAL,
                stripe_object_id=reversal.id,
                instalment=locked,
                legs=ledger.move(
                    debit=ledger.STRIPE_BALANCE, credit=ledger.due_to(instalment=locked), amount_minor=net
                ),
            )
            locked.transfer_reversal_id = reversal.id
            locked.save(update_fields=["transfer_reversal_id", "updated_at"])
            audit_record(
                action="transfer.reversed",
                actor=user,
                target=locked,
                data={"transfer": locked.transfer_id, "transfer_reversal": reversal.id, "amount_minor": net},
            )
    # Step 2: the refund to the payer; a refusal is recorded, the reversal stays
    try:
        with transaction.atomic():
            locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
            if locked.status != InstalmentStatus.PAID:
                raise Conflict(_("Only a paid instalment can be refunded."), code="not_paid")
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
            ledger.post_refunded(instalment=locked, refund_id=refund.id)
            return transition(
                locked,
                machine=INSTALMENT_MACHINE,
                to=InstalmentStatus.REFUNDED,
                actor=user,
                data=instalment_entry(
                    instalment=locked,
                    refund=refund.id,
                    transfer_reversal=locked.transfer_reversal_id,
                    reason=text,
                ),
                refund_id=refund.id,
                refunded_at=timezone.now(),
            ).row
    except stripe.StripeError as exc:
        with transaction.atomic():
            audit_record(
                action="refund.failed",
                actor=user,
                target=instalment,
                data=instalment_entry(
                    instalment=instalment,
                    reason=text,
                    stripe=(exc.user_message or str(exc))[:300],
                    code=exc.code,
                ),
            )
        raise _stripe_refusal(exc) from None
