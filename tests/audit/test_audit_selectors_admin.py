"""Reading the log: selectors, and an admin that can only look."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import Organisation
from audit.models import AuditEntry
from audit.selectors import audit_entries, audit_entries_for_target

pytestmark = pytest.mark.django_db


def test_entries_for_target_in_order(
    record: Callable[..., AuditEntry], user: Any, organisation: Organisation
) -> None:
    other = Organisation.objects.create(name="Otra", country="MX", company_type="fund")
    record(action="organisation.created", actor=user, target=organisation)
    record(action="organisation.created", actor=user, target=other)
    record(action="organisation.renamed", actor=user, target=organisation)
    trail = audit_entries_for_target(target=organisation)
    assert [e.action for e in trail] == ["organisation.created", "organisation.renamed"]
    assert [e.seq for e in trail] == [1, 3]


def test_entries_by_action_prefix_and_organisation(
    record: Callable[..., AuditEntry], user: Any, organisation: Organisation
) -> None:
    record(action="accreditation.applied", actor=user, organisation=organisation)
    record(action="accreditations.bulk", actor=None)
    record(action="accreditation.approved", actor=None)
    record(action="user.login", actor=user)
    assert [e.action for e in audit_entries(action_prefix="accreditation")] == [
        "accreditation.approved",
        "accreditation.applied",
    ]
    assert [e.action for e in audit_entries(action_prefix="accreditation.")] == [
        "accreditation.approved",
        "accreditation.applied",
    ]
    assert [e.action for e in audit_entries(organisation=organisation)] == ["accreditation.applied"]
    assert audit_entries().count() == 4


def test_admin_is_read_only(entries: list[AuditEntry], user: Any) -> None:
    model_admin = admin.site._registry[AuditEntry]
    request = RequestFactory().get("/admin/audit/auditentry/")
    user.is_staff = user.is_superuser = True
    request.user = user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entries[0])
    assert not model_admin.has_delete_permission(request, entries[0])
    assert model_admin.has_view_permission(request, entries[0])
    assert "delete_selected" not in model_admin.get_actions(request)
