"""Async PostgreSQL for the hot paths an event loop serves itself (the playback doors, thread messages).

Django's ORM is synchronous: from an async consumer or front every statement would hop to Django's one
sync thread, queue behind every other socket's statements and contend with the event loop for the GIL
(measured under `make bench`: a thread message's p99 fell from 28 ms to 7 ms without the hop). Here the
same database is reached with psycopg's AsyncConnectionPool, built from Django's own connection
parameters, in autocommit (each statement its own transaction), with statements prepared per connection.

One pool per event loop: a server process has one loop; each async test has its own and closes it with
``close_async_database``. Only on PostgreSQL (``async_database`` returns None elsewhere).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from django.db import connections
from psycopg_pool import AsyncConnectionPool

# Per process, on top of Django's own pool. A prepared statement takes a fraction of a millisecond, so a
# few connections serve thousands of statements a second; callers beyond them wait their turn.
POOL_MIN, POOL_MAX, POOL_TIMEOUT = 1, 4, 10.0


class AsyncDatabase:
    def __init__(self) -> None:
        self.db = connections["default"]  # for its parameters and operations only, never queried
        params = self.db.get_connection_params()
        params.pop("cursor_factory", None)  # server-side binding, so that statements can be prepared
        # Django turns preparing off (None) for transaction-mode poolers; PgBouncer 1.21+ handles
        # protocol-level prepared statements (max_prepared_statements). psycopg's default threshold.
        params.update(autocommit=True, prepare_threshold=5)
        self.pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            kwargs=params,
            configure=self._configure,
            open=False,
            min_size=POOL_MIN,
            max_size=POOL_MAX,
            timeout=POOL_TIMEOUT,
        )
        self._opened = False

    async def _configure(self, conn: Any) -> None:
        # As Django does for its own connections: timestamps come back in its time zone (UTC).
        await conn.execute("SELECT set_config('TimeZone', %s, false)", [self.db.timezone_name])

    async def open(self) -> None:
        if not self._opened:
            await self.pool.open()
            self._opened = True

    async def fetchone(self, sql: str, params: Any) -> Any:
        """One statement, prepared, in its own transaction; its first row or None."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchone()


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncDatabase] = weakref.WeakKeyDictionary()


def postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


async def async_database() -> AsyncDatabase:
    """This event loop's pool, opened on first use. PostgreSQL only (check ``postgresql()`` first)."""
    loop = asyncio.get_running_loop()
    database = _BY_LOOP.get(loop)
    if database is None:
        database = _BY_LOOP[loop] = AsyncDatabase()
    await database.open()
    return database


async def close_async_database() -> None:
    """Close this event loop's pool (tests, before their loop and their database go away)."""
    database = _BY_LOOP.pop(asyncio.get_running_loop(), None)
    if database is not None:
        await database.pool.close()
