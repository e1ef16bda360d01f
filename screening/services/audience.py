"""Who may watch, beyond accreditation: the film team's audience rules, and an admin's instant revocation
of a viewer's access. Each write is one transaction with its audit entry."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import AccreditationCategory, Organisation, User
from accounts.policy import account_readiness, is_festival_admin
from audit.services import audit_record
from core.errors import Forbidden, InvalidInput
from festival.models import Film
from festival.policy import film_team_organisation
from screening.models import AccessRevocation, AudienceRules, GrantEnd, PlaybackGrant, TerritoryMode
from screening.policy import require_screener_manager


def audience_rules_set(
    *,
    user: User,
    film: Film,
    allowed_categories: list[str],
    blocked_organisations: list[Organisation],
    territory_mode: str,
    territories: list[str],
    max_plays_after_session: int | None,
) -> AudienceRules:
    require_screener_manager(user=user, film=film)
    unknown = sorted(set(allowed_categories) - set(AccreditationCategory.values))
    if unknown:
        raise InvalidInput(
            _("Unknown category: %(value)s") % {"value": unknown[0]}, field="allowed_categories"
        )
    if territory_mode not in TerritoryMode.values:
        raise InvalidInput(_("Unknown territory mode."), field="territory_mode")
    bad = sorted(set(territories) - set(dict(countries)))
    if bad:
        raise InvalidInput(
            _("“%(value)s” is not an ISO 3166 country code.") % {"value": bad[0]}, field="territories"
        )
    if territory_mode != TerritoryMode.ALL and not territories:
        raise InvalidInput(_("List at least one territory."), field="territories")
    if max_plays_after_session is not None and max_plays_after_session < 0:
        raise InvalidInput(_("The number of plays cannot be negative."), field="max_plays_after_session")
    with transaction.atomic():
        rules, _created = AudienceRules.objects.select_for_update().get_or_create(film=film)
        rules.allowed_categories = sorted(set(allowed_categories))
        rules.territory_mode = territory_mode
        rules.territories = sorted(set(territories)) if territory_mode != TerritoryMode.ALL else []
        rules.max_plays_after_session = max_plays_after_session
        rules.save()
        rules.blocked_organisations.set(blocked_organisations)
        audit_record(
            action="film.audience_rules_changed",
            actor=user,
            organisation=film_team_organisation(film_id=film.pk, user_id=user.pk),
            target=film,
            data={
                "allowed_categories": rules.allowed_categories,
                "territory_mode": territory_mode,
                "territories": rules.territories,
                "max_plays_after_session": max_plays_after_session,
                "blocked_organisation_ids": sorted(o.pk for o in blocked_organisations),
            },
        )
    return rules


def access_revoke(*, admin: User, user: User, film: Film | None, reason: str) -> AccessRevocation:
    """Stop a viewer at once: their live grants end now, and every door refuses them from the next request.
    The admin acts for the festival: the entry names no organisation."""
    if not is_festival_admin(admin) or not account_readiness(admin).ready:
        raise Forbidden(_("Only festival admins can revoke access."), code="admin_required")
    if not reason.strip():
        raise InvalidInput(_("Give a reason for revoking access."), field="reason")
    with transaction.atomic():
        revocation = AccessRevocation.objects.create(
            user=user, film=film, reason=reason.strip(), revoked_by=admin
        )
        live = PlaybackGrant.objects.filter(viewer=user, ended_at__isnull=True)
        if film is not None:
            live = live.filter(cut__film=film)
        ended = live.update(ended_at=timezone.now(), end_reason=GrantEnd.REVOKED)
        audit_record(
            action="access.revoked",
            actor=admin,
            target=user,
            data={"film_id": film.pk if film else None, "reason": reason.strip(), "grants_ended": ended},
        )
    return revocation
