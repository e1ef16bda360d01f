"""Disputes on paid instalments: Stripe's news, re-read and recorded.

A dispute (a chargeback, or an inquiry: ``warning_*`` statuses) is re-read from Stripe and kept as a
``Dispute``. Only real balance movements are posted: the funds Stripe withdrew (a balance transaction on
the dispute), their reinstatement when won, their loss when lost; an inquiry posts nothing. The
agreement is flagged while any of its disputes is open. A dispute whose charge is not known yet is first
tied to it by re-reading the charge and its PaymentIntent (settling the payment if its own events are
late); if even that cannot be done now it waits, and is resolved when the charge is recorded or when
reconciliation runs.

The system records these (no actor); an entry names the payee's company, whose money is disputed, or no
organisation while the disputed charge is not known.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction

from audit.services import audit_record
from payments.gateway import gateway
from payments.models import DISPUTE_CLOSED, Dispute, Instalment, LedgerKind, PaymentSchedule
from payments.selectors import instalment_for_metadata, instalment_of_charge
from payments.services import ledger
from payments.services.checkout import payment_settle
from payments.services.schedules import instalment_entry
from payments.tasks import tell_admins_of_dispute


def _tie_to_its_payment(client: stripe.StripeClient, dispute: Any) -> Instalment | None:
    """A dispute on a charge we have not recorded: re-read the charge and its PaymentIntent from Stripe
    and, if it pays one of our instalments, settle that payment now (its own events are late)."""
    try:
        charge: Any = client.v1.charges.retrieve(str(dispute.charge))
    except stripe.InvalidRequestError:
        return None  # not readable yet: the dispute waits
    if not charge.payment_intent:
        return None
    intent: Any = client.v1.payment_intents.retrieve(str(charge.payment_intent))
    if instalment_for_metadata(intent.metadata) is None:
        return None
    payment_settle(payment_intent_id=intent.id)
    return instalment_of_charge(charge.id)


def dispute_update(*, dispute_id: str) -> str:
    """Re-read a dispute from Stripe and record what it means for its instalment and the ledger."""
    client = gateway()
    dispute: Any = client.v1.disputes.retrieve(dispute_id)
    charge_id = str(dispute.charge)
    instalment = instalment_of_charge(charge_id) or _tie_to_its_payment(client, dispute)
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
                    action="dispute.pending",
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
            action="dispute.opened" if opened else "dispute.updated",
            actor=None,
            organisation=locked.payee_organisation,
            target=locked,
            data=instalment_entry(
                instalment=locked,
                dispute=dispute.id,
                status=row.status,
                reason=row.reason,
                amount_minor=row.amount_minor,
                posted=moved,
            ),
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


def withdrawn_and_reinstated(*, dispute: Any) -> tuple[bool, bool]:
    """Whether Stripe took the disputed funds from the balance, and gave them back: the dispute's own
    balance transactions say so (an inquiry has none)."""
    amounts = [int(bt.amount) for bt in (dispute.balance_transactions or []) if not isinstance(bt, str)]
    return any(a < 0 for a in amounts), any(a > 0 for a in amounts)


def _post_balance_movements(dispute: Any, row: Dispute, instalment: Instalment) -> list[str]:
    """Post what moved (once per dispute and kind): the withdrawal, the reinstatement, the loss."""
    withdrawn, reinstated = withdrawn_and_reinstated(dispute=dispute)
    amount, currency = row.amount_minor, row.currency
    held, balance, losses = ledger.DISPUTED_FUNDS, ledger.STRIPE_BALANCE, ledger.DISPUTE_LOSSES
    moves: list[tuple[LedgerKind, list[ledger.Leg]]] = []
    if withdrawn:
        moves.append((LedgerKind.DISPUTE, ledger.move(debit=held, credit=balance, amount_minor=amount)))
    if withdrawn and reinstated:
        moves.append((LedgerKind.DISPUTE_WON, ledger.move(debit=balance, credit=held, amount_minor=amount)))
    if withdrawn and not reinstated and row.status == "lost":
        moves.append((LedgerKind.DISPUTE_LOST, ledger.move(debit=losses, credit=held, amount_minor=amount)))
    posted = []
    for kind, legs in moves:
        if ledger.post(
            kind=kind, stripe_object_id=row.stripe_id, instalment=instalment, legs=legs, currency=currency
        ):
            posted.append(str(kind))
    return posted
