"""Who may watch a film, decided afresh at every door (player page, grant, playlist, key, segment).

Every rule is read from the database at every request, in ONE query: the film (or the grant and its
film) annotated with the facts the rules need about the viewer. ``decide`` then applies the rules to
those facts; it is the single place where the rules live. A refusal carries an HTTP status: 404 when
the viewer may not know the film or grant exists (pretix's convention), 403 with a reason when they
may know it but not watch it now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Accreditation, AccreditationStatus, User
from festival.models import Film, FilmTeamMember
from screening.models import AccessRevocation, AudienceRules, PlaybackGrant, TerritoryMode


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


def _facts(user: User, film_path: str) -> dict[str, Any]:
    """Annotations that bring every fact about ``user`` the rules need onto a row that reaches a film
    through ``film_path`` ("" for a Film queryset, "cut__film__" for a grant)."""
    film = OuterRef(f"{film_path}pk" if film_path else "pk")
    session = OuterRef(f"{film_path}session_id")
    accreditation = Accreditation.objects.filter(
        user_id=user.pk, session_id=session, status=AccreditationStatus.APPROVED
    )
    rules = AudienceRules.objects.filter(film_id=film)
    return {
        "_email_verified": Exists(
            EmailAddress.objects.filter(user_id=user.pk, verified=True, email__iexact=user.email)
        ),
        "_mfa": Exists(Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP)),
        "_revoked": Exists(
            AccessRevocation.objects.filter(
                Q(film_id=film) | Q(film__isnull=True), user_id=user.pk, lifted_at__isnull=True
            )
        ),
        "_team_org": Subquery(
            FilmTeamMember.objects.filter(film_id=film, user_id=user.pk).values("organisation_id")[:1]
        ),
        "_acc_category": Subquery(accreditation.values("category")[:1]),
        "_acc_org": Subquery(accreditation.values("organisation_id")[:1]),
        "_acc_country": Subquery(accreditation.values("organisation__country")[:1]),
        "_rules_categories": Subquery(rules.values("allowed_categories")[:1]),
        "_rules_mode": Subquery(rules.values("territory_mode")[:1]),
        "_rules_territories": Subquery(rules.values("territories")[:1]),
        "_rules_cap": Subquery(rules.values("max_plays_after_session")[:1]),
        "_org_blocked": Exists(
            AudienceRules.blocked_organisations.through.objects.filter(
                audiencerules__film_id=film,
                organisation__accreditations__user_id=user.pk,
                organisation__accreditations__session_id=session,
                organisation__accreditations__status=AccreditationStatus.APPROVED,
            )
        ),
    }


def decide(row: Any, film: Film, user: User, at: dt.datetime, *, new_play: bool = False) -> Admission:
    """Apply the rules, in order, to the facts annotated on ``row``; raise PlaybackRefused on the first
    that fails."""
    if not row._email_verified:
        raise PlaybackRefused(Refusal("email_unverified", _("Verify your email address before continuing.")))
    if not row._mfa:
        raise PlaybackRefused(
            Refusal("mfa_required", _("Set up two-factor authentication (TOTP) before continuing."))
        )
    if not user.is_active:
        raise PlaybackRefused(not_found())
    if row._revoked:
        raise PlaybackRefused(
            Refusal("access_revoked", _("An admin has revoked your access to this screener."))
        )
    if row._team_org is not None:
        return Admission(organisation_id=row._team_org, category=None)
    if user.is_staff:
        return Admission(organisation_id=None, category=None)
    session = film.session
    if session is None or row._acc_category is None:
        raise PlaybackRefused(not_found())
    if not session.screening_window_open(at):
        raise PlaybackRefused(Refusal("window_closed", _("The screening window of this session is closed.")))
    if row._rules_categories and row._acc_category not in row._rules_categories:
        raise PlaybackRefused(
            Refusal(
                "category_not_allowed", _("The producers have not opened this screener to your category.")
            )
        )
    if row._org_blocked:
        raise PlaybackRefused(
            Refusal("organisation_blocked", _("The producers have not opened this screener to your company."))
        )
    mode, territories = row._rules_mode, row._rules_territories or []
    if (mode == TerritoryMode.ALLOW and row._acc_country not in territories) or (
        mode == TerritoryMode.BLOCK and row._acc_country in territories
    ):
        raise PlaybackRefused(
            Refusal("territory_blocked", _("This screener is not available in your company's territory."))
        )
    session_end = dt.datetime.combine(session.ends_on, dt.time.max, tzinfo=dt.UTC)
    if new_play and row._rules_cap is not None and at > session_end:
        plays = PlaybackGrant.objects.filter(viewer=user, cut__film=film, created_at__gt=session_end).count()
        if plays >= row._rules_cap:
            raise PlaybackRefused(
                Refusal("play_cap_reached", _("You have used every play allowed after the session."))
            )
    return Admission(organisation_id=row._acc_org, category=row._acc_category)


def admission(*, user: User, film: Film, at: dt.datetime | None = None, new_play: bool = False) -> Admission:
    """Admit ``user`` to watch ``film`` now, or raise PlaybackRefused with the first rule that fails.

    ``new_play`` is true when a grant is about to be issued: only then does the cap on plays after the
    session count (a grant already issued is one of the plays).
    """
    if not user.is_authenticated:
        raise PlaybackRefused(not_found())
    row = Film.objects.select_related("session").annotate(**_facts(user, "")).get(pk=film.pk)
    return decide(row, row, user, at or timezone.now(), new_play=new_play)


def grant_for_request(
    *, grant_id: str, user: User, device_hash: str, at: dt.datetime | None = None
) -> PlaybackGrant:
    """The live grant behind a playlist, key or segment request, with every rule re-checked.

    Someone else's grant, an unknown id or a grant used from another device is a 404: the requester
    may not learn that it exists. A grant that was theirs but ended or expired is a 403 saying why.
    """
    at = at or timezone.now()
    grant = (
        PlaybackGrant.objects.select_related("cut", "cut__film", "cut__film__session")
        .annotate(**_facts(user, "cut__film__"))
        .filter(pk=grant_id, viewer_id=user.pk, device_hash=device_hash)
        .first()
    )
    if grant is None:
        raise PlaybackRefused(not_found())
    if grant.ended_at is not None:
        messages = {
            "superseded": _("Playback continued on another device: one stream at a time."),
            "revoked": _("An admin has revoked your access to this screener."),
        }
        message = messages.get(grant.end_reason, _("This playback has ended: press play again."))
        raise PlaybackRefused(Refusal(f"grant_{grant.end_reason or 'ended'}", message))
    if grant.expires_at <= at:
        raise PlaybackRefused(Refusal("grant_expired", _("This playback has expired: press play again.")))
    decide(grant, grant.cut.film, user, at)
    return grant
