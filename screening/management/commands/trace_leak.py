"""``manage.py trace_leak FILE --film ID``: trace a suspect copy here and now (docs/forensics.md).

The same trace as the admins' page, run in this process with a progress bar on the terminal; the trace
and its result are stored and audited as the page's are (requested by the operator, or by ``--admin``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from core.errors import DomainError
from festival.models import Film
from screening.forensics.tracing import trace_request
from screening.models import TraceResult

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Trace a suspect copy of a film to the viewing it was made from."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the suspect video (a whole copy or an excerpt)")
        parser.add_argument("--film", type=int, required=True, help="the film's id")
        parser.add_argument("--admin", default="", help="the email of the admin on whose behalf to trace")

    def _bar(self, percent: float, stage: str) -> None:
        if not sys.stderr.isatty():
            return
        done = int(BAR_WIDTH * min(percent, 100.0) / 100)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (BAR_WIDTH - done)}] {percent:5.1f}% {stage:<24}")
        sys.stderr.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        film = Film.objects.filter(pk=options["film"]).first()
        if film is None:
            raise CommandError(f"There is no film {options['film']}.")
        admin = None
        if options["admin"]:
            admin = User.objects.filter(email__iexact=options["admin"]).first()
            if admin is None:
                raise CommandError(f"There is no user {options['admin']}.")
        try:
            trace = trace_request(
                admin=admin, film=film, path=path, name=path.name, run_now=True, echo=self._bar
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(f"Trace {trace.id}: {TraceResult(trace.result).label}")
        if trace.detail:
            self.stdout.write(trace.detail)
        evidence = trace.evidence
        for row in evidence.get("ranking", [])[:3]:
            named = "NAMED " if row["grant"] in evidence.get("named", []) else "      "
            self.stdout.write(
                f"{named}{row['viewer']} ({row['organisation'] or '-'}), viewing {row['grant']} of "
                f"{row['watched_at'][:16]}: {row['agreements']}/{row['segments']} segments agree, "
                f"chance for an innocent viewing 1e{row['log10_p']:.1f}"
            )
