"""The audit log in the admin: readable, searchable, never writable."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditCheckpoint, AuditEntry
from core.admin import ReadOnlyAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_label", "action", "target_type", "=target_id", "target_repr"]
    date_hierarchy = "created_at"
    ordering = ["-seq"]
    show_full_result_count = False
    readonly_fields = [
        "seq",
        "created_at",
        "actor",
        "actor_label",
        "organisation",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "data",
        "ip",
        "prev_hash",
        "hash",
        "seal",
    ]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AuditCheckpoint]):
    """Signed checkpoints of the chain (``audit.checkpoints``): published by the beat and by
    ``manage.py audit_checkpoint``; read here, never changed."""

    list_display = ["seq", "hash", "signed_at"]
    readonly_fields = ["seq", "hash", "signed_at", "public_key", "signature"]
