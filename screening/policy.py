"""Who may watch a film, decided afresh at every door (player page, grant, playlist, key, segment).

Every rule is read from the database at every request, in ONE query: the film (or the grant, its cut
and its film) with the facts the rules need about the viewer. ``decide`` then applies the rules to
those facts; it is the single place where the rules live. A refusal carries an HTTP status: 404 when
the viewer may not know the film or grant exists (pretix's convention), 403 with a reason when they
may know it but not watch it now.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from festival.models import Film, Session
from screening.models import Cut, PlaybackGrant, TerritoryMode

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    status: int = 403


class PlaybackRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def not_found() -> Refusal:
    return Refusal("not_found", _("No such film or screener."), 404)


@dataclass(frozen=True)
class Admission:
    """Why a viewer may watch: as the team or an admin (no audience rules), or as an accredited guest."""

    organisation_id: int | None
    category: str | None


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one viewer and one film, read in one query."""

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


# The facts as SQL over the film aliased "f" (PostgreSQL and SQLite alike). Hand-written because this runs
# on every playlist, key and segment request: building the same query with the ORM cost ten times more
# than running it. Parameters: ``_facts_params(user)``.
FACTS_SQL = """
    EXISTS(SELECT 1 FROM account_emailaddress e
           WHERE e.user_id = %s AND e.verified AND LOWER(e.email) = LOWER(%s)) AS email_verified,
    EXISTS(SELECT 1 FROM mfa_authenticator a WHERE a.user_id = %s AND a.type = 'totp') AS mfa,
    EXISTS(SELECT 1 FROM screening_accessrevocation r
           WHERE r.user_id = %s AND r.lifted_at IS NULL
             AND (r.film_id = f.id OR r.film_id IS NULL)) AS revoked,
    (SELECT t.organisation_id FROM festival_filmteammember t
     WHERE t.film_id = f.id AND t.user_id = %s LIMIT 1) AS team_org,
    (SELECT acc.id FROM accounts_accreditation acc
     WHERE acc.user_id = %s AND acc.session_id = f.session_id AND acc.status = 'approved' LIMIT 1) AS acc_id,
    (SELECT ar.id FROM screening_audiencerules ar WHERE ar.film_id = f.id) AS rules_id
"""
# Scalar subqueries rather than joins: PostgreSQL plans them in a fraction of the time a many-way join
# takes to plan, and planning, not execution, was most of the cost. The accreditation's details and the
# film's rules, when there are any, come from a second small query by primary key.
DETAILS_SQL = """
    SELECT acc.category, acc.organisation_id, o.country,
           ar.allowed_categories, ar.territory_mode, ar.territories, ar.max_plays_after_session,
           EXISTS(SELECT 1 FROM screening_audiencerules_blocked_organisations b
                  WHERE b.audiencerules_id = ar.id AND b.organisation_id = acc.organisation_id)
    FROM (SELECT 1) AS one
    LEFT JOIN accounts_accreditation acc ON acc.id = %s
    LEFT JOIN accounts_organisation o ON o.id = acc.organisation_id
    LEFT JOIN screening_audiencerules ar ON ar.id = %s
"""
FACTS_COLUMNS = 6


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str | bytes) else value)


def _facts(row: Sequence[Any]) -> Facts:
    email_verified, mfa, revoked, team_org, acc_id, rules_id = row[-FACTS_COLUMNS:]
    details: Sequence[Any] = [None, None, None, None, None, None, None, False]
    if team_org is None and (acc_id is not None or rules_id is not None):
        with connection.cursor() as cursor:
            cursor.execute(DETAILS_SQL, [acc_id, rules_id])
            details = cursor.fetchone() or details
    category, org, country, categories, mode, territories, cap, blocked = details
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


def _facts_params(user: User) -> list[Any]:
    return [user.pk, user.email, user.pk, user.pk, user.pk, user.pk]


def decide(facts: Facts, film: Film, user: User, at: dt.datetime, *, new_play: bool = False) -> Admission:
    """Apply the rules, in order, to ``facts``; raise PlaybackRefused on the first that fails."""
    if not facts.email_verified:
        raise PlaybackRefused(Refusal("email_unverified", _("Verify your email address before continuing.")))
    if not facts.mfa:
        raise PlaybackRefused(
            Refusal("mfa_required", _("Set up two-factor authentication (TOTP) before continuing."))
        )
    if not user.is_active:
        raise PlaybackRefused(not_found())
    if facts.revoked:
        raise PlaybackRefused(
            Refusal("access_revoked", _("An admin has revoked your access to this screener."))
        )
    if facts.team_org is not None:
        return Admission(organisation_id=facts.team_org, category=None)
    if user.is_staff:
        return Admission(organisation_id=None, category=None)
    session = film.session
    if session is None or facts.acc_category is None:
        raise PlaybackRefused(not_found())
    if not session.screening_window_open(at):
        raise PlaybackRefused(Refusal("window_closed", _("The screening window of this session is closed.")))
    if facts.rules_categories and facts.acc_category not in facts.rules_categories:
        raise PlaybackRefused(
            Refusal(
                "category_not_allowed", _("The producers have not opened this screener to your category.")
            )
        )
    if facts.org_blocked:
        raise PlaybackRefused(
            Refusal("organisation_blocked", _("The producers have not opened this screener to your company."))
        )
    mode, territories = facts.rules_mode, facts.rules_territories
    if (mode == TerritoryMode.ALLOW and facts.acc_country not in territories) or (
        mode == TerritoryMode.BLOCK and facts.acc_country in territories
    ):
        raise PlaybackRefused(
            Refusal("territory_blocked", _("This screener is not available in your company's territory."))
        )
    session_end = dt.datetime.combine(session.ends_on, dt.time.max, tzinfo=dt.UTC)
    if new_play and facts.rules_cap is not None and at > session_end:
        plays = PlaybackGrant.objects.filter(viewer=user, cut__film=film, created_at__gt=session_end).count()
        if plays >= facts.rules_cap:
            raise PlaybackRefused(
                Refusal("play_cap_reached", _("You have used every play allowed after the session."))
            )
    return Admission(organisation_id=facts.acc_org, category=facts.acc_category)


def admission(*, user: User, film: Film, at: dt.datetime | None = None, new_play: bool = False) -> Admission:
    """Admit ``user`` to watch ``film`` now, or raise PlaybackRefused with the first rule that fails.

    ``new_play`` is true when a grant is about to be issued: only then does the cap on plays after the
    session count (a grant already issued is one of the plays).
    """
    if not user.is_authenticated:
        raise PlaybackRefused(not_found())
    # Only constants and column names are formatted in; every value is a bound parameter.
    sql = f"SELECT {FACTS_SQL} FROM festival_film f WHERE f.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_facts_params(user), film.pk])
        row = cursor.fetchone()
    if row is None:
        raise PlaybackRefused(not_found())
    return decide(_facts(row), film, user, at or timezone.now(), new_play=new_play)


def grant_for_request(
    *, grant_id: str, user: User, device_hash: str, at: dt.datetime | None = None
) -> PlaybackGrant:
    """The live grant behind a playlist, key or segment request, with every rule re-checked.

    Someone else's grant, an unknown id or a grant used from another device is a 404: the requester
    may not learn that it exists. A grant that was theirs but ended or expired is a 403 saying why.
    """
    at = at or timezone.now()
    try:
        grant_uuid = uuid.UUID(str(grant_id))
    except ValueError:
        raise PlaybackRefused(not_found()) from None
    grant_pk = PlaybackGrant._meta.pk.get_db_prep_value(grant_uuid, connection)
    with connection.cursor() as cursor:
        cursor.execute(GRANT_SQL, [*_facts_params(user), grant_pk, user.pk, device_hash])
        row = cursor.fetchone()
    if row is None:
        raise PlaybackRefused(not_found())
    grant = _instance(PlaybackGrant, GRANT_FIELDS, row, 0)
    offset = len(GRANT_FIELDS)
    grant.cut = _instance(Cut, CUT_FIELDS, row, offset)
    offset += len(CUT_FIELDS)
    grant.cut.film = film = _instance(Film, FILM_FIELDS, row, offset)
    offset += len(FILM_FIELDS)
    film.session = _instance(Session, SESSION_FIELDS, row, offset) if film.session_id else None
    if grant.ended_at is not None:
        messages = {
            "superseded": _("Playback continued on another device: one stream at a time."),
            "revoked": _("An admin has revoked your access to this screener."),
        }
        message = messages.get(grant.end_reason, _("This playback has ended: press play again."))
        raise PlaybackRefused(Refusal(f"grant_{grant.end_reason or 'ended'}", message))
    if grant.expires_at <= at:
        raise PlaybackRefused(Refusal("grant_expired", _("This playback has expired: press play again.")))
    decide(_facts(row), film, user, at)
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
        "key_fetches",
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


def _columns(alias: str, fields: list[Field[Any, Any]]) -> str:
    return ", ".join(f"{alias}.{field.column}" for field in fields)


# Only constants and column names are formatted in; every value is a bound parameter.
GRANT_SQL = (
    f"SELECT {_columns('g', GRANT_FIELDS)}, {_columns('c', CUT_FIELDS)}, {_columns('f', FILM_FIELDS)}, "  # noqa: S608
    f"{_columns('s', SESSION_FIELDS)}, {FACTS_SQL} "
    "FROM screening_playbackgrant g JOIN screening_cut c ON c.id = g.cut_id "
    "JOIN festival_film f ON f.id = c.film_id LEFT JOIN festival_session s ON s.id = f.session_id "
    "WHERE g.id = %s AND g.viewer_id = %s AND g.device_hash = %s"
)


def _instance(model: type[M], fields: list[Field[Any, Any]], row: Sequence[Any], offset: int) -> M:
    """A read-only model instance from raw columns, converted as the ORM would (UUIDs, JSON, dates)."""
    values = {}
    for i, (field, column, converters) in enumerate(_converters(model, fields)):
        value = row[offset + i]
        for converter in converters:
            value = converter(value, column, connection)
        values[field.attname] = value
    return model(**values)


_CONVERTERS: dict[tuple[str, str], list[tuple[Field[Any, Any], Any, list[Any]]]] = {}


def _converters(
    model: type[Model], fields: list[Field[Any, Any]]
) -> list[tuple[Field[Any, Any], Any, list[Any]]]:
    """Each field's column and database converters, worked out once per model and database vendor."""
    key = (model._meta.label, connection.vendor)
    found = _CONVERTERS.get(key)
    if found is None:
        found = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            found.append(
                (
                    field,
                    column,
                    connection.ops.get_db_converters(column) + column.get_db_converters(connection),
                )
            )
        _CONVERTERS[key] = found
    return found
