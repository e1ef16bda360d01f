"""The four playback doors (master playlist, media playlist, key, segment), independent of transport.

A door is answered in three steps: find the live grant with every rule checked (``screening.policy``),
fetch what the door serves (a stored playlist, the key counter, a segment), and render it. The Django
views (WSGI, the test client, every door in the embedded default) run ``open_door``; the lean ASGI front
(``screening.asgi``) runs the same steps for the playlists and the key with asynchronous reads. The
rules, the refusals and the rendering live here and in ``policy`` and ``playlists`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User
from screening import playlists, services
from screening.keyring import unseal
from screening.models import PlaybackGrant
from screening.policy import PlaybackRefused, Refusal, grant_for_request, not_found
from screening.signing import SignatureExpired, SignatureInvalid, verify_path
from screening.storage import ObjectNotFound, media_store

HLS = "application/vnd.apple.mpegurl"
DEVICE_COOKIE = "fip_device"
MASTER, MEDIA, KEY, SEGMENT = "master", "media", "key", "segment"


@dataclass(frozen=True)
class DoorAnswer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


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
    ttl = settings.SCREENING_URL_TTL_SECONDS
    return DoorAnswer(200, HLS, playlists.render_media(cut, grant_id, rendition, ttl, stored).encode())


def key_answer(grant: PlaybackGrant) -> DoorAnswer:
    return DoorAnswer(200, "application/octet-stream", unseal(grant.cut.sealed_key))


def open_door(
    *,
    kind: str,
    user: User | None,
    device_token: str,
    grant_id: str,
    rendition: str = "",
    name: str = "",
    path: str = "",
    exp: str = "",
    sig: str = "",
) -> DoorAnswer:
    """Check the viewer, the grant, the device and every audience rule, then answer ``kind``."""
    if user is None or not user.is_authenticated:
        return refused(not_found())
    try:
        grant = grant_for_request(
            grant_id=grant_id, user=user, device_hash=services.device_hash(device_token)
        )
    except PlaybackRefused as refusal:
        return refused(refusal.refusal)
    if kind == KEY:
        services.key_fetched(grant=grant)
        return key_answer(grant)
    if kind == SEGMENT:
        return _segment(grant, rendition, name, path, exp, sig)
    relative = stored_playlist(kind, grant, rendition)
    if relative is None:
        return refused(not_found())
    return playlist_answer(kind, grant, rendition, playlists.stored_text(grant.cut, relative))


def _segment(grant: PlaybackGrant, rendition: str, name: str, path: str, exp: str, sig: str) -> DoorAnswer:
    cut = grant.cut
    if rendition not in {r["name"] for r in cut.renditions} or not playlists.SEGMENT_NAME.match(name):
        return refused(not_found())
    try:
        verify_path(path, exp=exp, sig=sig)
    except SignatureExpired:
        return refused(Refusal("url_expired", _("This segment link has expired.")))
    except SignatureInvalid:
        return refused(not_found())
    try:
        body = b"".join(media_store().open_stream(f"{cut.media_prefix}{rendition}/{name}"))
    except ObjectNotFound:
        return refused(not_found())
    services.segment_fetched(grant=grant, rendition=rendition, name=name)
    return DoorAnswer(200, "video/mp2t", body)
