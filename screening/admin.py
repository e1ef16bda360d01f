"""Admins' screening desk: cuts and grants to inspect, and instant revocation of a viewer's access."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.permissions import acting_user
from core.admin import CheckedAutocompleteMixin, ReadOnlyAdminMixin
from screening import services
from screening.models import AccessRevocation, Cut, LeakTrace, PaceRefusal, PlaybackGrant


@admin.register(Cut)
class CutAdmin(admin.ModelAdmin[Cut]):
    list_display = ["film", "number", "status", "progress", "duration_s", "created_at", "published_at"]
    list_filter = ["status"]
    exclude = ["sealed_key"]  # the sealed content key is never shown, even to admins
    readonly_fields = [f.name for f in Cut._meta.fields if f.name != "sealed_key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PlaybackGrant)
class PlaybackGrantAdmin(admin.ModelAdmin[PlaybackGrant]):
    list_display = [
        "viewer",
        "organisation",
        "cut",
        "created_at",
        "ended_at",
        "end_reason",
        "seconds_watched",
    ]
    list_filter = ["end_reason"]
    search_fields = ["viewer__email"]
    readonly_fields = [f.name for f in PlaybackGrant._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AccessRevocation)
class AccessRevocationAdmin(CheckedAutocompleteMixin, admin.ModelAdmin[AccessRevocation]):
    list_display = ["user", "film", "reason", "revoked_by", "created_at", "lifted_at"]
    fields = ["user", "film", "reason"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def save_model(self, request: HttpRequest, obj: AccessRevocation, form: Any, change: bool) -> None:
        created = services.access_revoke(
            admin=acting_user(request), user=obj.user, film=obj.film, reason=obj.reason
        )
        obj.pk = created.pk


@admin.register(PaceRefusal)
class PaceRefusalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PaceRefusal]):
    """Who fetched faster than a viewing does (``screening.pace``): read-only, newest first."""

    list_display = ["viewer", "organisation", "film", "door", "refusals", "first_at", "last_at"]
    list_filter = ["door"]
    list_select_related = ["grant__viewer", "grant__organisation", "grant__cut__film"]
    search_fields = ["grant__viewer__email", "grant__organisation__name"]
    readonly_fields = ["grant", "door", "refusals", "first_at", "last_at"]

    @admin.display(description=_("viewer"), ordering="grant__viewer__email")
    def viewer(self, obj: PaceRefusal) -> str:
        return f"{obj.grant.viewer.display_name} <{obj.grant.viewer.email}>"

    @admin.display(description=_("organisation"))
    def organisation(self, obj: PaceRefusal) -> str:
        return obj.grant.organisation.name if obj.grant.organisation else ""

    @admin.display(description=_("film"))
    def film(self, obj: PaceRefusal) -> str:
        return str(obj.grant.cut.film)


@admin.register(LeakTrace)
class LeakTraceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LeakTrace]):
    """Leak traces, read-only: a trace is evidence, filed by ``forensics.tracing``, concluded by ``trace_job``
    (the admins' page /staff/leaks/ files them and revokes the named viewer)."""

    list_display = ["created_at", "film", "suspect_name", "status", "result"]
    list_filter = ["status", "result"]
    list_select_related = ["film"]
    search_fields = ["suspect_name", "suspect_sha256"]
    readonly_fields = [f.name for f in LeakTrace._meta.fields] + ["named_grants"]
