"""Who may watch a film, decided afresh at every door (player page, grant, playlist, key, segment), and
who manages its screener.

Every rule is read from the database at every request, in ONE query: the film (or the grant, its cut,
its film and its viewer) with the facts the rules need about the viewer. ``decide`` then applies the
rules to those facts; it is the single place where the rules live. A refusal is a ``core.errors``
error carrying its ``Refusal`` (code, message, HTTP status): 404 when the viewer may not know the film
or grant exists (pretix's convention), 403 with a reason when they may know it but not watch it now.

The facts' statement is built from the rules' own homes: readiness from ``accounts.policy``'s SQL
fragments, the team from ``festival.policy``'s table (a test proves the facts and the ORM rules agree).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.base import DEFERRED
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import Readiness, email_verified_sql, mfa_sql
from core.errors import Refusal
from festival.models import Film, Session
from festival.policy import require_film_manager
from screening.models import Cut, PlaybackGrant, TerritoryMode

M = TypeVar("M", bound=Model)


def not_found() -> Refusal:
    return Refusal("not_found", _("No such film or screener."), 404)


def require_screener_manager(*, user: User, film: Film) -> None:
    """The film-team rule (``festival.policy.require_film_manager``), in the screener's words."""
    require_film_manager(user, film, message=_("Only the film's producer team can manage its screener."))


@dataclass(frozen=True)
class Admission:
    """Why a viewer may watch: as the team or an admin (no audience rules), or as an accredited guest."""

    organisation_id: int | None
    category: str | None


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one viewer and one film, read in the same query as the rest."""

    email_verified: bool
    mfa: bool
    revoked: bool
    team_org: int | None
    acc_category: str | None
    acc_org: int | None
    acc_country: str | None
    rules_categories: list[str]
    rules_mode: str | None
    rules_territories: list[str]
    rules_cap: int | None
    org_blocked: bool


# The facts as SQL over the film aliased "f" and the viewer aliased "u" (PostgreSQL and SQLite alike), with
# FACTS_JOINS in the FROM clause. Hand-written because this runs on every playlist and key request: building
# the same query with the ORM cost ten times more than running it. The viewer has at most one approved
# accreditation per session (a unique constraint) and a film at most one set of rules, so the joins add
# no rows. Planning this statement costs more than running it (about 1 ms on PostgreSQL against 0.3 ms):
# the lean front (screening.door_backends) prepares it once per connection; Django's cursors bind
# client-side and cannot, so the Django views (heartbeats, app-served segments) pay the planning.
# Readiness is accounts.policy's SQL. The team column is the organisation a team member produces the film
# for (``festival.policy.film_team_organisation``, the one they watch and act for), where
# ``festival.policy.film_team_sql`` gives only whether the row exists: so it keeps its own subselect of
# the team table, and tests/screening/test_policy_facts.py proves it agrees with the festival policy.
FACTS_SQL = f"""
    {email_verified_sql("u")} AS email_verified,
    {mfa_sql("u")} AS mfa,
    EXISTS(SELECT 1 FROM screening_accessrevocation r
           WHERE r.user_id = u.id AND r.lifted_at IS NULL
             AND (r.film_id = f.id OR r.film_id IS NULL)) AS revoked,
    (SELECT t.organisation_id FROM festival_filmteammember t
     WHERE t.film_id = f.id AND t.user_id = u.id LIMIT 1) AS team_org,
    acc.category, acc.organisation_id, o.country,
    ar.allowed_categories, ar.territory_mode, ar.territories, ar.max_plays_after_session,
    EXISTS(SELECT 1 FROM screening_audiencerules_blocked_organisations b
           WHERE b.audiencerules_id = ar.id AND b.organisation_id = acc.organisation_id) AS org_blocked
"""  # noqa: S608 (SQL fragments and table names only; every value is a bound parameter)
FACTS_JOINS = """
    LEFT JOIN accounts_accreditation acc
           ON acc.user_id = u.id AND acc.session_id = f.session_id AND acc.status = 'approved'
    LEFT JOIN accounts_organisation o ON o.id = acc.organisation_id
    LEFT JOIN screening_audiencerules ar ON ar.film_id = f.id
"""
FACTS_COLUMNS = 12


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str | bytes) else value)


def _facts(row: Sequence[Any]) -> Facts:
    (
        email_verified,
        mfa,
        revoked,
        team_org,
        category,
        org,
        country,
        categories,
        mode,
        territories,
        cap,
        blocked,
    ) = row[-FACTS_COLUMNS:]
    return Facts(
        email_verified=bool(email_verified),
        mfa=bool(mfa),
        revoked=bool(revoked),
        team_org=team_org,
        acc_category=category,
        acc_org=org,
        acc_country=country,
        rules_categories=_json_list(categories),
        rules_mode=mode,
        rules_territories=_json_list(territories),
        rules_cap=cap,
        org_blocked=bool(blocked),
    )


def decide(facts: Facts, film: Film, user: User, at: dt.datetime, *, new_play: bool = False) -> Admission:
    """Apply the rules, in order, to ``facts``; raise the first that fails (``Refusal.error()``:
    a ``core.errors.DomainError`` carrying the refusal)."""
    readiness = Readiness(email_verified=facts.email_verified, mfa_enabled=facts.mfa).refusal()
    if readiness is not None:
        raise readiness.error()
    if not user.is_active:
        raise not_found().error()
    if facts.revoked:
        raise Refusal("access_revoked", _("An admin has revoked your access to this screener.")).error()
    if facts.team_org is not None:
        return Admission(organisation_id=facts.team_org, category=None)
    if user.is_staff:
        return Admission(organisation_id=None, category=None)
    session = film.session
    if session is None or facts.acc_category is None:
        raise not_found().error()
    if not session.screening_window_open(at):
        raise Refusal("window_closed", _("The screening window of this session is closed.")).error()
    if facts.rules_categories and facts.acc_category not in facts.rules_categories:
        raise Refusal(
            "category_not_allowed", _("The producers have not opened this screener to your category.")
        ).error()
    if facts.org_blocked:
        raise Refusal(
            "organisation_blocked", _("The producers have not opened this screener to your company.")
        ).error()
    mode, territories = facts.rules_mode, facts.rules_territories
    if (mode == TerritoryMode.ALLOW and facts.acc_country not in territories) or (
        mode == TerritoryMode.BLOCK and facts.acc_country in territories
    ):
        raise Refusal(
            "territory_blocked", _("This screener is not available in your company's territory.")
        ).error()
    session_end = dt.datetime.combine(session.ends_on, dt.time.max, tzinfo=dt.UTC)
    if new_play and facts.rules_cap is not None and at > session_end:
        plays = PlaybackGrant.objects.filter(viewer=user, cut__film=film, created_at__gt=session_end).count()
        if plays >= facts.rules_cap:
            raise Refusal(
                "play_cap_reached", _("You have used every play allowed after the session.")
            ).error()
    return Admission(organisation_id=facts.acc_org, category=facts.acc_category)


def admission(*, user: User, film: Film, at: dt.datetime | None = None, new_play: bool = False) -> Admission:
    """Admit ``user`` to watch ``film`` now, or raise the refusal of the first rule that fails.

    ``new_play`` is true when a grant is about to be issued: only then does the cap on plays after the
    session count (a grant already issued is one of the plays).
    """
    facts = admission_facts(user=user, film=film) if user.is_authenticated else None
    if facts is None:
        raise not_found().error()
    return decide(facts, film, user, at or timezone.now(), new_play=new_play)


def admission_facts(*, user: User, film: Film) -> Facts | None:
    """What the rules know about ``user`` and ``film`` (``ADMISSION_SQL``); None when either is gone."""
    with connection.cursor() as cursor:
        cursor.execute(ADMISSION_SQL, [user.pk, film.pk])
        row = cursor.fetchone()
    return None if row is None else _facts(row)


def grant_lookup(grant_id: str, db: BaseDatabaseWrapper) -> Any | None:
    """The primary key of ``grant_id`` as ``db`` stores it, or None when it is not a grant id at all."""
    try:
        grant_uuid = uuid.UUID(str(grant_id))
    except ValueError:
        return None
    return PlaybackGrant._meta.pk.get_db_prep_value(grant_uuid, db)


def grant_for_request(
    *, grant_id: str, user: User, device_hash: str, at: dt.datetime | None = None
) -> PlaybackGrant:
    """The live grant behind a playlist, key or segment request, with every rule re-checked."""
    grant_pk = grant_lookup(grant_id, connection)
    row = None
    if grant_pk is not None:
        with connection.cursor() as cursor:
            cursor.execute(GRANT_SQL, [grant_pk, user.pk, device_hash])
            row = cursor.fetchone()
    return grant_from_row(row, connection, at=at or timezone.now())


def grant_from_row(row: Sequence[Any] | None, db: BaseDatabaseWrapper, *, at: dt.datetime) -> PlaybackGrant:
    """Check one GRANT_SQL row: the grant, its cut, film and session, its viewer and the facts.

    Someone else's grant, an unknown id or a grant used from another device has no row: a 404, the
    requester may not learn that it exists. A grant that was theirs but ended or expired is a 403 saying
    why; then every rule of ``decide`` applies. ``grant.viewer`` is the viewer as read in the same row.
    """
    if row is None:
        raise not_found().error()
    grant = _instance(PlaybackGrant, GRANT_FIELDS, row, 0, db)
    offset = len(GRANT_FIELDS)
    grant.cut = _instance(Cut, CUT_FIELDS, row, offset, db)
    offset += len(CUT_FIELDS)
    grant.cut.film = film = _instance(Film, FILM_FIELDS, row, offset, db)
    offset += len(FILM_FIELDS)
    film.session = _instance(Session, SESSION_FIELDS, row, offset, db) if film.session_id else None
    grant.viewer = viewer = grant_viewer(row, db)
    if grant.ended_at is not None:
        messages = {
            "superseded": _("Playback continued on another device: one stream at a time."),
            "revoked": _("An admin has revoked your access to this screener."),
        }
        message = messages.get(grant.end_reason, _("This playback has ended: press play again."))
        raise Refusal(f"grant_{grant.end_reason or 'ended'}", message).error()
    if grant.expires_at <= at:
        raise Refusal("grant_expired", _("This playback has expired: press play again.")).error()
    decide(_facts(row), film, viewer, at)
    return grant


def _concrete(model: type[Model], names: Iterable[str]) -> list[Field[Any, Any]]:
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


GRANT_FIELDS = _concrete(
    PlaybackGrant,
    [
        "id",
        "viewer",
        "organisation",
        "cut",
        "device_hash",
        "created_at",
        "expires_at",
        "ended_at",
        "end_reason",
    ],
)
CUT_FIELDS = _concrete(
    Cut,
    [
        "id",
        "public_id",
        "film",
        "number",
        "status",
        "duration_s",
        "renditions",
        "segment_count",
        "segment_seconds",
        "sealed_key",
    ],
)
FILM_FIELDS = _concrete(Film, ["id", "session", "title"])
SESSION_FIELDS = _concrete(Session, ["id", "starts_on", "ends_on", "screening_days_after_end"])
# What deciding and authenticating need about the viewer: the password hash is only ever used for the
# session hash check (Django's get_session_auth_hash), never leaves the server.
USER_FIELDS = _concrete(User, ["id", "password", "email", "is_active", "is_staff", "language"])


VIEWER_OFFSET = len(GRANT_FIELDS) + len(CUT_FIELDS) + len(FILM_FIELDS) + len(SESSION_FIELDS)
SESSION_DATA_OFFSET = VIEWER_OFFSET + len(USER_FIELDS)


def grant_viewer(row: Sequence[Any], db: BaseDatabaseWrapper) -> User:
    """The viewer as read in a grant row (the lean front authenticates the session against it)."""
    return _instance(User, USER_FIELDS, row, VIEWER_OFFSET, db)


def grant_session_data(row: Sequence[Any]) -> str | None:
    """The encoded data of the session in a GRANT_SESSION_SQL row; None when it is gone or expired."""
    value = row[SESSION_DATA_OFFSET]
    return None if value is None else str(value)


def _columns(alias: str, fields: list[Field[Any, Any]]) -> str:
    return ", ".join(f"{alias}.{field.column}" for field in fields)


# Only constants and column names are formatted in; every value is a bound parameter.
ADMISSION_SQL = (
    f"SELECT {FACTS_SQL} FROM festival_film f JOIN accounts_user u ON u.id = %s {FACTS_JOINS} "  # noqa: S608
    "WHERE f.id = %s"
)
_GRANT_COLUMNS = (
    f"{_columns('g', GRANT_FIELDS)}, {_columns('c', CUT_FIELDS)}, {_columns('f', FILM_FIELDS)}, "
    f"{_columns('s', SESSION_FIELDS)}, {_columns('u', USER_FIELDS)}"
)
_GRANT_FROM = (
    "FROM screening_playbackgrant g JOIN screening_cut c ON c.id = g.cut_id "
    "JOIN festival_film f ON f.id = c.film_id LEFT JOIN festival_session s ON s.id = f.session_id "
    f"JOIN accounts_user u ON u.id = g.viewer_id {FACTS_JOINS}"
)
# Parameters: grant id, viewer id, device hash.
GRANT_SQL = (
    f"SELECT {_GRANT_COLUMNS}, {FACTS_SQL} {_GRANT_FROM} "  # noqa: S608
    "WHERE g.id = %s AND g.viewer_id = %s AND g.device_hash = %s"
)
# The lean front's statement: the same row plus the request's session (django_session, which the db and
# cached_db engines both write through to), so that one round trip carries the session, the grant and
# every fact. The caller checks that the session is the grant's viewer's. Parameters: session key, now,
# grant id, device hash.
GRANT_SESSION_SQL = (
    f"SELECT {_GRANT_COLUMNS}, ds.session_data, {FACTS_SQL} {_GRANT_FROM} "  # noqa: S608
    "LEFT JOIN django_session ds ON ds.session_key = %s AND ds.expire_date > %s "
    "WHERE g.id = %s AND g.device_hash = %s"
)


def _instance(
    model: type[M], fields: list[Field[Any, Any]], row: Sequence[Any], offset: int, db: BaseDatabaseWrapper
) -> M:
    """A read-only model instance from raw columns, converted as the ORM would (UUIDs, JSON, dates).

    Built as the ORM builds query results (``from_db``); the fields not read are deferred.
    """
    values = {}
    for i, (field, column, converters) in enumerate(_converters(model, fields, db)):
        value = row[offset + i]
        for converter in converters:
            value = converter(value, column, db)
        values[field.attname] = value
    names = _attnames(model)
    return model.from_db(db.alias, list(values), [values.get(name, DEFERRED) for name in names])


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


_CONVERTERS: dict[tuple[str, str], list[tuple[Field[Any, Any], Any, list[Any]]]] = {}


def _converters(
    model: type[Model], fields: list[Field[Any, Any]], db: BaseDatabaseWrapper
) -> list[tuple[Field[Any, Any], Any, list[Any]]]:
    """Each field's column and database converters, worked out once per model and database vendor."""
    key = (model._meta.label, db.vendor)
    found = _CONVERTERS.get(key)
    if found is None:
        found = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            found.append((field, column, db.ops.get_db_converters(column) + column.get_db_converters(db)))
        _CONVERTERS[key] = found
    return found
