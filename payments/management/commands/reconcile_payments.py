from typing import Any

from django.core.management.base import BaseCommand, CommandError

from payments.gateway import PaymentsNotConfigured
from payments.services.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Check that the ledger balances and matches every charge, transfer, refund and dispute Stripe has "
        "for the platform's deals; list Stripe's disputes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = reconcile()
        except PaymentsNotConfigured:
            raise CommandError("Payments are not configured: set STRIPE_SECRET_KEY.") from None
        for dispute in report.disputes:
            recorded = "recorded" if dispute["recorded"] else "NOT RECORDED"
            self.stdout.write(
                f"DISPUTE {dispute['id']} {dispute['status']} {dispute['amount']} {dispute['currency']}"
                f" on {dispute['charge']} ({recorded})"
            )
        for problem in report.problems:
            self.stdout.write(f"MISMATCH {problem}")
        summary = f"{report.checked} Stripe values checked, {len(report.problems)} mismatches."
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
