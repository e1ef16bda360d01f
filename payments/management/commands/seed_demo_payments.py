from typing import Any

from django.core.management.base import BaseCommand

from payments.demo import seed_demo_payments


class Command(BaseCommand):
    help = "Create the demo's agreements with payment schedules in several states."

    def handle(self, *args: Any, **options: Any) -> None:
        made = seed_demo_payments()
        message = f"Created {made} demo agreements with payments." if made else "Demo payments exist already."
        self.stdout.write(self.style.SUCCESS(message))
