"""Who may watch a film, decided afresh at every door (player page, grant, playlist, key, segment).

A refusal carries an HTTP status: 404 when the viewer may not know the film or grant exists (pretix's
convention), 403 with a reason when they may know it but not watch it now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Accreditation, AccreditationStatus, User
from accounts.policy import account_readiness, is_festival_admin
from festival.models import Film
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
    accreditation: Accreditation | None


def _active_revocation(user: User, film: Film) -> bool:
    return AccessRevocation.objects.filter(
        Q(film=film) | Q(film__isnull=True), user=user, lifted_at__isnull=True
    ).exists()


def admission(*, user: User, film: Film, at: dt.datetime | None = None, new_play: bool = False) -> Admission:
    """Admit ``user`` to watch ``film`` now, or raise PlaybackRefused with the first rule that fails.

    ``new_play`` is true when a grant is about to be issued: only then does the cap on plays after the
    session count (a grant already issued is one of the plays).
    """
    at = at or timezone.now()
    refusal = account_readiness(user).refusal()
    if refusal:
        raise PlaybackRefused(Refusal(refusal[0], refusal[1]))
    if _active_revocation(user, film):
        raise PlaybackRefused(
            Refusal("access_revoked", _("An admin has revoked your access to this screener."))
        )
    team = film.team_members.filter(user=user).first()
    if team is not None:
        return Admission(organisation_id=team.organisation_id, accreditation=None)
    if is_festival_admin(user):
        return Admission(organisation_id=None, accreditation=None)
    session = film.session
    accreditation = (
        Accreditation.objects.select_related("organisation")
        .filter(user=user, session=session, status=AccreditationStatus.APPROVED)
        .first()
        if session is not None
        else None
    )
    if session is None or accreditation is None:
        raise PlaybackRefused(not_found())
    if not session.screening_window_open(at):
        raise PlaybackRefused(Refusal("window_closed", _("The screening window of this session is closed.")))
    rules = AudienceRules.objects.filter(film=film).first()
    if rules is not None:
        _check_rules(rules, accreditation, film, at, new_play)
    return Admission(organisation_id=accreditation.organisation_id, accreditation=accreditation)


def _check_rules(
    rules: AudienceRules, accreditation: Accreditation, film: Film, at: dt.datetime, new_play: bool
) -> None:
    organisation = accreditation.organisation
    if rules.allowed_categories and accreditation.category not in rules.allowed_categories:
        raise PlaybackRefused(
            Refusal(
                "category_not_allowed", _("The producers have not opened this screener to your category.")
            )
        )
    if rules.blocked_organisations.filter(pk=organisation.pk).exists():
        raise PlaybackRefused(
            Refusal("organisation_blocked", _("The producers have not opened this screener to your company."))
        )
    country = organisation.country.code
    if (rules.territory_mode == TerritoryMode.ALLOW and country not in rules.territories) or (
        rules.territory_mode == TerritoryMode.BLOCK and country in rules.territories
    ):
        raise PlaybackRefused(
            Refusal("territory_blocked", _("This screener is not available in your company's territory."))
        )
    session = film.session
    if session is None:  # admission() only reaches here for a film in a session
        return
    session_end = dt.datetime.combine(session.ends_on, dt.time.max, tzinfo=dt.UTC)
    if new_play and rules.max_plays_after_session is not None and at > session_end:
        plays = PlaybackGrant.objects.filter(
            viewer=accreditation.user, cut__film=film, created_at__gt=session_end
        ).count()
        if plays >= rules.max_plays_after_session:
            raise PlaybackRefused(
                Refusal("play_cap_reached", _("You have used every play allowed after the session."))
            )


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
        .filter(pk=grant_id)
        .first()
    )
    if grant is None or grant.viewer_id != user.pk or grant.device_hash != device_hash:
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
    admission(user=user, film=grant.cut.film, at=at)
    return grant
