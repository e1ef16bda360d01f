"""Writes for screeners: cuts and uploads, packaging state, audience rules, grants and heartbeats.

Each write is one transaction with its audit entry; side effects (the packaging task) run on commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import AccreditationCategory, Organisation, User
from accounts.policy import account_readiness, is_festival_admin, require_ready
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.state_machine import move_state
from festival.models import Film
from screening import pace
from screening.models import (
    AccessRevocation,
    AudienceRules,
    Cut,
    CutStatus,
    GrantEnd,
    PaceRefusal,
    PlaybackGrant,
    SegmentFetch,
    TerritoryMode,
    Upload,
    UploadStatus,
)
from screening.policy import admission
from screening.storage import UploadNotFound, media_store

VIDEO_EXTENSIONS = {".mp4", ".mov", ".mkv", ".mxf", ".m4v", ".avi", ".webm", ".ts", ".mpg", ".mpeg"}

# --- The cut state machine -----------------------------------------------------------------------

C = CutStatus
CUT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    C.UPLOADING: frozenset({C.QUEUED, C.CANCELLED, C.FAILED}),
    C.QUEUED: frozenset({C.PROCESSING, C.CANCELLED, C.FAILED}),
    C.PROCESSING: frozenset({C.PROCESSING, C.READY, C.FAILED, C.CANCELLED, C.QUEUED}),
    C.READY: frozenset(),
    C.FAILED: frozenset(),
    C.CANCELLED: frozenset(),
}


def cut_transition(
    *, cut: Cut, to: str, actor: User | None, data: Mapping[str, Any] | None = None, **fields: Any
) -> Cut:
    """Move ``cut`` to ``to`` from its locked, re-read state; the only place its status changes."""
    locked, previous = move_state(
        cut,
        to=to,
        transitions=CUT_TRANSITIONS,
        refusal=_("This cut is %(status)s and cannot become %(target)s."),
        **fields,
    )
    audit_record(
        action=f"cut.{to}",
        actor=actor,
        target=locked,
        data={"from": previous, "to": to, "film_id": locked.film_id, "number": locked.number, **(data or {})},
    )
    return locked


def require_team(user: User, film: Film) -> None:
    require_ready(user)
    if not (is_festival_admin(user) or film.team_members.filter(user=user).exists()):
        raise Forbidden(_("Only the film's producer team can manage its screener."), code="not_film_team")


# --- Upload ---------------------------------------------------------------------------------------


def _next_cut_number(film: Film) -> int:
    """The film's next cut number; the film row lock makes concurrent uploads number one at a time."""
    Film.objects.select_for_update().get(pk=film.pk)
    last = Cut.objects.filter(film=film).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def cut_create(
    *, user: User, film: Film, filename: str, size: int, content_type: str = "", idempotency_key: str = ""
) -> Cut:
    """Start a new cut: a multipart upload in the store that the browser fills part by part.

    A request retried with the same ``idempotency_key`` returns the cut the first one made.
    """
    require_team(user, film)
    idempotency_key = idempotency_key.strip()[:100]
    if idempotency_key:
        existing = Cut.objects.filter(film=film, uploaded_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if not name or extension not in VIDEO_EXTENSIONS:
        raise InvalidInput(_("Upload a video file (MP4, MOV, MKV, MXF...)."), field="filename")
    if content_type and not content_type.startswith(
        ("video/", "application/octet-stream", "application/mxf")
    ):
        raise InvalidInput(_("This file does not look like a video."), field="content_type")
    if size <= 0:
        raise InvalidInput(_("The file is empty."), field="size")
    if size > settings.SCREENING_MAX_UPLOAD_BYTES:
        raise InvalidInput(
            _("The file is larger than the limit of %(gb)s GB.")
            % {"gb": settings.SCREENING_MAX_UPLOAD_BYTES // 1024**3},
            field="size",
        )
    part_size = settings.SCREENING_UPLOAD_PART_BYTES
    part_count = max(1, math.ceil(size / part_size))
    if part_count > 10_000:
        part_size = math.ceil(size / 10_000)
        part_count = math.ceil(size / part_size)
    with transaction.atomic():
        number = _next_cut_number(film)
        cut = Cut.objects.create(
            film=film,
            number=number,
            uploaded_by=user,
            source_filename=name[:255],
            source_size=size,
            source_content_type=content_type[:100],
            segment_seconds=settings.SCREENING_SEGMENT_SECONDS,
            idempotency_key=idempotency_key,
        )
        upload_id = media_store().multipart_create(cut.source_key, content_type or "application/octet-stream")
        Upload.objects.create(
            cut=cut, storage_upload_id=upload_id, part_size=part_size, part_count=part_count
        )
        audit_record(
            action="cut.upload_started",
            actor=user,
            target=cut,
            data={"film_id": film.pk, "number": number, "filename": name, "size": size},
        )
    return cut


def _open_upload(user: User, upload: Upload) -> Upload:
    require_team(user, upload.cut.film)
    if upload.status != UploadStatus.OPEN:
        raise Conflict(_("This upload is already %(status)s.") % {"status": upload.get_status_display()})
    return upload


def upload_part_urls(*, user: User, upload: Upload, part_numbers: Iterable[int]) -> dict[int, str]:
    _open_upload(user, upload)
    numbers = sorted(set(part_numbers))
    if not numbers or numbers[0] < 1 or numbers[-1] > upload.part_count:
        raise InvalidInput(
            _("Part numbers go from 1 to %(count)s.") % {"count": upload.part_count}, field="part_numbers"
        )
    store = media_store()
    return {
        n: store.multipart_part_url(
            upload.cut.source_key,
            upload.storage_upload_id,
            n,
            expires_in=settings.SCREENING_URL_TTL_SECONDS * 10,
        )
        for n in numbers
    }


def upload_complete(*, user: User, upload: Upload, parts: list[tuple[int, str]]) -> Cut:
    """Assemble the parts; the cut joins the packaging queue on commit.

    A part list that does not match what was uploaded is refused and changes nothing (the upload stays
    open, to be completed with the right list). Once the store has assembled the file, any check that
    fails after it (the size announced at the start, a state that changed meanwhile) ends the cut
    ``failed`` with its reason and deletes the assembled file: nothing is left behind in the store.
    """
    _open_upload(user, upload)
    numbers = [n for n, _etag in parts]
    if sorted(numbers) != list(range(1, upload.part_count + 1)):
        raise InvalidInput(
            _("Send every part from 1 to %(count)s before completing.") % {"count": upload.part_count},
            field="parts",
        )
    store = media_store()
    try:
        store.multipart_complete(upload.cut.source_key, upload.storage_upload_id, sorted(parts))
    except UploadNotFound as error:
        raise Conflict(_("This upload is no longer open: start it again."), code="upload_gone") from error
    except ValueError as error:
        raise InvalidInput(str(error), field="parts") from error
    try:
        stored_size = store.size(upload.cut.source_key)
        if stored_size != upload.cut.source_size:
            raise InvalidInput(
                _("The uploaded file has %(stored)s bytes, not the %(announced)s announced.")
                % {"stored": stored_size, "announced": upload.cut.source_size},
                field="parts",
                code="size_mismatch",
            )
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.COMPLETED)
            cut = cut_transition(cut=upload.cut, to=C.QUEUED, actor=user, queued_at=timezone.now())
            transaction.on_commit(lambda: _enqueue(cut.pk))
    except Exception as error:
        _assembled_upload_failed(upload, actor=user, error=error)
        raise
    return cut


def _assembled_upload_failed(upload: Upload, *, actor: User, error: Exception) -> None:
    """Delete an assembled source that will never be packaged and end its cut ``failed`` with the reason."""
    code = getattr(error, "code", "") or "upload_failed"
    reason = getattr(error, "message", "") or _("The upload could not be completed.")
    media_store().delete_prefix(upload.cut.source_key)
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.COMPLETED)
        locked = Cut.objects.select_for_update().get(pk=upload.cut.pk)
        if locked.status == C.UPLOADING:
            cut_transition(
                cut=locked,
                to=C.FAILED,
                actor=actor,
                data={"code": code},
                failure_code=str(code)[:32],
                failure_reason=str(reason),
                stage="failed",
            )


def upload_abort(*, user: User, upload: Upload) -> Cut:
    _open_upload(user, upload)
    return _abort(upload, actor=user)


def _abort(upload: Upload, *, actor: User | None, reason: str = "") -> Cut:
    media_store().multipart_abort(upload.cut.source_key, upload.storage_upload_id)
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.ABORTED)
        return cut_transition(
            cut=upload.cut, to=C.CANCELLED, actor=actor, data={"reason": reason} if reason else None
        )


def uploads_expire(*, older_than: dt.timedelta) -> int:
    """Abort uploads left open longer than ``older_than`` (their parts cost storage); the system acts."""
    cutoff = timezone.now() - older_than
    stale = Upload.objects.select_related("cut").filter(status=UploadStatus.OPEN, created_at__lt=cutoff)
    count = 0
    for upload in stale:
        _abort(upload, actor=None, reason="expired")
        count += 1
    return count


def _enqueue(cut_id: int) -> None:
    from screening.tasks import package_cut

    package_cut.delay(cut_id)


def cut_cancel(*, user: User, cut: Cut) -> Cut:
    """Cancel a queued cut at once, or ask the worker to stop a cut being packaged."""
    require_team(user, cut.film)
    upload = Upload.objects.filter(cut=cut, status=UploadStatus.OPEN).select_related("cut").first()
    if upload is not None and cut.status == C.UPLOADING:
        return _abort(upload, actor=user)  # its parts are freed too, not left in the store
    with transaction.atomic():
        locked = Cut.objects.select_for_update().get(pk=cut.pk)
        if locked.status == C.PROCESSING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested"])
            audit_record(
                action="cut.cancel_requested", actor=user, target=locked, data={"film_id": cut.film_id}
            )
            return locked
        return cut_transition(cut=locked, to=C.CANCELLED, actor=user)


# --- Audience rules and revocation ---------------------------------------------------------------


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
    require_team(user, film)
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
    """Stop a viewer at once: their live grants end now, and every door refuses them from the next request."""
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
            action="screening.access_revoked",
            actor=admin,
            target=user,
            data={"film_id": film.pk if film else None, "reason": reason.strip(), "grants_ended": ended},
        )
    return revocation


# --- Grants and heartbeats ------------------------------------------------------------------------


def device_hash(device_token: str) -> str:
    return hashlib.sha256(device_token.encode()).hexdigest()


def grant_issue(
    *, user: User, cut: Cut, device_token: str, ip: str | None = None, user_agent: str = ""
) -> PlaybackGrant:
    """Press play: a short-lived grant bound to viewer, cut and device; the viewer's other streams end."""
    if cut.status != C.READY:
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
            device_hash=device_hash(device_token),
            expires_at=now + dt.timedelta(seconds=settings.SCREENING_GRANT_TTL_SECONDS),
            ip=ip,
            user_agent=user_agent[:300],
        )
        audit_record(
            action="screening.grant_issued",
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
    with transaction.atomic():
        PlaybackGrant.objects.filter(pk=grant.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=GrantEnd.STOPPED
        )
        segment_fetches_flush(grant=grant)


def key_fetch_counter(grant_id: object) -> str:
    """The cache key counting a grant's key fetches (``key_fetched`` here, or the pace script)."""
    return pace.key_fetch_counter(grant_id)


def key_fetch_counter_ttl() -> int:
    return pace.state_ttl()


def key_fetched(*, grant: PlaybackGrant) -> None:
    """Count a key fetch in a cache without scripts (with Redis the pace script counts it)."""
    key = key_fetch_counter(grant.pk)
    if not cache.add(key, 1, timeout=key_fetch_counter_ttl()):
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
    door holding the count, and an audit entry the first time. The viewer is the actor."""
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
                action="screening.pace_exceeded",
                actor=grant.viewer,
                target=grant,
                organisation=grant.organisation,
                data={"door": door, "cut_id": grant.cut_id, "film_id": grant.cut.film_id},
            )
    return row


def cut_import(*, user: User, film: Film, path: Any) -> Cut:
    """A new cut from a file already on the server (demo seeding, operations staff): no multipart upload."""
    from pathlib import Path

    source = Path(path)
    require_team(user, film)
    with transaction.atomic():
        number = _next_cut_number(film)
        cut = Cut.objects.create(
            film=film,
            number=number,
            uploaded_by=user,
            source_filename=source.name[:255],
            source_size=source.stat().st_size,
            segment_seconds=settings.SCREENING_SEGMENT_SECONDS,
        )
        media_store().put_file(cut.source_key, source, "video/mp4")
        audit_record(
            action="cut.imported",
            actor=user,
            target=cut,
            data={"film_id": film.pk, "number": number, "filename": source.name},
        )
        cut = cut_transition(cut=cut, to=C.QUEUED, actor=user, queued_at=timezone.now())
    return cut
