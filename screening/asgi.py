"""A lean ASGI front for the four playback doors.

A playing screener asks for a playlist or a key every few seconds per viewer. Through Django's ASGI
handler each such GET pays for the whole middleware stack and several sync/async hops, which cost
several times the door's own work (one query). This front answers those GETs itself and hands every
other request, untouched, to Django.

It authenticates exactly as Django does, with Django's own code: the session cookie is loaded with the
configured session engine and ``django.contrib.auth.get_user`` checks the backend and the session hash;
the idle timeout of ``accounts.middleware`` applies. The answer comes from ``screening.doors.open_door``,
the same function the Django views use, so the rules live in one place.
"""

from __future__ import annotations

import re
import time
from importlib import import_module
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.db import close_old_connections
from django.http.cookie import parse_cookie
from django.utils import translation

from accounts.middleware import session_idle_expired
from accounts.models import User
from screening.doors import DEVICE_COOKIE, DoorAnswer, open_door

DOOR_PATH = re.compile(
    r"^/play/(?P<grant>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/"
    r"(?:(?P<master>master\.m3u8)|(?P<key>key)|(?P<rendition>[0-9a-z]{2,8})/(?P<name>[A-Za-z0-9_.]{1,64}))$"
)
SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]

ASGIApp = Any


def session_user(session_key: str) -> User | None:
    """The signed-in user of a session cookie, as Django's AuthenticationMiddleware would find them."""
    if not session_key:
        return None
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if session_idle_expired(session, int(time.time())):
        return None
    user = get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
    return user if isinstance(user, User) and user.is_active else None


def answer(path: str, query_string: bytes, cookie_header: str) -> DoorAnswer:
    match = DOOR_PATH.match(path)
    assert match is not None  # noqa: S101 (checked by the caller)
    cookies = parse_cookie(cookie_header)
    query = parse_qs(query_string.decode("latin-1"))
    try:
        user = session_user(cookies.get(settings.SESSION_COOKIE_NAME, ""))
        kind = (
            "master"
            if match["master"]
            else "key"
            if match["key"]
            else ("media" if match["name"] == "index.m3u8" else "segment")
        )
        with translation.override(user.language if user else settings.LANGUAGE_CODE):
            return open_door(
                kind=kind,
                user=user,
                device_token=cookies.get(DEVICE_COOKIE, ""),
                grant_id=match["grant"],
                rendition=match["rendition"] or "",
                name=match["name"] or "",
                path=path,
                exp=query.get("exp", [""])[0],
                sig=query.get("sig", [""])[0],
            )
    finally:
        close_old_connections()  # give pooled database connections back, as Django does after a request


class MediaDoors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not DOOR_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        cookie = b"; ".join(value for name, value in scope["headers"] if name == b"cookie").decode("latin-1")
        door = await sync_to_async(answer, thread_sensitive=False)(
            scope["path"], scope["query_string"], cookie
        )
        headers = [
            (b"content-type", door.content_type.encode()),
            (b"content-length", str(len(door.body)).encode()),
            *SECURITY_HEADERS,
            *((k.lower().encode(), v.encode()) for k, v in door.headers.items()),
        ]
        await send({"type": "http.response.start", "status": door.status, "headers": headers})
        await send({"type": "http.response.body", "body": door.body})
