"""The lean front's own connections: the event loop's async PostgreSQL pool (``core.async_db``) and an
async Redis pool per event loop.

Django's ORM and cache are synchronous: from an async front every read would hop to a thread, and
Django's PostgreSQL cursors bind parameters client-side, so the door's statement would be planned afresh
on every request (planning costs more than running it). Here the same servers are read asynchronously:
PostgreSQL with the door's statement prepared once per connection; Redis through redis.asyncio with
Django's own cache keys (``make_key``) and serialisation (``RedisSerializer``).

Every request reads its session, grant and facts afresh, in one statement, and runs at most one Redis
script (a door's pace bucket, ``screening.pace``). Only the stored text of
published playlists, which never changes, and the decoding of session texts (pure functions of what was
read) are kept in process memory.

Only for deployments on PostgreSQL with database-backed sessions and a Redis cache (``available``);
elsewhere the front hands the doors to Django.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import weakref
from collections.abc import Sequence
from functools import lru_cache
from importlib import import_module
from typing import Any, cast

import redis.asyncio as aioredis
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from core.async_db import async_database, close_async_database
from screening import pace
from screening.policy import GRANT_SESSION_SQL

REDIS_CONNECTIONS = 64
SESSIONS_DECODED = 4096  # decoded session data kept per process, by stored text (under 1 KB each)
PLAYLIST_TEXTS = 512  # stored playlists kept per process (a few KB each; published cuts never change)
# Both engines write every session to django_session, which the front reads.
DATABASE_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
}


def _redis_location() -> str:
    location = settings.CACHES["default"]["LOCATION"]
    servers = location if isinstance(location, list | tuple) else location.split(",")
    return str(servers[0]).strip()  # the primary, where Django's cache writes


def available() -> bool:
    """True on PostgreSQL with database-backed sessions and a Redis cache: what the reads below expect."""
    return (
        settings.SESSION_ENGINE in DATABASE_SESSION_ENGINES
        and isinstance(caches["default"], RedisCache)
        and connections["default"].vendor == "postgresql"
    )


class DoorBackends:
    def __init__(self) -> None:
        self.db: BaseDatabaseWrapper = connections["default"]  # for its operations only, never queried
        self.cache = caches["default"]
        self.session_codec: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
        # Decoding a session (a signature check, zlib, JSON) is a pure function of its stored text: any
        # change to the session is a new text, decoded afresh. The result is shared: read it, never write.
        self.decode_session = lru_cache(maxsize=SESSIONS_DECODED)(self.session_codec.decode)
        self._serializer = RedisSerializer()
        self._texts: dict[str, str] = {}
        self.redis = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                _redis_location(), max_connections=REDIS_CONNECTIONS, timeout=10
            )
        )
        self._pace = self.redis.register_script(pace.PACE_SCRIPT)

    async def open(self) -> None:
        self.database = await async_database()

    async def close(self) -> None:
        await close_async_database()
        await self.redis.aclose(close_connection_pool=True)

    async def grant_row(
        self, *, grant_pk: Any, device_hash: str, session_key: str, now: dt.datetime
    ) -> Sequence[Any] | None:
        """policy.GRANT_SESSION_SQL's row, from a prepared statement."""
        row: Sequence[Any] | None = await self.database.fetchone(
            GRANT_SESSION_SQL, [session_key, now, grant_pk, device_hash]
        )
        return row

    async def published_text(self, key: str) -> str | None:
        """A published playlist's stored text, cached by ``playlists.stored_text`` under ``key``."""
        text = self._texts.get(key)
        if text is None:
            value = await self.redis.get(self.cache.make_key(key))
            if value is None:
                return None
            text = self._texts[key] = str(self._serializer.loads(cast(bytes, value)))  # no decode_responses
            if len(self._texts) > PLAYLIST_TEXTS:
                del self._texts[next(iter(self._texts))]  # the oldest
        return text

    async def pace(self, *, grant_id: object, door: str, cost: float, log: str) -> pace.Verdict:
        """``pace.pace_take`` in one Redis command: the bucket, and the fetch log or key counter."""
        keys, args = pace.script_args(
            grant_id=grant_id,
            door=door,
            cost=cost,
            log=log,
            now_ms=int(time.time() * 1000),
            make_key=self.cache.make_key,
        )
        return pace.verdict(await self._pace(keys=keys, args=args))


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DoorBackends] = weakref.WeakKeyDictionary()


async def door_backends() -> DoorBackends:
    """This event loop's backends (a server process has one loop; each test has its own)."""
    loop = asyncio.get_running_loop()
    backends = _BY_LOOP.get(loop)
    if backends is None:
        backends = _BY_LOOP[loop] = DoorBackends()
    await backends.open()
    return backends


async def close_door_backends() -> None:
    """Close this event loop's pools (tests, before their loop and their database go away)."""
    backends = _BY_LOOP.pop(asyncio.get_running_loop(), None)
    if backends is not None:
        await backends.close()
