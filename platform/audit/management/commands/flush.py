"""``flush``, extended to lift the audit log's append-only triggers while it empties the database.

Django's own flush empties every table with TRUNCATE (PostgreSQL) or DELETE (SQLite), which the
triggers refuse; Django's TransactionTestCase (pytest-django's ``transaction=True``) flushes after
every test. Lifting the guard needs the rights of the table's owner, who could drop the triggers
anyway, so this grants nothing new. The triggers are restored in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from audit.db_guard import guard_installed, install_guard, remove_guard


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        if not guard_installed(connection):
            super().handle(**options)
            return
        with transaction.atomic(using=database):
            remove_guard(connection)
            super().handle(**options)
            install_guard(connection)
