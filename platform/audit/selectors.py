"""Reading the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q, QuerySet

from audit.models import AuditEntry
from audit.targets import target_ref

if TYPE_CHECKING:
    from accounts.models import Organisation


def audit_entries_for_target(*, target: models.Model) -> QuerySet[AuditEntry]:
    """Every entry about one object, oldest first: the object's trail, in the order it happened."""
    target_type, target_id = target_ref(target)
    return AuditEntry.objects.filter(target_type=target_type, target_id=target_id).order_by("seq")


def audit_entries(
    *, action_prefix: str | None = None, organisation: Organisation | None = None
) -> QuerySet[AuditEntry]:
    """Entries newest first, optionally narrowed to one action family and to one organisation.

    ``action_prefix`` matches whole dotted segments: ``"accreditation"`` matches
    ``accreditation.approved`` but not ``accreditations.x``; ``"offer.term"`` matches ``offer.term``
    and ``offer.term.changed``.
    """
    entries = AuditEntry.objects.select_related("actor", "organisation").order_by("-seq")
    if action_prefix:
        prefix = action_prefix.rstrip(".")
        entries = entries.filter(Q(action=prefix) | Q(action__startswith=f"{prefix}."))
    if organisation is not None:
        entries = entries.filter(organisation=organisation)
    return entries
