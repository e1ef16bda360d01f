"""Refunds (an admin's decision) and disputes (Stripe's news) on paid instalments.

A refund is refused before any money moves when Stripe would refuse it: the charge was charged back
(a dispute that withdrew the funds; an inquiry leaves the charge refundable) or is refunded already.
Then the transfer to the producer company is reversed (so the platform is not out of pocket) and the
payer refunded in full, platform fee included; each step is committed and recorded as it happens, so a
refund that fails after the reversal leaves the reversal on the books, and retrying finishes the refund.

A dispute (a chargeback, or an inquiry: ``warning_*`` statuses) is re-read from Stripe and kept as a
``Dispute``. Only real balance movements are posted: the funds Stripe withdrew (a balance transaction on
the dispute), their reinstatement when won, their loss when lost; an inquiry posts nothing. The
agreement is flagged while any of its disputes is open. A dispute whose charge is not known yet is first
tied to it by re-reading the charge and its PaymentIntent (settling the payment if its own events are
late); if even that cannot be done now it waits, and is resolved when the charge is recorded or when
reconciliation runs.
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
from payments.models import (
    DISPUTE_CLOSED,
    Dispute,
    Instalment,
    InstalmentStatus,
    LedgerKind,
    PaymentSchedule,
    StrayPayment,
)
from payments.schedules import instalment_transition
from payments.tasks import tell_admins_of_dispute


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
                legs=ledger.move(ledger.STRIPE_BALANCE, ledger.due_to(locked), net),
            )
            locked.transfer_reversal_id = reversal.id
            locked.save(update_fields=["transfer_reversal_id", "updated_at"])
            audit_record(
                action="payments.transfer_reversed",
                actor=user,
                organisation=locked.payee_organisation,
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
            due_to = ledger.due_to(locked)
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
                data={"refund": refund.id, "transfer_reversal": locked.transfer_reversal_id, "reason": text},
                refund_id=refund.id,
                refunded_at=timezone.now(),
            )
    except stripe.StripeError as exc:
        with transaction.atomic():
            audit_record(
                action="payments.refund_failed",
                actor=user,
                organisation=instalment.payee_organisation,
                target=instalment,
                data={"reason": text, "stripe": (exc.user_message or str(exc))[:300], "code": exc.code},
            )
        raise _stripe_refusal(exc) from None


def _instalment_of_charge(charge_id: str) -> Instalment | None:
    """The instalment whose money this charge is: its own payment, or one it was not waiting for."""
    found = Instalment.objects.filter(charge_id=charge_id).first()
    if found is not None:
        return found
    stray = StrayPayment.objects.filter(charge_id=charge_id).select_related("instalment").first()
    return stray.instalment if stray is not None else None


def _tie_to_its_payment(client: stripe.StripeClient, dispute: Any) -> Instalment | None:
    """A dispute on a charge we have not recorded: re-read the charge and its PaymentIntent from Stripe
    and, if it pays one of our instalments, settle that payment now (its own events are late)."""
    from payments.checkout import _instalment_for, payment_settle  # checkout resolves disputes too

    try:
        charge: Any = client.v1.charges.retrieve(str(dispute.charge))
    except stripe.InvalidRequestError:
        return None  # not readable yet: the dispute waits
    if not charge.payment_intent:
        return None
    intent: Any = client.v1.payment_intents.retrieve(str(charge.payment_intent))
    if _instalment_for(intent.metadata) is None:
        return None
    payment_settle(intent.id)
    return _instalment_of_charge(charge.id)


def dispute_update(dispute_id: str) -> str:
    """Re-read a dispute from Stripe and record what it means for its instalment and the ledger."""
    client = gateway()
    dispute: Any = client.v1.disputes.retrieve(dispute_id)
    charge_id = str(dispute.charge)
    instalment = _instalment_of_charge(charge_id) or _tie_to_its_payment(client, dispute)
    with transaction.atomic():
        row = Dispute.objects.select_for_update().filter(stripe_id=dispute.id).first()
        if row is None and instalment is None and not _ours_maybe(client, charge_id):
            return "ignored: the disputed charge is not one of ours"
        new = row is None
        if row is None:
            row = Dispute(stripe_id=dispute.id, charge_id=charge_id)
        before = (row.status, row.instalment_id)
        row.amount_minor, row.currency = int(dispute.amount), str(dispute.currency).upper()
        row.status, row.reason = str(dispute.status)[:32], str(dispute.reason or "")[:64]
        if instalment is None:
            row.save()
            if new or before[0] != row.status:
                audit_record(
                    action="payments.dispute_pending",
                    actor=None,
                    organisation=None,
                    target=row,
                    data={"dispute": dispute.id, "charge": charge_id, "status": row.status},
                )
            return "processed: dispute recorded, its charge is not known yet"
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        schedule = PaymentSchedule.objects.select_for_update().get(pk=locked.schedule_id)
        row.instalment = locked
        row.save()
        moved = _post_balance_movements(dispute, row, locked)
        if before == (row.status, row.instalment_id) and not moved:
            return "ignored: nothing new"
        locked.dispute_id, locked.dispute_status = dispute.id, row.status
        locked.save(update_fields=["dispute_id", "dispute_status", "updated_at"])
        schedule.disputed = (
            Dispute.objects.filter(instalment__schedule=schedule).exclude(status__in=DISPUTE_CLOSED).exists()
        )
        schedule.save(update_fields=["disputed"])
        opened = before[1] is None
        audit_record(
            action="payments.dispute_opened" if opened else "payments.dispute_updated",
            actor=None,
            organisation=locked.payee_organisation,
            target=locked,
            data={
                "dispute": dispute.id,
                "status": row.status,
                "reason": row.reason,
                "amount_minor": row.amount_minor,
                "posted": moved,
                "agreement": str(schedule.agreement.public_id),
            },
        )
        if opened:
            transaction.on_commit(lambda: tell_admins_of_dispute.delay(locked.pk))
    return f"processed: dispute {row.status}"


def _ours_maybe(client: stripe.StripeClient, charge_id: str) -> bool:
    """Whether a charge we cannot tie to an instalment may still be ours (it cannot be read yet, or it
    carries one of our transfer groups): such a dispute waits rather than being dropped."""
    try:
        charge: Any = client.v1.charges.retrieve(charge_id)
    except stripe.InvalidRequestError:
        return True
    group = str(charge.transfer_group or "")
    return PaymentSchedule.objects.filter(transfer_group=group).exists() if group else False


def withdrawn_and_reinstated(dispute: Any) -> tuple[bool, bool]:
    """Whether Stripe took the disputed funds from the balance, and gave them back: the dispute's own
    balance transactions say so (an inquiry has none)."""
    amounts = [int(bt.amount) for bt in (dispute.balance_transactions or []) if not isinstance(bt, str)]
    return any(a < 0 for a in amounts), any(a > 0 for a in amounts)


def _post_balance_movements(dispute: Any, row: Dispute, instalment: Instalment) -> list[str]:
    """Post what moved (once per dispute and kind): the withdrawal, the reinstatement, the loss."""
    withdrawn, reinstated = withdrawn_and_reinstated(dispute)
    amount, currency = row.amount_minor, row.currency
    held, balance, losses = ledger.DISPUTED_FUNDS, ledger.STRIPE_BALANCE, ledger.DISPUTE_LOSSES
    moves: list[tuple[LedgerKind, list[ledger.Leg]]] = []
    if withdrawn:
        moves.append((LedgerKind.DISPUTE, ledger.move(held, balance, amount)))
    if withdrawn and reinstated:
        moves.append((LedgerKind.DISPUTE_WON, ledger.move(balance, held, amount)))
    if withdrawn and not reinstated and row.status == "lost":
        moves.append((LedgerKind.DISPUTE_LOST, ledger.move(losses, held, amount)))
    posted = []
    for kind, legs in moves:
        if ledger.post(
            kind=kind, stripe_object_id=row.stripe_id, instalment=instalment, legs=legs, currency=currency
        ):
            posted.append(str(kind))
    return posted
