"""Playback doors (player page, grant, playlists, key, segments, heartbeat): parse, check, render.

Every response here is private and uncacheable (Cache-Control: no-store, set by the security middleware
for signed-in users and forced again below for the media doors). Under ASGI on PostgreSQL every door GET
is answered by the lean front (``screening.asgi``) before Django; these views serve the embedded default,
WSGI and the test client, with the same doors (``screening.doors``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from audit.middleware import request_client_ip
from core.errors import DomainError, Refusal
from festival.models import Film
from screening import services
from screening.doors import DEVICE_COOKIE, DoorAnswer, open_door, refused
from screening.models import Cut, CutStatus, PlaybackGrant
from screening.policy import admission, grant_for_request, not_found
from screening.selectors import current_cut
from screening.storage import ObjectNotFound, local_store


def door_response(answer: DoorAnswer) -> HttpResponseBase:
    """A door's answer as Django's response: its body, a redirect, or a stored object streamed (the
    local store's: only the embedded default's doors answer with one)."""
    response: HttpResponseBase
    if answer.object_key:
        store = local_store()
        try:
            if store is None:
                raise ObjectNotFound(answer.object_key)
            response = FileResponse(store.open_file(answer.object_key), content_type=answer.content_type)
        except (ObjectNotFound, ValueError):
            answer = refused(not_found())
        else:
            response["Cache-Control"] = "no-store"
            return response
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for header, value in answer.headers.items():
        response[header] = value
    response["Cache-Control"] = "no-store"
    return response


def _refusal_response(refusal: Refusal) -> HttpResponseBase:
    return door_response(refused(refusal))


def _device_hash(request: HttpRequest) -> str:
    return services.device_hash(device_token=request.COOKIES.get(DEVICE_COOKIE, ""))


MediaView = Callable[..., HttpResponseBase]


def media_door(view: MediaView) -> MediaView:
    """Authenticated viewer + live grant + every audience rule, at each request about a grant."""

    @wraps(view)
    def wrapper(request: HttpRequest, grant_id: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return _refusal_response(not_found())
        try:
            grant = grant_for_request(
                grant_id=str(grant_id), user=acting_user(request), device_hash=_device_hash(request)
            )
        except DomainError as error:
            return _refusal_response(error.refusal)
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
    except DomainError as error:
        refusal = error.refusal
        if refusal.status == 404:
            return render(request, "404.html", status=404)
        return render(request, "screening/refused.html", {"film": film, "refusal": refusal}, status=403)
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
def grant_create(request: HttpRequest, cut_id: str) -> HttpResponseBase:
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
    except DomainError as error:
        return _refusal_response(error.refusal)
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


def _door_view(kind: str) -> Callable[..., HttpResponseBase]:
    @require_GET
    def view(request: HttpRequest, grant_id: str, rendition: str = "", name: str = "") -> HttpResponseBase:
        answer = open_door(
            kind=kind,
            user=request.user if request.user.is_authenticated else None,
            device_token=request.COOKIES.get(DEVICE_COOKIE, ""),
            grant_id=str(grant_id),
            rendition=rendition,
            name=name,
        )
        return door_response(answer)

    view.__name__ = f"{kind}_door"
    return view


master = _door_view("master")
media_playlist = _door_view("media")
key = _door_view("key")
segment = _door_view("segment")


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
