"""Admin for editions, sessions and films. Saves go through the services so each change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.permissions import acting_user
from core.admin import CheckedAutocompleteMixin
from core.errors import DomainError
from festival import services
from festival.models import Edition, Film, FilmTeamMember, PostProductionNeed, Session


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["year", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Edition | None = None) -> list[str]:
        return ["year"] if obj else []  # an edition's year is its identity

    def save_model(self, request: HttpRequest, obj: Edition, form: Any, change: bool) -> None:
        if change:
            services.edition_rename(admin=acting_user(request), edition=obj, name=obj.name)
        else:
            created = services.edition_create(admin=acting_user(request), year=obj.year, name=obj.name)
            obj.pk = created.pk


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "starts_on", "ends_on", "screening_days_after_end", "max_films"]
    list_filter = ["edition"]

    def save_model(self, request: HttpRequest, obj: Session, form: Any, change: bool) -> None:
        data = {
            name: form.cleaned_data[name] for name in services.SESSION_FIELDS if name in form.cleaned_data
        }
        saved = services.session_save(admin=acting_user(request), session=obj if change else None, data=data)
        obj.pk = saved.pk


class TeamInline(CheckedAutocompleteMixin, admin.TabularInline):
    model = FilmTeamMember
    extra = 0
    autocomplete_fields = ["user"]


class NeedInline(admin.TabularInline):
    model = PostProductionNeed
    extra = 0


@admin.register(Film)
class FilmAdmin(admin.ModelAdmin):
    list_display = ["title", "session", "stage", "genre", "runtime_minutes"]
    list_filter = ["session", "stage", "genre"]
    search_fields = ["title", "original_title", "production_company"]
    readonly_fields = ["session"]
    inlines = [TeamInline, NeedInline]
    actions = ["select_into_session"]

    def save_model(self, request: HttpRequest, obj: Film, form: Any, change: bool) -> None:
        data = {
            name: form.cleaned_data[name]
            for name in services.FILM_EDITABLE_FIELDS
            if name in form.cleaned_data
        }
        if change:
            services.film_update(user=acting_user(request), film=obj, data=data)
        else:
            obj.pk = services.film_create(admin=acting_user(request), data=data).pk

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Team and need rows are written through the services, so each one is audited."""
        admin_user = acting_user(request)
        film: Film = form.instance
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, FilmTeamMember):
                services.film_team_remove(admin=admin_user, film=film, user=obj.user)
            else:
                services.need_remove(user=admin_user, need=obj)
        for obj in instances:
            if isinstance(obj, FilmTeamMember):
                services.film_team_assign(
                    admin=admin_user, film=film, user=obj.user, organisation=obj.organisation
                )
            else:
                data = {name: getattr(obj, name) for name in services.NEED_FIELDS}
                if obj.pk:
                    services.need_update(user=admin_user, need=obj, data=data)
                else:
                    services.need_add(user=admin_user, film=film, data=data)

    @admin.action(description=_("Select into the session given in the filter"))
    def select_into_session(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        session_id = request.GET.get("session__id__exact")
        session = Session.objects.filter(pk=session_id).first() if session_id else None
        if session is None:
            self.message_user(request, _("Filter the list by a session first."), messages.ERROR)
            return
        for film in queryset:
            try:
                services.film_select(admin=acting_user(request), film=film, session=session)
            except DomainError as error:
                self.message_user(request, f"{film}: {error.message}", messages.ERROR)
