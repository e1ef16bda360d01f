import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand

from screening.services import uploads_expire


class Command(BaseCommand):
    help = "Abort screener uploads left open for longer than --days (default 7), freeing their stored parts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        count = uploads_expire(older_than=dt.timedelta(days=options["days"]))
        self.stdout.write(f"Aborted {count} stale uploads.")
