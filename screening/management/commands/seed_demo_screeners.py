from typing import Any

from django.core.management.base import BaseCommand

from screening.demo import seed_demo_screeners


class Command(BaseCommand):
    help = "Package a short playable screener for every selected film that has none (the demo's screeners)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Package at most this many films.")

    def handle(self, *args: Any, **options: Any) -> None:
        from festival.models import Film

        films = list(Film.objects.filter(session__isnull=False).order_by("session__starts_on", "title"))
        made = seed_demo_screeners(films=films[: options["limit"]] if options["limit"] else films)
        self.stdout.write(self.style.SUCCESS(f"Packaged {made} demo screeners."))
