"""Playback doors (player page, grant, playlists, key, segments, heartbeat): parse, check, render.

Every response here is private and uncacheable (Cache-Control: no-store, set by the security middleware
for signed-in users and forced again below for the media doors).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from audit.middleware import request_client_ip
from core.errors import DomainError
from festival.models import Film
from screening import playlists, services
from screening.keyring import unseal
from screening.models import Cut, CutStatus, PlaybackGrant
from screening.policy import PlaybackRefused, Refusal, admission, grant_for_request, not_found
from screening.selectors import current_cut
from screening.signing import SignatureExpired, SignatureInvalid, verify_path
from screening.storage import ObjectNotFound, media_store

DEVICE_COOKIE = "fip_device"
HLS = "application/vnd.apple.mpegurl"


def _refusal_response(refusal: Refusal) -> HttpResponse:
    response = HttpResponse(refusal.message, status=refusal.status, content_type="text/plain; charset=utf-8")
    response["X-Refusal-Code"] = refusal.code
    response["Cache-Control"] = "no-store"
    return response


def _device_hash(request: HttpRequest) -> str:
    return services.device_hash(request.COOKIES.get(DEVICE_COOKIE, ""))


MediaView = Callable[..., HttpResponse]


def media_door(view: MediaView) -> MediaView:
    """Authenticated viewer + live grant + every audience rule, at each playlist, key and segment."""

    @wraps(view)
    def wrapper(request: HttpRequest, grant_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _refusal_response(not_found())
        try:
            grant = grant_for_request(
                grant_id=str(grant_id), user=acting_user(request), device_hash=_device_hash(request)
            )
        except PlaybackRefused as refused:
            return _refusal_response(refused.refusal)
        response = view(request, grant, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


@ready_required
def watch(request: HttpRequest, film_id: int) -> HttpResponse:
    """The player page, or a page that says clearly why this viewer may not watch."""
    film = get_object_or_404(Film.objects.select_related("session"), pk=film_id)
    user = acting_user(request)
    cut = current_cut(film=film)
    try:
        admission(user=user, film=film)
    except PlaybackRefused as refused:
        if refused.refusal.status == 404:
            return render(request, "404.html", status=404)
        return render(
            request, "screening/refused.html", {"film": film, "refusal": refused.refusal}, status=403
        )
    memberships = user.organisations.all()
    response = render(
        request,
        "screening/watch.html",
        {
            "film": film,
            "cut": cut,
            "organisation": memberships.first(),
            "heartbeat_seconds": settings.SCREENING_HEARTBEAT_SECONDS,
        },
    )
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(32),
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@require_POST
def grant_create(request: HttpRequest, cut_id: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return _refusal_response(not_found())
    cut = Cut.objects.select_related("film", "film__session").filter(public_id=cut_id).first()
    if cut is None or cut.status != CutStatus.READY:
        return _refusal_response(not_found())
    user = acting_user(request)
    try:
        grant = services.grant_issue(
            user=user,
            cut=cut,
            device_token=request.COOKIES.get(DEVICE_COOKIE, ""),
            ip=request_client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except PlaybackRefused as refused:
        return _refusal_response(refused.refusal)
    except DomainError as error:
        return _refusal_response(Refusal(error.code, error.message, error.status_code))
    from django.urls import reverse

    return JsonResponse(
        {
            "grant": str(grant.id),
            "master_url": reverse("screening:master", args=[grant.id]),
            "heartbeat_url": reverse("screening:heartbeat", args=[grant.id]),
            "expires_at": grant.expires_at.isoformat(),
            "watermark": {
                "name": user.display_name,
                "organisation": grant.organisation.name if grant.organisation else "",
                "email": user.email,
            },
        },
        status=201,
    )


@require_GET
@media_door
def master(request: HttpRequest, grant: PlaybackGrant) -> HttpResponse:
    return HttpResponse(playlists.render_master(grant.cut, str(grant.id)), content_type=HLS)


@require_GET
@media_door
def media_playlist(request: HttpRequest, grant: PlaybackGrant, rendition: str) -> HttpResponse:
    if rendition not in {r["name"] for r in grant.cut.renditions}:
        return _refusal_response(not_found())
    text = playlists.render_media(grant.cut, str(grant.id), rendition, settings.SCREENING_URL_TTL_SECONDS)
    return HttpResponse(text, content_type=HLS)


@require_GET
@media_door
def key(request: HttpRequest, grant: PlaybackGrant) -> HttpResponse:
    services.key_fetched(grant=grant)
    return HttpResponse(unseal(grant.cut.sealed_key), content_type="application/octet-stream")


@require_GET
@media_door
def segment(request: HttpRequest, grant: PlaybackGrant, rendition: str, name: str) -> HttpResponse:
    try:
        verify_path(request.path, exp=request.GET.get("exp", ""), sig=request.GET.get("sig", ""))
    except SignatureExpired:
        return _refusal_response(Refusal("url_expired", _("This segment link has expired.")))
    except SignatureInvalid:
        return _refusal_response(not_found())
    if not playlists.SEGMENT_NAME.match(name) or rendition not in {r["name"] for r in grant.cut.renditions}:
        return _refusal_response(not_found())
    services.segment_fetched(grant=grant, rendition=rendition, name=name)
    try:
        stream = media_store().open_stream(f"{grant.cut.media_prefix}{rendition}/{name}")
    except ObjectNotFound:
        return _refusal_response(not_found())
    return StreamingHttpResponse(stream, content_type="video/mp2t")  # type: ignore[return-value]


@require_POST
@media_door
def heartbeat(request: HttpRequest, grant: PlaybackGrant) -> HttpResponse:
    try:
        body = json.loads(request.body or b"{}")
        position = float(body.get("position", 0))
        ranges = [(float(a), float(b)) for a, b in body.get("played", [])][:500]
    except (ValueError, TypeError):
        return JsonResponse({"detail": _("Malformed heartbeat.")}, status=400)
    if body.get("stopped"):
        services.grant_stop(grant=grant)
    else:
        services.grant_heartbeat(grant=grant, position_s=position, played_ranges=ranges)
    return JsonResponse({"ok": True})
