from typing import Any

from django.core.management.base import BaseCommand

from offers.demo import seed_demo_offers


class Command(BaseCommand):
    help = "Create the demo's offers: every type, every state, one negotiation under way."

    def handle(self, *args: Any, **options: Any) -> None:
        made = seed_demo_offers()
        self.stdout.write(
            self.style.SUCCESS(f"Created {made} demo offers." if made else "Demo offers exist already.")
        )
