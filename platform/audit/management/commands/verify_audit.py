"""``manage.py verify_audit``: prove the audit log has not been edited, cut or forged."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute every audit entry's hash, chain link, sequence number and seal, and check the chain head. "
        "Exits non-zero naming the first broken entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=1000, help="Entries read per query.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain(chunk_size=max(1, options["chunk_size"]))
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
