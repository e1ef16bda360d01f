"""Admin for editions, sessions and films. Saves go through the services so each change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from festival import services
from festival.models import Edition, Film, FilmTeamMember, PostProductionNeed, Session


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["year", "name"]

    def save_model(self, request: HttpRequest, obj: Edition, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = services.edition_create(admin=request.user, year=obj.year, name=obj.name)  # type: ignore[arg-type]
            obj.pk = created.pk


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "city", "starts_on", "ends_on", "screening_days_after_end", "max_films"]
    list_filter = ["edition"]

    def save_model(self, request: HttpRequest, obj: Session, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.SESSION_FIELDS if name in form.cleaned_data}
        saved = services.session_save(admin=request.user, session=obj if change else None, data=data)  # type: ignore[arg-type]
        obj.pk = saved.pk


class TeamInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FilmTeamMember
    extra = 0
    autocomplete_fields = ["user"]


class NeedInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PostProductionNeed
    extra = 0


@admin.register(Film)
class FilmAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "session", "stage", "genre", "runtime_minutes"]
    list_filter = ["session", "stage", "genre"]
    search_fields = ["title", "original_title", "production_company"]
    readonly_fields = ["session"]
    inlines = [TeamInline, NeedInline]
    actions = ["select_into_session"]

    def save_model(self, request: HttpRequest, obj: Film, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.FILM_EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            services.film_update(user=request.user, film=obj, data=data)  # type: ignore[arg-type]
        else:
            obj.pk = services.film_create(admin=request.user, data=data).pk  # type: ignore[arg-type]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Team and need rows are written through the services, so each one is audited."""
        admin_user = request.user
        film: Film = form.instance
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, FilmTeamMember):
                services.film_team_remove(admin=admin_user, film=film, user=obj.user)  # type: ignore[arg-type]
            else:
                services.need_remove(user=admin_user, need=obj)  # type: ignore[arg-type]
        for obj in instances:
            if isinstance(obj, FilmTeamMember):
                services.film_team_assign(  # type: ignore[arg-type]
                    admin=admin_user, film=film, user=obj.user, organisation=obj.organisation
                )
            else:
                data = {name: getattr(obj, name) for name in services.NEED_FIELDS}
                if obj.pk:
                    services.need_update(user=admin_user, need=obj, data=data)  # type: ignore[arg-type]
                else:
                    services.need_add(user=admin_user, film=film, data=data)  # type: ignore[arg-type]

    @admin.action(description=_("Select into the session given in the filter"))
    def select_into_session(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        session_id = request.GET.get("session__id__exact")
        session = Session.objects.filter(pk=session_id).first() if session_id else None
        if session is None:
            self.message_user(request, _("Filter the list by a session first."), messages.ERROR)
            return
        for film in queryset:
            try:
                services.film_select(admin=request.user, film=film, session=session)  # type: ignore[arg-type]
            except DomainError as error:
                self.message_user(request, f"{film}: {error.message}", messages.ERROR)
