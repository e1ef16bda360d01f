"""Playback grants: press play (a grant), heartbeats and stop, and what the doors record of a grant's
fetches: segments (``SegmentFetch``), keys (``PlaybackGrant.key_fetches``) and pace refusals.

With Redis the doors' pace script logs each accepted fetch (``screening.pace``) and these services write
the log at the next heartbeat or at stop; without Redis (the embedded default, one process) the doors
record each fetch at once through ``segment_fetched`` and ``key_fetched``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_record
from core.errors import InvalidInput, NotFound
from screening import pace
from screening.models import Cut, CutStatus, GrantEnd, PaceRefusal, PlaybackGrant, SegmentFetch
from screening.policy import admission


def device_hash(*, device_token: str) -> str:
    """What a grant stores of the device cookie that binds it: its SHA-256, never the token."""
    return hashlib.sha256(device_token.encode()).hexdigest()


def grant_issue(
    *, user: User, cut: Cut, device_token: str, ip: str | None = None, user_agent: str = ""
) -> PlaybackGrant:
    """Press play: a short-lived grant bound to viewer, cut and device; the viewer's other streams end."""
    if cut.status != CutStatus.READY:
        raise NotFound(_("This screener is not available."))
    # Admission first: whoever may not know the film exists gets its 404 whatever else the request lacks.
    admitted = admission(user=user, film=cut.film, new_play=True)
    if len(device_token) < 16:
        raise InvalidInput(_("Missing device identifier."), field="device")
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # one grant issue per viewer at a time
        superseded = PlaybackGrant.objects.filter(viewer=user, ended_at__isnull=True).update(
            ended_at=now, end_reason=GrantEnd.SUPERSEDED
        )
        organisation_id = admitted.organisation_id
        if organisation_id is None:  # an admin previewing: their company of record, if they have one
            organisation_id = user.organisations.values_list("pk", flat=True).first()
        grant = PlaybackGrant.objects.create(
            viewer=user,
            organisation_id=organisation_id,
            cut=cut,
            device_hash=device_hash(device_token=device_token),
            expires_at=now + dt.timedelta(seconds=settings.SCREENING_GRANT_TTL_SECONDS),
            ip=ip,
            user_agent=user_agent[:300],
        )
        audit_record(
            action="grant.issued",
            actor=user,
            target=grant,
            organisation=grant.organisation,
            data={"cut_id": cut.pk, "film_id": cut.film_id, "superseded_grants": superseded},
        )
    return grant


def grant_heartbeat(
    *, grant: PlaybackGrant, position_s: float, played_ranges: list[tuple[float, float]]
) -> PlaybackGrant:
    """Record progress: the union of watched segments and seconds watched. Not audited (it is telemetry).

    A heartbeat also keeps the grant alive: it expires ``SCREENING_GRANT_TTL_SECONDS`` after the last
    heartbeat, so a film longer than that (or paused for a while) plays to its end while the player is
    open; every door still re-checks the grant and the rules. It writes the fetches the doors logged.
    """
    cut = grant.cut
    duration = cut.duration_s or 0
    segment = cut.segment_seconds or 6
    indices: set[int] = set()
    seconds = 0.0
    for start, end in played_ranges:
        start, end = max(0.0, float(start)), min(float(end), duration or float(end))
        if end <= start:
            continue
        seconds += end - start
        indices.update(range(int(start // segment), int(math.ceil(end / segment))))
    now = timezone.now()
    with transaction.atomic():
        locked = PlaybackGrant.objects.select_for_update().get(pk=grant.pk)
        merged = sorted(set(locked.watched_segments) | {i for i in indices if i < max(cut.segment_count, 1)})
        locked.watched_segments = merged
        locked.seconds_watched = max(locked.seconds_watched, seconds)
        locked.last_position_s = max(0.0, min(float(position_s), duration or float(position_s)))
        locked.last_heartbeat_at = now
        locked.expires_at = max(
            locked.expires_at, now + dt.timedelta(seconds=settings.SCREENING_GRANT_TTL_SECONDS)
        )
        locked.key_fetches = max(locked.key_fetches, pace.key_fetch_count(locked.pk))
        locked.save(
            update_fields=[
                "watched_segments",
                "seconds_watched",
                "last_position_s",
                "last_heartbeat_at",
                "expires_at",
                "key_fetches",
            ]
        )
        segment_fetches_flush(grant=locked)
    return locked


def grant_stop(*, grant: PlaybackGrant) -> None:
    """The viewer stops: the grant ends, and the fetches the doors logged since the last heartbeat are
    written (segments and the key count)."""
    with transaction.atomic():
        PlaybackGrant.objects.filter(pk=grant.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=GrantEnd.STOPPED
        )
        key_fetches = pace.key_fetch_count(grant.pk)
        PlaybackGrant.objects.filter(pk=grant.pk, key_fetches__lt=key_fetches).update(key_fetches=key_fetches)
        segment_fetches_flush(grant=grant)


def key_fetched(*, grant: PlaybackGrant) -> None:
    """Count a key fetch in a cache without scripts (with Redis the pace script counts it)."""
    key = pace.key_fetch_counter(grant.pk)
    if not cache.add(key, 1, timeout=pace.state_ttl()):
        cache.incr(key)


def segment_fetched(*, grant: PlaybackGrant, rendition: str, index: int) -> None:
    """The server's own record of a segment fetch, written at once (without Redis; with it the pace
    script logs the fetch and the next heartbeat writes it)."""
    SegmentFetch.objects.create(grant=grant, rendition=rendition, index=index)


def segment_fetches_flush(*, grant: PlaybackGrant) -> int:
    """Write the fetches the doors logged in Redis for ``grant`` as SegmentFetch rows, with their times."""
    logged = pace.fetch_log_take(grant.pk)
    SegmentFetch.objects.bulk_create(
        SegmentFetch(
            grant_id=grant.pk,
            rendition=rendition[:16],
            index=index,
            fetched_at=dt.datetime.fromtimestamp(at / 1000, tz=dt.UTC),
        )
        for rendition, index, at in logged
    )
    return len(logged)


def pace_refusal_record(*, grant_id: object, door: str, refusals: int) -> PaceRefusal | None:
    """Record that a grant was refused for fetching too fast (``screening.pace``): one row per grant and
    door holding the count, and an audit entry the first time. The viewer is the actor, for the
    organisation they watch for."""
    now = timezone.now()
    with transaction.atomic():
        grant = (
            PlaybackGrant.objects.select_related("viewer", "organisation", "cut")
            .filter(pk=str(grant_id))
            .first()
        )
        if grant is None:
            return None
        row, created = PaceRefusal.objects.select_for_update().get_or_create(
            grant=grant, door=door, defaults={"refusals": refusals, "first_at": now, "last_at": now}
        )
        if not created:
            row.refusals = max(row.refusals, refusals)
            row.last_at = now
            row.save(update_fields=["refusals", "last_at"])
        else:
            audit_record(
                action="pace.exceeded",
                actor=grant.viewer,
                target=grant,
                organisation=grant.organisation,
                data={"door": door, "cut_id": grant.cut_id, "film_id": grant.cut.film_id},
            )
    return row
