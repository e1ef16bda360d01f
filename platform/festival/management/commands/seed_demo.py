from typing import Any

from django.core.management.base import BaseCommand

from festival.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo edition (two sessions, twelve films, one account per role). Reuses an existing one."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created, edition = seed_demo()
        verb = "Created" if created else "Reusing"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo edition: {edition.name}"))
