"""Fixtures for the audit log tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from accounts.models import Organisation
from audit import actions
from audit.db_guard import install_guard, remove_guard
from audit.models import AuditEntry
from audit.services import audit_record

# Names these tests of the log's mechanics use: not in the product's catalogue, allowed here only.
MECHANICS_ACTIONS = frozenset(
    {
        "user.login",
        "user.updated",
        "user.forged",
        "user.viewed",
        "user.password_changed",
        "load.appended",
        "system.started",
        "organisation.renamed",
        "festival.edition_closed",
        "accreditations.bulk",
        "offer.terms_changed",
        "payment.released",
    }
)


@pytest.fixture(autouse=True)
def mechanics_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "ACTIONS", actions.ACTIONS | MECHANICS_ACTIONS)


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user(email="auditor@example.com", password="a-long-test-password")


@pytest.fixture
def organisation() -> Organisation:
    return Organisation.objects.create(name="Cine Sur", country="AR", company_type="production")


@pytest.fixture
def record() -> Callable[..., AuditEntry]:
    """audit_record inside its own atomic block, as a service would call it."""

    def _record(**kwargs: Any) -> AuditEntry:
        kwargs.setdefault("actor", None)
        with transaction.atomic():
            return audit_record(**kwargs)

    return _record


@pytest.fixture
def entries(record: Callable[..., AuditEntry], user: Any) -> list[AuditEntry]:
    """Five chained entries by one user about the user itself."""
    return [record(action="user.updated", actor=user, target=user, data={"step": n}) for n in range(1, 6)]


@pytest.fixture
def tampering() -> Callable[[], AbstractContextManager[None]]:
    """Lift the database triggers, as an attacker with the table owner's rights could."""

    @contextmanager
    def _tampering() -> Iterator[None]:
        remove_guard(connection)
        try:
            yield
        finally:
            install_guard(connection)

    return _tampering


def _raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def raw() -> Callable[..., None]:
    """Run one SQL statement on the test database, below the ORM."""
    return _raw
