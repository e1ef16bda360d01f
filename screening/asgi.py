"""A lean ASGI front for the playback doors: playlists, key and segments.

A playing screener asks for a segment every few seconds per viewer (and for playlists and the key).
Through Django's ASGI handler each such GET pays for the whole middleware stack and several sync/async
hops, which cost many times the door's own work. This front answers those GETs itself, fully async, and
hands every other request (heartbeats, pages), untouched, to Django.

Per request it reads, afresh and in one prepared PostgreSQL statement, the session (from django_session,
which Django's db and cached_db engines write through to), the grant, its cut, film, festival session,
viewer and every fact the rules need; a key or segment request also takes its cost from the grant's pace
bucket in one Redis script (``screening.pace``), which logs the fetch (a segment) or counts it (a key:
``PlaybackGrant.key_fetches`` once a heartbeat or stop writes the count). A segment is then answered with a
redirect to a short-lived presigned URL of the object store, or its bytes from the local store
(``doors.segment_answer``, docs/playback.md). Nothing about a viewer or a grant is remembered between
requests, so any change (a revocation, a rule, a password, a logout) takes effect at the next request.

It authenticates as ``django.contrib.auth.get_user`` does with ``ModelBackend``: the live session must
name the grant's viewer through a configured backend and carry the hash of their current password (or
one made with a fallback secret), and the viewer must be active; the idle timeout of
``accounts.middleware`` applies. The grant and the rules are checked by ``policy.grant_from_row`` and
answered by ``screening.doors``, the code the Django views run.

The front needs PostgreSQL, database-backed sessions and Redis (``door_backends.available``); in the
embedded default (SQLite, file cache) every door goes to Django.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.http.cookie import parse_cookie
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from accounts.middleware import session_expired
from accounts.models import User
from core.errors import DomainError
from core.hmacs import session_auth_hashes
from screening import door_backends, pace, services
from screening.door_backends import DoorBackends
from screening.doors import (
    DEVICE_COOKIE,
    KEY,
    MASTER,
    MEDIA,
    SEGMENT,
    DoorAnswer,
    PacedFetch,
    fetch_answer,
    paced_fetch,
    playlist_answer,
    refused,
    stored_playlist,
)
from screening.models import PlaybackGrant
from screening.playlists import stored_text, stored_text_key
from screening.policy import grant_from_row, grant_lookup, grant_session_data, grant_viewer, not_found
from screening.storage import ObjectNotFound, local_store

DOOR_PATH = re.compile(
    r"^/play/(?P<grant>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/"
    r"(?:(?P<master>master\.m3u8)|key/(?P<key>[0-9]{5})|"
    r"(?P<rendition>[0-9a-z]{2,8})/(?:index\.m3u8|(?P<segment>seg_[0-9]{5}\.ts)))$"
)
SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]

ASGIApp = Any


@cache
def front_enabled() -> bool:
    """The front serves the doors when its async reads and its checks match this deployment exactly:
    Django's own ``get_user`` and session hash (``core.hmacs.session_auth_hashes`` recomputes it)."""
    backends = [import_string(path) for path in settings.AUTHENTICATION_BACKENDS]
    return (
        door_backends.available()
        and all(issubclass(b, ModelBackend) and b.get_user is ModelBackend.get_user for b in backends)
        and not any(
            name in vars(cls)
            for cls in User.__mro__[: User.__mro__.index(AbstractBaseUser)]
            for name in ("get_session_auth_hash", "_get_session_auth_hash")
        )
    )


class LoadedSession(SessionBase):
    """Session data already read, for Django's checks that take a session (key validation, idle time)."""

    def __init__(self, session_key: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(session_key)
        self._data = dict(data or {})

    def load(self) -> dict[str, Any]:
        return self._data


def session_user_id(session: SessionBase) -> Any | None:
    """The user a live session is signed in as, through a backend this site accepts (as get_user)."""
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    if session_expired(session, int(time.time())):
        return None
    return user_id


def session_verified(session: SessionBase, user: User) -> bool:
    """get_user's check: the session holds the user's current session hash, or a fallback secret's; a
    changed password ends every session. The user must be allowed to log in (ModelBackend)."""
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not user.is_active:
        return False
    return any(constant_time_compare(session_hash, h) for h in session_auth_hashes(user.password))


def _session(backends: DoorBackends, session_key: str, row: Sequence[Any]) -> SessionBase | None:
    encoded = grant_session_data(row)
    if encoded is None:  # no such session, or expired
        return None
    return LoadedSession(session_key, backends.decode_session(encoded))  # Django's signed decoding


async def _stored_text(backends: DoorBackends, grant: PlaybackGrant, relative: str) -> str:
    text = await backends.published_text(stored_text_key(grant.cut, relative))
    if text is None:  # first request for this cut since the cache was emptied: read the store
        text = await sync_to_async(stored_text, thread_sensitive=False)(grant.cut, relative)
    return text


def _record_refusal(grant_id: object, door: str, refusals: int) -> None:
    """The rare write of a refused pace (at most once per grant, door and recording interval)."""
    close_old_connections()
    try:
        services.pace_refusal_record(grant_id=grant_id, door=door, refusals=refusals)
    finally:
        close_old_connections()


async def _take(backends: DoorBackends, grant: PlaybackGrant, fetch: PacedFetch) -> pace.Verdict:
    """The fetch's cost from the grant's pace bucket; the script counts a key or logs a segment."""
    verdict = await backends.pace(grant_id=grant.pk, door=fetch.door, cost=fetch.cost, log=fetch.log)
    if verdict.record:
        await sync_to_async(_record_refusal)(grant.pk, fetch.door, verdict.refusals)
    return verdict


async def answer(
    kind: str, grant_id: str, rendition: str, cookies: Mapping[str, str], name: str = ""
) -> DoorAnswer:
    backends = await door_backends.door_backends()
    session_key = LoadedSession(cookies.get(settings.SESSION_COOKIE_NAME, "")).session_key  # validated
    grant_pk = grant_lookup(grant_id, backends.db)
    if session_key is None or grant_pk is None:
        return refused(not_found())
    now = timezone.now()
    row = await backends.grant_row(
        grant_pk=grant_pk,
        device_hash=services.device_hash(device_token=cookies.get(DEVICE_COOKIE, "")),
        session_key=session_key,
        now=now,
    )
    if row is None:  # no such grant, or not for this device
        return refused(not_found())
    session = _session(backends, session_key, row)
    viewer = grant_viewer(row, backends.db)
    if session is None or session_user_id(session) != viewer.pk or not session_verified(session, viewer):
        return refused(not_found())  # not signed in, or not as the grant's viewer
    with translation.override(viewer.language or settings.LANGUAGE_CODE):
        try:
            grant = grant_from_row(row, backends.db, at=now)
        except DomainError as error:
            return refused(error.refusal)
        if kind in (KEY, SEGMENT):
            fetch = paced_fetch(kind, grant, rendition, name)
            if fetch is None:
                return refused(not_found())
            return fetch_answer(grant, fetch, await _take(backends, grant, fetch))
        relative = stored_playlist(kind, grant, rendition)
        if relative is None:
            return refused(not_found())
        return playlist_answer(kind, grant, rendition, await _stored_text(backends, grant, relative))


def _read_object(key: str) -> bytes:
    store = local_store()
    if store is None:
        raise ObjectNotFound(key)
    with store.open_file(key) as handle:
        return bytes(handle.read())


async def _with_stored_body(door: DoorAnswer) -> DoorAnswer:
    """A segment from the local store (the embedded default and tests): read off the event loop. In
    production the door redirects to the object store and no bytes come here."""
    try:
        body = await asyncio.to_thread(_read_object, door.object_key)
    except (ObjectNotFound, ValueError):
        return refused(not_found())
    return DoorAnswer(door.status, door.content_type, body, door.headers)


class MediaDoors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = (
            DOOR_PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        )
        if match is None or not front_enabled():
            await self.app(scope, receive, send)
            return
        kind = MASTER if match["master"] else KEY if match["key"] else SEGMENT if match["segment"] else MEDIA
        cookie = b"; ".join(value for name, value in scope["headers"] if name == b"cookie").decode("latin-1")
        door = await answer(
            kind,
            match["grant"],
            match["rendition"] or "",
            parse_cookie(cookie),
            match["segment"] or match["key"] or "",
        )
        if door.object_key:
            door = await _with_stored_body(door)
        headers = [
            (b"content-type", door.content_type.encode()),
            (b"content-length", str(len(door.body)).encode()),
            *SECURITY_HEADERS,
            *((k.lower().encode(), v.encode()) for k, v in door.headers.items()),
        ]
        await send({"type": "http.response.start", "status": door.status, "headers": headers})
        await send({"type": "http.response.body", "body": door.body})
