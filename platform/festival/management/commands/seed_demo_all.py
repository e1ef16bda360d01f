from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "The whole demo in one process (what `make demo` runs): the edition, its offers, its payments, and "
        "its screeners queued for the worker (--screeners N: only the first N films; --screeners-now: "
        "packaged here before returning)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--screeners", type=int, default=None, help="Screeners for the first N films.")
        parser.add_argument(
            "--screeners-now", action="store_true", help="Package the screeners here, not in the worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_demo", stdout=self.stdout, stderr=self.stderr)
        call_command("seed_demo_offers", stdout=self.stdout, stderr=self.stderr)
        call_command("seed_demo_payments", stdout=self.stdout, stderr=self.stderr)
        screeners: list[str] = []
        if options["screeners"] is not None:
            screeners += ["--limit", str(options["screeners"])]
        if options["screeners_now"]:
            screeners.append("--now")
        call_command("seed_demo_screeners", *screeners, stdout=self.stdout, stderr=self.stderr)
