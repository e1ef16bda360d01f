"""The film-team rule: who produces a film. Its one home (docs/architecture.md, "Rules and their homes").

A user is on a film's team when a ``FilmTeamMember`` row links them to it; festival admins assign teams.
The team manages the film's page, its screener and its audience rules, answers offers as the producers'
side and confirms deliveries. Every service, selector, consumer and hand-written statement asks here:
``is_film_team`` for one film, ``film_team_q``/``films_of_team`` to filter, ``film_team_user_ids`` to
notify, ``film_team_organisation`` for whom a producer acts, ``film_team_sql`` inside SQL; a test proves
the SQL and the ORM agree.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.policy import is_festival_admin, require_ready
from core.errors import Forbidden
from festival.models import Film, FilmTeamMember


def is_film_team(user: User | AnonymousUser, film_id: int) -> bool:
    if not isinstance(user, User):
        return False
    return FilmTeamMember.objects.filter(film_id=film_id, user=user).exists()


def film_team_q(user: User, *, film_path: str = "") -> Q:
    """A filter on any model that reaches a film through ``film_path`` ("" for Film itself, "film")."""
    prefix = f"{film_path}__" if film_path else ""
    return Q(**{f"{prefix}team_members__user": user})


def film_team_exists(user_id: int, *, film_ref: str = "film_id") -> Exists:
    """``Exists`` for an annotation: the user is on the team of the film at ``OuterRef(film_ref)``."""
    return Exists(FilmTeamMember.objects.filter(film_id=OuterRef(film_ref), user_id=user_id))


def films_of_team(user: User) -> QuerySet[Film]:
    return Film.objects.filter(film_team_q(user)).distinct()


def film_team_user_ids(film_id: int) -> set[int]:
    return set(FilmTeamMember.objects.filter(film_id=film_id).values_list("user_id", flat=True))


def film_team_organisation(*, film_id: int, user_id: int | None = None) -> Organisation | None:
    """The organisation a producer acts for: that of ``user_id``'s seat on the film's team (None when they
    hold none); without ``user_id``, the first seat's (who signs when the signatory has left the team)."""
    seats = FilmTeamMember.objects.filter(film_id=film_id).select_related("organisation").order_by("pk")
    seat = seats.filter(user_id=user_id).first() if user_id is not None else seats.first()
    return seat.organisation if seat is not None else None


def film_team_sql(*, film: str, user: str) -> str:
    """``is_film_team`` as a SQL boolean: ``film`` and ``user`` are SQL expressions for the two ids
    (a column such as ``o.film_id`` or a placeholder such as ``%(user)s``)."""
    table = FilmTeamMember._meta.db_table
    return f"EXISTS(SELECT 1 FROM {table} t WHERE t.film_id = {film} AND t.user_id = {user})"  # noqa: S608


def may_manage_film(user: User | AnonymousUser, film_id: int) -> bool:
    """The film's team or a festival admin (no readiness check: see ``require_film_manager``)."""
    return is_festival_admin(user) or is_film_team(user, film_id)


def require_film_manager(user: User | AnonymousUser, film: Film, *, message: str | None = None) -> None:
    """A ready account on the film's team, or a festival admin; otherwise Forbidden ``not_film_team``."""
    require_ready(user)
    if not may_manage_film(user, film.pk):
        raise Forbidden(
            message or _("Only the film's producer team can manage this film."), code="not_film_team"
        )
