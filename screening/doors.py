"""The four playback doors (master playlist, media playlist, key, segment), independent of transport.

A door is answered in three steps: find the live grant with every rule checked (``screening.policy``),
fetch what the door serves (a stored playlist, the key, where a segment is: a key or segment fetch is
paced first, ``paced_fetch`` and ``fetch_answer``), and render it. The Django views (WSGI, the test
client, every door in the embedded default) run ``open_door``; the lean ASGI front (``screening.asgi``)
runs the same steps for every door with asynchronous reads. The rules, the refusals and the rendering
live here and in ``policy``, ``pace`` and ``playlists`` only.

Segments (docs/playback.md): a grant's media playlist lists stable door URLs
(``/play/<grant>/<rendition>/seg_NNNNN.ts``) that never expire; each fetch re-checks the grant and
every rule, takes its cost from the grant's pace bucket, and then answers with a redirect to a
presigned URL of the object store that lives ``SCREENING_URL_TTL_SECONDS`` (S3 or its CDN: the bytes
never pass through Python), or, with the local store of the embedded default, with the bytes.
Forensic variants (docs/forensics.md): every segment exists as variant A and variant B, each under its
own key (``forensics.variants``: the standard library only, so no web process loads numpy or OpenCV).
``variant`` is the one place that decides which a grant gets, from the grant's codeword; the segment
door (``segment_object_key``) and the key door (``key_answer``) both ask it, so a viewer gets, for each
segment, the bytes and the key of the same variant, and nothing in a URL, a name or a size tells them
which.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import DomainError, Refusal
from screening import pace, playlists, services
from screening.forensics.variants import codeword_secret, object_name, segment_key, variant_for
from screening.keyring import unseal
from screening.models import Cut, PlaybackGrant
from screening.policy import grant_for_request, not_found
from screening.storage import media_store

HLS = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
DEVICE_COOKIE = "fip_device"
MASTER, MEDIA, KEY, SEGMENT = "master", "media", "key", "segment"
KEY_NAME = re.compile(r"^[0-9]{5}$")


@dataclass(frozen=True)
class DoorAnswer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # The local store's object whose bytes are the answer's body (the transport streams it)
    object_key: str = ""


def refused(refusal: Refusal) -> DoorAnswer:
    return DoorAnswer(
        refusal.status,
        "text/plain; charset=utf-8",
        refusal.message.encode(),
        {"X-Refusal-Code": refusal.code},
    )


def stored_playlist(kind: str, grant: PlaybackGrant, rendition: str) -> str | None:
    """The stored playlist a master or media door renders for ``grant``; None for an unknown rendition."""
    if kind == MASTER:
        return "master.m3u8"
    if rendition in {r["name"] for r in grant.cut.renditions}:
        return f"{rendition}/index.m3u8"
    return None


def playlist_answer(kind: str, grant: PlaybackGrant, rendition: str, stored: str) -> DoorAnswer:
    """The master or media playlist for ``grant``, rendered from ``stored`` (see ``stored_playlist``)."""
    cut, grant_id = grant.cut, str(grant.id)
    if kind == MASTER:
        return DoorAnswer(200, HLS, playlists.render_master(cut, grant_id, stored).encode())
    return DoorAnswer(200, HLS, playlists.render_media(cut, grant_id, rendition, stored).encode())


def variant(content_key: bytes, grant: PlaybackGrant, index: int) -> str:
    """ "a" or "b": the variant of segment ``index`` that ``grant`` receives (its codeword's symbol)."""
    return variant_for(codeword_secret(content_key), grant.id, index)


def key_index(grant: PlaybackGrant, name: str) -> int | None:
    """The segment a key door name (``NNNNN``) stands for, if the grant's cut has it; None otherwise."""
    if not KEY_NAME.match(name):
        return None
    index = int(name)
    return index if index < grant.cut.segment_count else None


def key_answer(grant: PlaybackGrant, index: int) -> DoorAnswer:
    """The key of the variant of segment ``index`` this grant receives, and of no other segment."""
    content_key = unseal(grant.cut.sealed_key)
    key = segment_key(content_key, index, variant(content_key, grant, index))
    return DoorAnswer(200, "application/octet-stream", key)


def pace_refused(verdict: pace.Verdict) -> DoorAnswer:
    """429 with a machine code and when to come back: fetching faster than a viewing does."""
    message = _("Fetching faster than playback needs: wait a few seconds. Repeated attempts are recorded.")
    answer = refused(Refusal("pace_exceeded", message, 429))
    return DoorAnswer(
        answer.status,
        answer.content_type,
        answer.body,
        {**answer.headers, "Retry-After": str(verdict.retry_after_s)},
    )


def segment_index(grant: PlaybackGrant, rendition: str, name: str) -> int | None:
    """The index of a segment the grant's cut has in ``rendition``; None for anything else."""
    cut = grant.cut
    if rendition not in {r["name"] for r in cut.renditions} or not playlists.SEGMENT_NAME.match(name):
        return None
    index = int(name[4:9])
    if cut.segment_count and index >= cut.segment_count:
        return None
    return index


def segment_object_key(cut: Cut, grant: PlaybackGrant, rendition: str, index: int) -> str:
    """The stored object a grant gets for one segment: the variant its codeword names."""
    content_key = unseal(cut.sealed_key)
    name = object_name(content_key, rendition, index, variant(content_key, grant, index))
    return f"{cut.media_prefix}{rendition}/{name}"


def segment_answer(grant: PlaybackGrant, rendition: str, index: int) -> DoorAnswer:
    """Where the bytes of an admitted segment fetch come from: a short-lived presigned redirect to the
    object store, or (local store) the object itself for the transport to stream."""
    key = segment_object_key(grant.cut, grant, rendition, index)
    store = media_store()
    if store.presigns_downloads:
        url = store.signed_get_url(
            key, expires_in=settings.SCREENING_URL_TTL_SECONDS, content_type=SEGMENT_TYPE
        )
        return DoorAnswer(302, "text/plain; charset=utf-8", b"", {"Location": url})
    return DoorAnswer(200, SEGMENT_TYPE, b"", object_key=key)


@dataclass(frozen=True)
class PacedFetch:
    """A key or segment fetch a grant asks for: what it costs in its pace bucket, how the pace script
    records it when taken (the key counter, or the segment fetch log), and what it is of."""

    door: str  # pace.KEY or pace.SEGMENT
    index: int
    rendition: str
    cost: float
    log: str


def paced_fetch(kind: str, grant: PlaybackGrant, rendition: str, name: str) -> PacedFetch | None:
    """The key or segment fetch a door request names; None when the grant's cut has no such thing."""
    cost = float(grant.cut.segment_seconds)
    if kind == KEY:
        index = key_index(grant, name)
        return None if index is None else PacedFetch(pace.KEY, index, "", cost, pace.COUNT)
    index = segment_index(grant, rendition, name)
    if index is None:
        return None
    return PacedFetch(
        pace.SEGMENT, index, rendition, cost, pace.log_entry(rendition, index, int(time.time() * 1000))
    )


def fetch_answer(grant: PlaybackGrant, fetch: PacedFetch, verdict: pace.Verdict) -> DoorAnswer:
    """The answer to a paced fetch once its pace is known: the key or segment, or 429."""
    if not verdict.allowed:
        return pace_refused(verdict)
    if fetch.door == pace.KEY:
        return key_answer(grant, fetch.index)
    return segment_answer(grant, fetch.rendition, fetch.index)


def open_door(
    *,
    kind: str,
    user: User | None,
    device_token: str,
    grant_id: str,
    rendition: str = "",
    name: str = "",
) -> DoorAnswer:
    """Check the viewer, the grant, the device and every audience rule, then answer ``kind``."""
    if user is None or not user.is_authenticated:
        return refused(not_found())
    try:
        grant = grant_for_request(
            grant_id=grant_id, user=user, device_hash=services.device_hash(device_token=device_token)
        )
    except DomainError as error:
        return refused(error.refusal)
    if kind in (KEY, SEGMENT):
        fetch = paced_fetch(kind, grant, rendition, name)
        if fetch is None:
            return refused(not_found())
        verdict = pace.pace_take(grant_id=grant.pk, door=fetch.door, cost=fetch.cost, log=fetch.log)
        if verdict.record:
            services.pace_refusal_record(grant_id=grant.pk, door=fetch.door, refusals=verdict.refusals)
        if verdict.allowed and pace.redis_client() is None:
            _record_without_redis(grant, fetch)
        return fetch_answer(grant, fetch, verdict)
    relative = stored_playlist(kind, grant, rendition)
    if relative is None:
        return refused(not_found())
    return playlist_answer(kind, grant, rendition, playlists.stored_text(grant.cut, relative))


def _record_without_redis(grant: PlaybackGrant, fetch: PacedFetch) -> None:
    """Without Redis the pace script does not run: the fetch is recorded here, at once."""
    if fetch.door == pace.KEY:
        services.key_fetched(grant=grant)
    else:
        services.segment_fetched(grant=grant, rendition=fetch.rendition, index=fetch.index)
