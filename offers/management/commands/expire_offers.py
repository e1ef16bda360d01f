from typing import Any

from django.core.management.base import BaseCommand

from offers.services.offers import offers_expire


class Command(BaseCommand):
    help = "Mark submitted offers whose expiry date has passed as expired (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Expired {offers_expire()} offers.")
