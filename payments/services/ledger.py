"""The double-entry ledger: every movement of money (charge, platform fee, transfer, refund, dispute) as
balanced entries per currency, posted once per Stripe object.

Accounts, with debits positive and credits negative:

- ``stripe_balance``: the platform's balance at Stripe (an asset);
- ``due_to:<organisation id>``: what the platform holds for a producer company until it is transferred;
- ``platform_fees``: the platform's fee revenue;
- ``owed_to:<organisation id>``: money a payer paid that was not due (an instalment paid twice), until
  it is refunded;
- ``disputed_funds`` and ``dispute_losses``: money Stripe withdrew for a dispute, and what was lost.

A paid instalment of 100 with a fee of 5 posts: charge (stripe_balance +100, due_to -100), fee
(due_to +5, platform_fees -5), transfer (due_to +95, stripe_balance -95). The transfer empties due_to.

The ledger's reads (balances, totals, unbalanced movements) are in ``payments.selectors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from payments.models import Instalment, LedgerEntry, LedgerKind, LedgerTransaction

STRIPE_BALANCE = "stripe_balance"
PLATFORM_FEES = "platform_fees"
DISPUTED_FUNDS = "disputed_funds"
DISPUTE_LOSSES = "dispute_losses"


def due_to(*, instalment: Instalment) -> str:
    return f"due_to:{instalment.payee_organisation_id}"


def owed_to(*, instalment: Instalment) -> str:
    """Money the payer's company paid that was not due (a second payment): owed back until refunded."""
    return f"owed_to:{instalment.payer_organisation_id}"


class LedgerUnbalanced(Exception):
    """A movement whose entries do not sum to zero in each currency: a bug, never posted."""


@dataclass(frozen=True)
class Leg:
    account: str
    amount_minor: int  # debit positive, credit negative


def post(
    *,
    kind: LedgerKind,
    stripe_object_id: str,
    instalment: Instalment,
    legs: Iterable[Leg],
    currency: str | None = None,
) -> LedgerTransaction | None:
    """Post one balanced movement in the instalment's currency (or ``currency``: money that came in
    another); None when this Stripe object was posted under this kind already (a webhook delivered
    twice, a retried call)."""
    legs = [leg for leg in legs if leg.amount_minor != 0]
    if sum(leg.amount_minor for leg in legs) != 0:
        raise LedgerUnbalanced(f"{kind} {stripe_object_id}: {legs}")
    if not legs:
        return None
    try:
        with transaction.atomic():
            movement = LedgerTransaction.objects.create(
                kind=kind, stripe_object_id=stripe_object_id, instalment=instalment
            )
    except IntegrityError:
        return None
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            transaction=movement,
            account=leg.account,
            amount_minor=leg.amount_minor,
            currency=currency or instalment.currency,
        )
        for leg in legs
    )
    return movement


def move(*, debit: str, credit: str, amount_minor: int) -> list[Leg]:
    return [Leg(debit, amount_minor), Leg(credit, -amount_minor)]


def post_paid(*, instalment: Instalment, charge_id: str, transfer_id: str) -> None:
    """A paid instalment: its charge held for the payee, the platform's fee, the rest transferred."""
    payee, net = due_to(instalment=instalment), instalment.amount_minor - instalment.fee_minor
    for kind, object_id, legs in (
        (
            LedgerKind.CHARGE,
            charge_id,
            move(debit=STRIPE_BALANCE, credit=payee, amount_minor=instalment.amount_minor),
        ),
        (
            LedgerKind.PLATFORM_FEE,
            charge_id,
            move(debit=payee, credit=PLATFORM_FEES, amount_minor=instalment.fee_minor),
        ),
        (LedgerKind.TRANSFER, transfer_id, move(debit=payee, credit=STRIPE_BALANCE, amount_minor=net)),
    ):
        post(kind=kind, stripe_object_id=object_id, instalment=instalment, legs=legs)


def post_refunded(*, instalment: Instalment, refund_id: str) -> None:
    """A refunded instalment (its transfer reversed first): the fee given back, the whole amount repaid."""
    payee = due_to(instalment=instalment)
    post(
        kind=LedgerKind.FEE_REFUND,
        stripe_object_id=refund_id,
        instalment=instalment,
        legs=move(debit=PLATFORM_FEES, credit=payee, amount_minor=instalment.fee_minor),
    )
    post(
        kind=LedgerKind.REFUND,
        stripe_object_id=refund_id,
        instalment=instalment,
        legs=move(debit=payee, credit=STRIPE_BALANCE, amount_minor=instalment.amount_minor),
    )
