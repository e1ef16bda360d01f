"""Reconciliation: the ledger against itself (every movement balances) and against Stripe's objects. Every
charge and transfer Stripe has in a deal's transfer group is compared, not only those the ledger knows:
each charge is an instalment's payment or a payment not due (refunded, or held for an admin), and says
what the ledger says (amount, refunds, transfer, reversal); every dispute Stripe has on those charges is
recorded and its withdrawal, reinstatement or loss posted. Disputes still waiting for their charge are
re-read first. Run by ``manage.py reconcile_payments`` and the staff page.

Amounts in the report are Stripe's own integers in minor units (as its API and dashboard export give
them), so that each can be compared and searched for there as it is.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.db.models import Q
from django.utils.translation import gettext as _

from payments.gateway import gateway
from payments.models import (
    ConnectedAccount,
    Dispute,
    Instalment,
    LedgerEntry,
    LedgerKind,
    PaymentSchedule,
    StrayPayment,
    StrayStatus,
)
from payments.selectors import unbalanced_transactions
from payments.services.disputes import dispute_update, withdrawn_and_reinstated

log = logging.getLogger(__name__)


@dataclass
class Report:
    checked: int = 0  # Stripe objects compared
    problems: list[str] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)  # Stripe's, on the deals' charges

    @property
    def ok(self) -> bool:
        return not self.problems

    def compare(self, checks: Iterable[tuple[str, Any, Any]], problem: str, **names: Any) -> None:
        """Each ``(what, at Stripe, here)`` is counted, and a problem when the two differ: ``problem``
        (translated) filled with ``names`` and ``what``, ``stripe``, ``ledger``."""
        for what, at_stripe, here in checks:
            self.checked += 1
            if at_stripe != here:
                self.problems.append(problem % {**names, "what": what, "stripe": at_stripe, "ledger": here})


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
    for movement, currency, total in unbalanced_transactions():
        report.problems.append(
            _("Ledger movement %(id)s does not balance in %(currency)s (off by %(total)s).")
            % {"id": movement, "currency": currency, "total": total}
        )
    client = gateway()
    _waiting_disputes(report)
    posted = _posted()
    destinations = dict(ConnectedAccount.objects.values_list("organisation_id", "stripe_account_id"))
    moved = Instalment.objects.filter(~Q(charge_id="")).select_related("schedule").order_by("pk")
    for instalment in moved:
        _instalment(client, instalment, posted, destinations, report)
    attempted = Q(instalments__attempts__gt=0) | ~Q(instalments__charge_id="")
    for schedule in PaymentSchedule.objects.filter(attempted).distinct().order_by("pk"):
        _transfer_group(client, schedule, report)
        _charges(client, schedule, posted, report)
    return report


def _waiting_disputes(report: Report) -> None:
    """Disputes recorded before their charge was known: re-read now, and named if still not tied."""
    for waiting in Dispute.objects.filter(instalment__isnull=True).order_by("pk"):
        try:
            dispute_update(dispute_id=waiting.stripe_id)
        except stripe.StripeError as exc:
            log.warning("Dispute %s could not be re-read: %s", waiting.stripe_id, exc)
        waiting.refresh_from_db()
        if waiting.instalment_id is None:
            report.problems.append(
                _("Dispute %(id)s (%(status)s) on charge %(charge)s: the charge is not known here yet.")
                % {"id": waiting.stripe_id, "status": waiting.status, "charge": waiting.charge_id}
            )


def _charges(
    client: stripe.StripeClient, schedule: PaymentSchedule, posted: dict[tuple[str, str], int], report: Report
) -> None:
    """Every charge Stripe has in the deal's transfer group, and every dispute on them."""
    known = set(schedule.instalments.exclude(charge_id="").values_list("charge_id", flat=True))
    strays = {s.charge_id: s for s in StrayPayment.objects.filter(instalment__schedule=schedule)}
    listed: Any = client.v1.charges.list(params={"transfer_group": schedule.transfer_group, "limit": 100})
    for charge in listed.auto_paging_iter():
        if not charge.paid or charge.status != "succeeded":
            continue  # a declined attempt: no money moved
        report.checked += 1
        stray = strays.get(charge.id)
        if stray is not None:
            _stray(charge, stray, posted, report)
        elif charge.id not in known:
            report.problems.append(
                _("Stripe has charge %(id)s (%(amount)s %(currency)s) in %(group)s; the ledger does not.")
                % {
                    "id": charge.id,
                    "amount": charge.amount,
                    "currency": str(charge.currency).upper(),
                    "group": schedule.transfer_group,
                }
            )
        _disputes(client, charge, posted, report)


def _stray(charge: Any, stray: StrayPayment, posted: dict[tuple[str, str], int], report: Report) -> None:
    checks = [
        (_("the amount received"), charge.amount, posted.get((LedgerKind.STRAY_CHARGE, charge.id), 0)),
        (
            _("the amount refunded"),
            charge.amount_refunded,
            posted.get((LedgerKind.STRAY_REFUND, stray.refund_id), 0) if stray.refund_id else 0,
        ),
    ]
    report.compare(
        checks,
        _("Payment not due %(charge)s: %(what)s is %(stripe)s at Stripe, %(ledger)s here."),
        charge=charge.id,
    )
    if stray.status == StrayStatus.HELD:
        report.problems.append(
            _(
                "Charge %(charge)s (%(amount)s %(currency)s) paid an instalment that was not waiting "
                "for it; it is held for an admin to refund (%(refusal)s)."
            )
            % {
                "charge": charge.id,
                "amount": stray.amount_minor,
                "currency": stray.currency,
                "refusal": stray.detail,
            }
        )


def _disputes(
    client: stripe.StripeClient, charge: Any, posted: dict[tuple[str, str], int], report: Report
) -> None:
    listed: Any = client.v1.disputes.list(params={"charge": charge.id, "limit": 100})
    for dispute in listed.auto_paging_iter():
        recorded = Dispute.objects.filter(stripe_id=dispute.id, instalment__isnull=False).first()
        report.disputes.append(
            {
                "id": dispute.id,
                "charge": charge.id,
                "status": dispute.status,
                "amount": dispute.amount,
                "currency": str(dispute.currency).upper(),
                "recorded": recorded is not None,
            }
        )
        report.checked += 1
        if recorded is None:
            report.problems.append(
                _("Stripe has dispute %(id)s (%(status)s) on charge %(charge)s; it is not recorded here.")
                % {"id": dispute.id, "status": dispute.status, "charge": charge.id}
            )
            continue
        withdrawn, reinstated = withdrawn_and_reinstated(dispute=dispute)
        expected = {
            LedgerKind.DISPUTE: dispute.amount if withdrawn else 0,
            LedgerKind.DISPUTE_WON: dispute.amount if withdrawn and reinstated else 0,
            LedgerKind.DISPUTE_LOST: dispute.amount
            if withdrawn and not reinstated and dispute.status == "lost"
            else 0,
        }
        checks: list[tuple[str, Any, Any]] = [(_("the status"), dispute.status, recorded.status)]
        checks += [
            (str(kind.label), amount, posted.get((kind, dispute.id), 0)) for kind, amount in expected.items()
        ]
        report.compare(
            checks, _("Dispute %(id)s: %(what)s is %(stripe)s at Stripe, %(ledger)s here."), id=dispute.id
        )


def _instalment(
    client: stripe.StripeClient,
    instalment: Instalment,
    posted: dict[tuple[str, str], int],
    destinations: dict[int, str],
    report: Report,
) -> None:
    charge: Any = client.v1.charges.retrieve(instalment.charge_id)
    refunded_here = posted.get((LedgerKind.REFUND, instalment.refund_id), 0) if instalment.refund_id else 0
    checks: list[tuple[str, Any, Any]] = [
        (_("the amount charged"), charge.amount, posted.get((LedgerKind.CHARGE, charge.id), 0)),
        (_("the amount refunded"), charge.amount_refunded, refunded_here),
    ]
    if instalment.transfer_id:
        transfer: Any = client.v1.transfers.retrieve(instalment.transfer_id)
        reversal = instalment.transfer_reversal_id
        checks += [
            (_("the amount transferred"), transfer.amount, posted.get((LedgerKind.TRANSFER, transfer.id), 0)),
            (
                _("the amount reversed"),
                transfer.amount_reversed,
                posted.get((LedgerKind.TRANSFER_REVERSAL, reversal), 0) if reversal else 0,
            ),
            (_("the destination"), transfer.destination, destinations.get(instalment.payee_organisation_id)),
            (_("the transfer group"), transfer.transfer_group, instalment.schedule.transfer_group),
        ]
    report.compare(
        checks,
        _("Instalment %(number)s of %(group)s: %(what)s is %(stripe)s at Stripe, %(ledger)s here."),
        number=instalment.number,
        group=instalment.schedule.transfer_group,
    )


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
