"""The four playback doors (master playlist, media playlist, key, segment), independent of transport.

Both the Django views (WSGI, the test client) and the lean ASGI front (``screening.asgi``, which serves
these GETs without Django's middleware stack) call ``open_door``: one implementation of what each door
checks and answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User
from screening import playlists, services
from screening.keyring import unseal
from screening.policy import PlaybackRefused, Refusal, grant_for_request, not_found
from screening.signing import SignatureExpired, SignatureInvalid, verify_path
from screening.storage import ObjectNotFound, media_store

HLS = "application/vnd.apple.mpegurl"
DEVICE_COOKIE = "fip_device"


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
    cut = grant.cut
    renditions = {r["name"] for r in cut.renditions}
    if kind == "master":
        return DoorAnswer(200, HLS, playlists.render_master(cut, str(grant.id)).encode())
    if kind == "key":
        services.key_fetched(grant=grant)
        return DoorAnswer(200, "application/octet-stream", unseal(cut.sealed_key))
    if rendition not in renditions:
        return refused(not_found())
    if kind == "media":
        text = playlists.render_media(cut, str(grant.id), rendition, settings.SCREENING_URL_TTL_SECONDS)
        return DoorAnswer(200, HLS, text.encode())
    if kind != "segment" or not playlists.SEGMENT_NAME.match(name):
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
