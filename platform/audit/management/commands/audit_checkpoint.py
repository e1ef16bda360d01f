"""``manage.py audit_checkpoint``: sign the chain's head now, or check a kept checkpoint against the chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import checkpoint_document, checkpoint_publish, checkpoint_verify


class Command(BaseCommand):
    help = (
        "Without arguments: sign the audit chain's head and print the checkpoint (JSON). "
        "With --verify FILE: check a kept checkpoint against today's chain; "
        "exits non-zero if history changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--verify", metavar="FILE", help="A checkpoint document to check.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            try:
                document = json.loads(Path(options["verify"]).read_text())
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read {options['verify']}: {error}") from None
            verdict = checkpoint_verify(document=document)
            if not verdict.ok:
                raise CommandError(f"{verdict.code}: {verdict.message}")
            self.stdout.write(self.style.SUCCESS(verdict.message))
            return
        checkpoint = checkpoint_publish()
        if checkpoint is None:
            raise CommandError("The audit chain is empty: there is nothing to sign yet.")
        self.stdout.write(json.dumps(checkpoint_document(checkpoint), indent=2))
