"""The log cannot be changed: not through the ORM, not with plain SQL while the triggers stand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit.db_guard import guard_installed
from audit.exceptions import AuditLogImmutable
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_orm_save_of_an_existing_entry_is_refused(entries: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(seq=2)
    entry.action = "user.forged"
    with pytest.raises(AuditLogImmutable):
        entry.save()
    assert AuditEntry.objects.get(seq=2).action == "user.updated"


def test_saving_a_new_instance_over_an_existing_id_does_not_update(entries: list[AuditEntry]) -> None:
    original = AuditEntry.objects.get(seq=2)
    impostor = AuditEntry.objects.get(seq=2)
    impostor._state.adding = True
    impostor.action = "user.forged"
    with pytest.raises(IntegrityError), transaction.atomic():
        impostor.save()
    assert AuditEntry.objects.get(pk=original.pk).action == "user.updated"


def test_orm_delete_of_an_entry_is_refused(entries: list[AuditEntry]) -> None:
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.get(seq=2).delete()
    assert AuditEntry.objects.count() == 5


def test_queryset_update_is_refused(entries: list[AuditEntry]) -> None:
    with pytest.raises(AuditLogImmutable, match="append-only"):
        AuditEntry.objects.filter(seq__gte=1).update(action="user.forged")
    assert not AuditEntry.objects.filter(action="user.forged").exists()


def test_queryset_delete_is_refused(entries: list[AuditEntry]) -> None:
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.filter(seq=1).delete()
    assert AuditEntry.objects.count() == 5


def test_bulk_update_and_bulk_create_are_refused(entries: list[AuditEntry]) -> None:
    stored = list(AuditEntry.objects.all())
    for entry in stored:
        entry.target_repr = "forged"
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.bulk_update(stored, ["target_repr"])
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.bulk_create([AuditEntry(seq=99)])
    assert not AuditEntry.objects.filter(target_repr="forged").exists()


def test_the_migrations_installed_the_guard() -> None:
    assert guard_installed(connection)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET target_repr = 'forged' WHERE seq = 2",
        "DELETE FROM audit_auditentry WHERE seq = 2",
        "DELETE FROM audit_auditentry",
    ],
)
def test_raw_sql_update_and_delete_are_refused_by_the_database(
    entries: list[AuditEntry], sql: str, raw: Callable[..., None]
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql)
    assert AuditEntry.objects.count() == 5
    assert not AuditEntry.objects.filter(target_repr="forged").exists()


def test_raw_truncate_is_refused_on_postgresql(entries: list[AuditEntry], raw: Callable[..., None]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    # The inserts above queued deferred foreign-key checks, which would block TRUNCATE on their own.
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 5


def test_the_guard_is_lifted_only_while_tampering(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    with tampering():
        assert not guard_installed(connection)
        raw("UPDATE audit_auditentry SET target_repr = 'forged' WHERE seq = 2")
    assert guard_installed(connection)
    assert AuditEntry.objects.get(seq=2).target_repr == "forged"


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_keeps_the_guard(
    record: Callable[..., AuditEntry], raw: Callable[..., None]
) -> None:
    record(action="user.login", actor=None)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    assert guard_installed(connection)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        record(action="user.login", actor=None)
        raw("DELETE FROM audit_auditentry")
