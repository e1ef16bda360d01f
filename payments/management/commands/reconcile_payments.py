from typing import Any

from django.core.management.base import BaseCommand, CommandError

from payments.gateway import PaymentsNotConfigured
from payments.reconcile import reconcile


class Command(BaseCommand):
    help = "Check that the ledger balances and matches Stripe's charges, transfers, refunds and disputes."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = reconcile()
        except PaymentsNotConfigured:
            raise CommandError("Payments are not configured: set STRIPE_SECRET_KEY.") from None
        for problem in report.problems:
            self.stdout.write(f"MISMATCH {problem}")
        summary = f"{report.checked} Stripe values checked, {len(report.problems)} mismatches."
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
