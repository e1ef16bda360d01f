"""Reconciliation: the ledger against itself (every movement balances) and against Stripe's objects (each
charge, transfer, reversal, refund and dispute says what the ledger says, and every transfer Stripe has
in a deal's transfer group is in the ledger). Run by ``manage.py reconcile_payments`` and the staff page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.db.models import Q
from django.utils.translation import gettext as _

from payments import ledger
from payments.gateway import gateway
from payments.models import ConnectedAccount, Instalment, LedgerEntry, LedgerKind, PaymentSchedule


@dataclass
class Report:
    checked: int = 0  # Stripe objects compared
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _posted() -> dict[tuple[str, str], int]:
    """(kind, Stripe object id) -> the amount the movement moved (its debits)."""
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    rows = LedgerEntry.objects.filter(amount_minor__gt=0).values_list(
        "transaction__kind", "transaction__stripe_object_id", "amount_minor"
    )
    for kind, object_id, amount in rows:
        amounts[(kind, object_id)] += amount
    return amounts


def reconcile() -> Report:
    report = Report()
    for movement, currency, total in ledger.unbalanced_transactions():
        report.problems.append(
            _("Ledger movement %(id)s does not balance in %(currency)s (off by %(total)s).")
            % {"id": movement, "currency": currency, "total": total}
        )
    client = gateway()
    posted = _posted()
    destinations = dict(ConnectedAccount.objects.values_list("organisation_id", "stripe_account_id"))
    moved = Instalment.objects.filter(~Q(charge_id="")).select_related("schedule").order_by("pk")
    for instalment in moved:
        _instalment(client, instalment, posted, destinations, report)
    for schedule in PaymentSchedule.objects.filter(instalments__in=moved).distinct():
        _transfer_group(client, schedule, report)
    return report


def _check(report: Report, instalment: Instalment, what: str, stripe_value: Any, ledger_value: Any) -> None:
    report.checked += 1
    if stripe_value != ledger_value:
        report.problems.append(
            _("Instalment %(number)s of %(group)s: %(what)s is %(stripe)s at Stripe, %(ledger)s here.")
            % {
                "number": instalment.number,
                "group": instalment.schedule.transfer_group,
                "what": what,
                "stripe": stripe_value,
                "ledger": ledger_value,
            }
        )


def _instalment(
    client: stripe.StripeClient,
    instalment: Instalment,
    posted: dict[tuple[str, str], int],
    destinations: dict[int, str],
    report: Report,
) -> None:
    charge: Any = client.v1.charges.retrieve(instalment.charge_id)
    _check(
        report,
        instalment,
        _("the amount charged"),
        charge.amount,
        posted.get((LedgerKind.CHARGE, charge.id), 0),
    )
    _check(
        report,
        instalment,
        _("the amount refunded"),
        charge.amount_refunded,
        posted.get((LedgerKind.REFUND, instalment.refund_id), 0) if instalment.refund_id else 0,
    )
    if instalment.transfer_id:
        transfer: Any = client.v1.transfers.retrieve(instalment.transfer_id)
        _check(
            report,
            instalment,
            _("the amount transferred"),
            transfer.amount,
            posted.get((LedgerKind.TRANSFER, transfer.id), 0),
        )
        reversed_here = (
            posted.get((LedgerKind.TRANSFER_REVERSAL, instalment.transfer_reversal_id), 0)
            if instalment.transfer_reversal_id
            else 0
        )
        _check(report, instalment, _("the amount reversed"), transfer.amount_reversed, reversed_here)
        _check(
            report,
            instalment,
            _("the destination"),
            transfer.destination,
            destinations.get(instalment.payee_organisation_id),
        )
        _check(
            report,
            instalment,
            _("the transfer group"),
            transfer.transfer_group,
            instalment.schedule.transfer_group,
        )
    if instalment.dispute_id:
        dispute: Any = client.v1.disputes.retrieve(instalment.dispute_id)
        _check(
            report,
            instalment,
            _("the disputed amount"),
            dispute.amount,
            posted.get((LedgerKind.DISPUTE, dispute.id), 0),
        )
        closed_kind = {"won": LedgerKind.DISPUTE_WON, "lost": LedgerKind.DISPUTE_LOST}.get(dispute.status)
        for kind in (LedgerKind.DISPUTE_WON, LedgerKind.DISPUTE_LOST):
            expected = dispute.amount if kind == closed_kind else 0
            _check(report, instalment, str(kind.label), expected, posted.get((kind, dispute.id), 0))


def _transfer_group(client: stripe.StripeClient, schedule: PaymentSchedule, report: Report) -> None:
    known = set(schedule.instalments.exclude(transfer_id="").values_list("transfer_id", flat=True))
    listed: Any = client.v1.transfers.list(params={"transfer_group": schedule.transfer_group, "limit": 100})
    for transfer in listed.auto_paging_iter():
        report.checked += 1
        if transfer.id not in known:
            report.problems.append(
                _("Stripe has transfer %(id)s (%(amount)s %(currency)s) in %(group)s; the ledger does not.")
                % {
                    "id": transfer.id,
                    "amount": transfer.amount,
                    "currency": transfer.currency.upper(),
                    "group": schedule.transfer_group,
                }
            )
