"""The audit log in the admin: readable, searchable, never writable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
