import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from screening.demo import (
    demo_films,
    demo_progress,
    has_team,
    leak_demo_film,
    leaked_copy_path,
    seed_demo_screeners,
)
from screening.models import Cut, CutStatus

LEAK_WAIT_S = 300  # the leaked copy is made after its film's screener is ready


class Command(BaseCommand):
    help = (
        "Give every selected film that has no cut a short playable screener: queued for the worker "
        "(the default), made here (--now), or follow their progress (--follow)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--limit", type=int, default=None, help="Only the first this many films (in session order)."
        )
        parser.add_argument(
            "--now", action="store_true", help="Make and package them in this process before returning."
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="Print the demo screeners' progress until every one is packaged (or failed).",
        )
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between checks (--follow).")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 0:
            raise CommandError("--limit must be 0 or more.")
        films = demo_films()[:limit] if limit is not None else demo_films()
        if options["follow"]:
            self._follow([film for film in films if has_team(film)], options["interval"])
            return
        count = seed_demo_screeners(films=films, background=not options["now"])
        if options["now"]:
            self.stdout.write(self.style.SUCCESS(f"Packaged {count} demo screeners."))
        elif count:
            self.stdout.write(f"Queued {count} demo screeners: the worker packages them in the background.")

    def _follow(self, films: list[Any], interval: float) -> None:
        """One line whenever something changes, until the demo is ready, then the final count (also when it
        was ready before the first look: a busy machine may package a short demo before the server is up)."""
        last = ""
        quiet_since = time.monotonic()
        while True:
            progress = demo_progress(films)
            line = progress.line()
            if progress.done:
                if progress.films:
                    self.stdout.write(line + ".", ending="\n")
                    self._leak(films)
                return
            if line != last:
                self.stdout.write(line)
                self.stdout.flush()
                last, quiet_since = line, time.monotonic()
            elif time.monotonic() - quiet_since > 600:
                self.stderr.write("Demo screeners: no progress for ten minutes; see the worker's messages.")
                return
            time.sleep(interval)

    def _leak(self, films: list[Any]) -> None:
        """Say where the leak demo's copy is, once it exists (docs/forensics.md); only when the leak
        demo's film is among the films followed."""
        leak_film = leak_demo_film()
        if leak_film is None or leak_film not in films:
            return
        if not Cut.objects.filter(film=leak_film, status=CutStatus.READY).exists():
            return
        deadline = time.monotonic() + LEAK_WAIT_S
        path = leaked_copy_path()
        while not path.is_file() and time.monotonic() < deadline:
            time.sleep(1)
        if path.is_file():
            self.stdout.write(
                f"Leaked copy to trace: {path} (a demo viewer's stream, re-encoded): sign in as the admin, "
                f'open Leak traces (/staff/leaks/), choose "{leak_film.title}" and upload it.'
            )
