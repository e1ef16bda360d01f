"""Operations staff's admin for people and accreditations. Decisions go through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Accreditation, Membership, MembershipRequest, Organisation, User
from accounts.permissions import acting_user
from accounts.services.accreditations import accreditation_approve
from accounts.services.memberships import membership_request_approve
from core.errors import DomainError


def _approve_each(
    admin_: admin.ModelAdmin, request: HttpRequest, rows: Iterable[Any], act: Callable[[Any], object]
) -> None:
    """The approve action: ``act`` on each selected row through its service; refusals named, then a count."""
    done = 0
    for row in rows:
        try:
            act(row)
            done += 1
        except DomainError as error:
            admin_.message_user(request, f"{row}: {error.message}", messages.ERROR)
    if done:
        admin_.message_user(request, _("%(count)d approved.") % {"count": done}, messages.SUCCESS)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "language", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "language"]
    search_fields = ["email", "full_name"]
    fields = ["email", "full_name", "language", "is_active", "is_staff", "last_login", "date_joined"]
    readonly_fields = ["last_login", "date_joined"]
    ordering = ["email"]


class MembershipInline(admin.TabularInline):
    """Read-only: members are approved, removed and given roles through ``accounts.services.memberships``
    (audited),
    from the organisation page or the membership requests below."""

    model = Membership
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("user", "role", "joined_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "company_type"]
    list_filter = ["company_type", "country"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(MembershipRequest)
class MembershipRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__full_name", "organisation__name"]
    actions = ["approve"]
    readonly_fields = [f.name for f in MembershipRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Approve the selected requests to join"))
    def approve(self, request: HttpRequest, queryset: QuerySet[MembershipRequest]) -> None:
        actor = acting_user(request)
        _approve_each(
            self, request, queryset, lambda row: membership_request_approve(actor=actor, request=row)
        )


@admin.register(Accreditation)
class AccreditationAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "session", "category", "status", "created_at"]
    list_filter = ["status", "session", "category"]
    search_fields = ["user__email", "user__full_name", "organisation__name"]
    actions = ["approve"]
    readonly_fields = [f.name for f in Accreditation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Accreditation]) -> None:
        admin_user = acting_user(request)
        _approve_each(
            self, request, queryset, lambda row: accreditation_approve(accreditation=row, admin=admin_user)
        )
