"""Database triggers that make the entries table append-only below the ORM.

PostgreSQL: a plpgsql function raising 'audit_auditentry is append-only', fired BEFORE UPDATE OR
DELETE for each row and BEFORE TRUNCATE for the statement. SQLite: BEFORE UPDATE and BEFORE DELETE
triggers that abort (SQLite has no TRUNCATE). Other databases: nothing.

Only the table's owner (or a superuser) can drop or disable these triggers; production should run the
application as a role that does not own the table, so that not even the application can rewrite the
log. Note for future migrations: on SQLite, altering ``audit_auditentry`` rebuilds the table and drops
its triggers; such a migration must call ``install_guard`` again.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditentry"
MESSAGE = "audit_auditentry is append-only"

_PG_FUNCTION = "audit_auditentry_refuse_change"
_PG_ROW_TRIGGER = "audit_auditentry_append_only"
_PG_TRUNCATE_TRIGGER = "audit_auditentry_no_truncate"
_SQLITE_UPDATE_TRIGGER = "audit_auditentry_no_update"
_SQLITE_DELETE_TRIGGER = "audit_auditentry_no_delete"

_PG_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'raise_exception';
    END;
    $body$
    """,
    f"DROP TRIGGER IF EXISTS {_PG_ROW_TRIGGER} ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {_PG_TRUNCATE_TRIGGER} ON {TABLE}",
    f"""CREATE TRIGGER {_PG_ROW_TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()""",
    f"""CREATE TRIGGER {_PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {_PG_ROW_TRIGGER} ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {_PG_TRUNCATE_TRIGGER} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()",
]
_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {_SQLITE_UPDATE_TRIGGER} BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {_SQLITE_DELETE_TRIGGER} BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
_SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {_SQLITE_UPDATE_TRIGGER}",
    f"DROP TRIGGER IF EXISTS {_SQLITE_DELETE_TRIGGER}",
]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_guard(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers (idempotent)."""
    if connection.vendor == "postgresql":
        _run(connection, _PG_INSTALL)
    elif connection.vendor == "sqlite":
        _run(connection, _SQLITE_INSTALL)


def remove_guard(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers (idempotent). Requires owning the table on PostgreSQL."""
    if connection.vendor == "postgresql":
        _run(connection, _PG_REMOVE)
    elif connection.vendor == "sqlite":
        _run(connection, _SQLITE_REMOVE)


def guard_installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether the triggers exist (always False on databases without a guard)."""
    if TABLE not in connection.introspection.table_names():
        return False
    if connection.vendor == "postgresql":
        query = "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname IN (%s, %s)"
        params: list[str] = [TABLE, _PG_ROW_TRIGGER, _PG_TRUNCATE_TRIGGER]
    elif connection.vendor == "sqlite":
        query = (
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s)"
        )
        params = [TABLE, _SQLITE_UPDATE_TRIGGER, _SQLITE_DELETE_TRIGGER]
    else:
        return False
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return bool(row) and row[0] == 2
