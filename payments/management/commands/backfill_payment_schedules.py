from typing import Any

from django.core.management.base import BaseCommand

from payments.services.schedules import schedules_backfill


class Command(BaseCommand):
    help = (
        "Draw up the payment schedule of every agreement recorded without one (before payments existed, "
        "or written by hand); agreements that have one are left alone, so running it again does nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        made = schedules_backfill()
        for schedule in made:
            self.stdout.write(f"Scheduled {schedule.transfer_group}")
        self.stdout.write(self.style.SUCCESS(f"{len(made)} payment schedules made."))
