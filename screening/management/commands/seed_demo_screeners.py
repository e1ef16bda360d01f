from typing import Any

from django.core.management.base import BaseCommand

from screening.demo import seed_demo_screeners


class Command(BaseCommand):
    help = "Package a short playable screener for every selected film that has none (the demo's screeners)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = seed_demo_screeners()
        self.stdout.write(self.style.SUCCESS(f"Packaged {made} demo screeners."))
