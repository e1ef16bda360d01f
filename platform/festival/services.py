"""Writes for editions, sessions, films, their selection, producer teams and post-production needs.

Festival admins run the programme (editions, sessions, films, selection, teams); a film's team (or an
admin) edits its presentation, poster and needs. Each write runs in one transaction with its audit entry,
which names the organisation the actor acted for: a producer acts for the organisation of their seat on
the film's team; festival admins act for the festival, which is no organisation (``None``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from accounts.models import Membership, Organisation, User
from accounts.policy import require_festival_admin
from audit.services import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from festival.models import Edition, Film, FilmTeamMember, PostProductionNeed, Session
from festival.policy import film_team_organisation, require_film_manager

FILM_EDITABLE_FIELDS = (
    "title",
    "original_title",
    "directors",
    "countries",
    "production_company",
    "synopsis_es",
    "synopsis_fr",
    "synopsis_en",
    "logline_es",
    "logline_fr",
    "logline_en",
    "runtime_minutes",
    "stage",
    "genre",
)
SESSION_FIELDS = (
    "edition",
    "name",
    "city",
    "country",
    "venue",
    "starts_on",
    "ends_on",
    "screening_days_after_end",
    "max_films",
)
NEED_FIELDS = ("category", "estimated_cost_minor", "secured_minor", "currency", "notes")


def _require_admin(user: User) -> None:
    require_festival_admin(user)


def _require_team(user: User, film: Film) -> Organisation | None:
    """The film's team or a festival admin (festival.policy); returns the organisation the actor acts for."""
    require_film_manager(user, film, message=_("Only the film's producer team can edit it."))
    return film_team_organisation(film_id=film.pk, user_id=user.pk)


def _full_clean(instance: Any, exclude: Iterable[str] = ()) -> None:
    """Model validation as a DomainError naming the first field at fault."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(str(messages[0]), field=None if field == "__all__" else field) from exc


def _snapshot(instance: Any, fields: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Edition):
            value = value.pk
        elif name == "countries" or isinstance(value, list):
            value = [getattr(v, "code", v) for v in value]
        elif hasattr(value, "code") and not isinstance(value, str):  # a django-countries Country
            value = value.code
        out[name] = value
    return out


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {k: {"from": before[k], "to": after[k]} for k in after if before.get(k) != after[k]}


# --- Editions and sessions ----------------------------------------------------------------------


def edition_create(*, admin: User, year: int, name: str) -> Edition:
    _require_admin(admin)
    with transaction.atomic():
        if Edition.objects.filter(year=year).exists():
            raise Conflict(_("An edition already exists for %(year)s.") % {"year": year}, field="year")
        edition = Edition(year=year, name=name)
        _full_clean(edition)
        edition.save()
        audit_record(action="edition.created", actor=admin, target=edition, data={"year": year, "name": name})
    return edition


def edition_rename(*, admin: User, edition: Edition, name: str) -> Edition:
    _require_admin(admin)
    with transaction.atomic():
        locked = Edition.objects.select_for_update().get(pk=edition.pk)
        before = locked.name
        locked.name = " ".join(name.split())
        _full_clean(locked)
        locked.save(update_fields=["name"])
        audit_record(
            action="edition.renamed",
            actor=admin,
            target=locked,
            data={"changes": {"name": {"from": before, "to": locked.name}}},
        )
    return locked


def session_save(*, admin: User, session: Session | None = None, data: Mapping[str, Any]) -> Session:
    """Create a session (``session`` is None) or change one; the change set goes to the audit log."""
    _require_admin(admin)
    unknown = set(data) - set(SESSION_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown field: %(field)s") % {"field": sorted(unknown)[0]}, field=sorted(unknown)[0]
        )
    with transaction.atomic():
        creating = session is None
        instance = Session() if session is None else Session.objects.select_for_update().get(pk=session.pk)
        before = {} if creating else _snapshot(instance, SESSION_FIELDS)
        for name, value in data.items():
            setattr(instance, name, value)
        if instance.ends_on and instance.starts_on and instance.ends_on < instance.starts_on:
            raise InvalidInput(_("A session cannot end before it starts."), field="ends_on")
        _full_clean(instance)
        if not creating and instance.max_films < instance.films.count():
            raise Conflict(_("More films are already selected than this limit allows."), field="max_films")
        instance.save()
        after = _snapshot(instance, SESSION_FIELDS)
        audit_record(
            action="session.created" if creating else "session.updated",
            actor=admin,
            target=instance,
            data=after if creating else {"changes": _changes(before, after)},
        )
    return instance


# --- Films and selection ------------------------------------------------------------------------


def _apply_film_fields(film: Film, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(FILM_EDITABLE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(_("Unknown field: %(field)s") % {"field": field}, field=field)
    for name, value in data.items():
        if name == "directors":
            if not isinstance(value, list) or not all(isinstance(d, str) and d.strip() for d in value):
                raise InvalidInput(_("Directors must be a list of names."), field="directors")
            value = [" ".join(d.split()) for d in value]
        setattr(film, name, value)
    if not film.directors:
        raise InvalidInput(_("Name at least one director."), field="directors")
    _full_clean(film, exclude=["session", "poster"])


def film_create(*, admin: User, data: Mapping[str, Any], session: Session | None = None) -> Film:
    _require_admin(admin)
    with transaction.atomic():
        film = Film()
        _apply_film_fields(film, data)
        film.save()
        audit_record(action="film.created", actor=admin, target=film, data=_snapshot(film, data.keys()))
        if session is not None:
            film_select(admin=admin, film=film, session=session)
    return film


def film_update(*, user: User, film: Film, data: Mapping[str, Any]) -> Film:
    """A producer (or an admin) edits the film's presentation."""
    acting_for = _require_team(user, film)
    with transaction.atomic():
        locked = Film.objects.select_for_update().get(pk=film.pk)
        before = _snapshot(locked, data.keys())
        _apply_film_fields(locked, data)
        locked.save()
        changes = _changes(before, _snapshot(locked, data.keys()))
        if changes:
            audit_record(
                action="film.updated",
                actor=user,
                organisation=acting_for,
                target=locked,
                data={"changes": changes},
            )
    return locked


def film_set_poster(*, user: User, film: Film, poster: UploadedFile) -> Film:
    acting_for = _require_team(user, film)
    if poster.size is None or poster.size > settings.POSTER_MAX_BYTES:
        raise InvalidInput(_("The image is too large."), field="poster")
    try:
        with Image.open(poster) as image:
            image.verify()
            if image.format not in {"JPEG", "PNG", "WEBP"}:
                raise InvalidInput(_("Upload a JPEG, PNG or WebP image."), field="poster")
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInput(_("This file is not an image."), field="poster") from exc
    poster.seek(0)
    with transaction.atomic():
        locked = Film.objects.select_for_update().get(pk=film.pk)
        locked.poster.save(f"film-{film.pk}-{poster.name}", poster, save=True)
        audit_record(
            action="film.poster_changed",
            actor=user,
            organisation=acting_for,
            target=locked,
            data={"name": locked.poster.name},
        )
    return locked


def film_select(*, admin: User, film: Film, session: Session) -> Film:
    """Select ``film`` into ``session``; the session's film limit holds even under concurrent selections."""
    _require_admin(admin)
    with transaction.atomic():
        locked_session = Session.objects.select_for_update().get(pk=session.pk)
        locked_film = Film.objects.select_for_update().get(pk=film.pk)
        if locked_film.session_id == locked_session.pk:
            return locked_film
        if locked_session.films.count() >= locked_session.max_films:
            raise Conflict(
                _("%(session)s already has its %(count)s films.")
                % {"session": locked_session.name, "count": locked_session.max_films},
                code="session_full",
                field="session",
            )
        previous = locked_film.session_id
        locked_film.session = locked_session
        locked_film.save(update_fields=["session", "updated_at"])
        audit_record(
            action="film.selected",
            actor=admin,
            target=locked_film,
            data={"session_id": locked_session.pk, "previous_session_id": previous},
        )
    return locked_film


def film_team_assign(*, admin: User, film: Film, user: User, organisation: Organisation) -> FilmTeamMember:
    _require_admin(admin)
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise InvalidInput(_("The producer must belong to the organisation."), field="organisation")
    with transaction.atomic():
        member, created = FilmTeamMember.objects.get_or_create(
            film=film, user=user, defaults={"organisation": organisation}
        )
        if created:
            audit_record(
                action="film.team_member_added",
                actor=admin,
                target=film,
                data={"user_id": user.pk, "organisation_id": organisation.pk},
            )
    return member


def film_team_remove(*, admin: User, film: Film, user: User) -> None:
    _require_admin(admin)
    with transaction.atomic():
        deleted, _unused = FilmTeamMember.objects.filter(film=film, user=user).delete()
        if not deleted:
            raise NotFound(_("This person is not on the film's team."))
        audit_record(action="film.team_member_removed", actor=admin, target=film, data={"user_id": user.pk})


# --- Post-production needs ----------------------------------------------------------------------


def _apply_need_fields(need: PostProductionNeed, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(NEED_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(_("Unknown field: %(field)s") % {"field": field}, field=field)
    for name in ("estimated_cost_minor", "secured_minor"):
        if name in data and (
            not isinstance(data[name], int) or isinstance(data[name], bool) or data[name] < 0
        ):
            raise InvalidInput(_("Amounts are whole, non-negative numbers of minor units."), field=name)
    for name, value in data.items():
        setattr(need, name, value)
    if need.secured_minor > need.estimated_cost_minor:
        raise InvalidInput(_("The secured amount cannot exceed the estimated cost."), field="secured_minor")
    _full_clean(need, exclude=["film"])


def need_add(*, user: User, film: Film, data: Mapping[str, Any]) -> PostProductionNeed:
    acting_for = _require_team(user, film)
    with transaction.atomic():
        need = PostProductionNeed(film=film)
        _apply_need_fields(need, data)
        need.save()
        audit_record(
            action="film.need_added",
            actor=user,
            organisation=acting_for,
            target=film,
            data={"need_id": need.pk, **_snapshot(need, NEED_FIELDS)},
        )
    return need


def need_update(*, user: User, need: PostProductionNeed, data: Mapping[str, Any]) -> PostProductionNeed:
    acting_for = _require_team(user, need.film)
    with transaction.atomic():
        locked = PostProductionNeed.objects.select_for_update().get(pk=need.pk)
        before = _snapshot(locked, NEED_FIELDS)
        _apply_need_fields(locked, data)
        locked.save()
        changes = _changes(before, _snapshot(locked, NEED_FIELDS))
        if changes:
            audit_record(
                action="film.need_updated",
                actor=user,
                organisation=acting_for,
                target=locked.film,
                data={"need_id": locked.pk, "changes": changes},
            )
    return locked


def need_remove(*, user: User, need: PostProductionNeed) -> None:
    acting_for = _require_team(user, need.film)
    with transaction.atomic():
        snapshot = _snapshot(need, NEED_FIELDS)
        film = need.film
        need_id = need.pk
        need.delete()
        audit_record(
            action="film.need_removed",
            actor=user,
            organisation=acting_for,
            target=film,
            data={"need_id": need_id, **snapshot},
        )
