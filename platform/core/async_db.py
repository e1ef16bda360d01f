"""Async PostgreSQL for the hot paths an event loop serves itself (the playback doors, thread messages).

Django's ORM is synchronous: from an async consumer or front every statement would hop to Django's one
sync thread, queue behind every other socket's statements and contend with the event loop for the GIL
(measured under `make bench`: a thread message's p99 fell from 28 ms to 7 ms without the hop). Here the
same database is reached with a few psycopg async connections (``AsyncDatabase``), opened with Django's
own connection parameters, in autocommit (each statement its own transaction), with statements prepared
per connection.

One pool per event loop: a server process has one loop; each async test has its own and closes it with
``close_async_database``. PostgreSQL only: callers check ``postgresql()`` first.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from typing import Any

import psycopg
from django.db import connections
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)

# Per process, on top of Django's own connections. A prepared statement takes a fraction of a millisecond,
# so a few connections serve thousands of statements a second; callers beyond them wait their turn.
POOL_MAX, POOL_TIMEOUT = 4, 10.0


class PoolTimeout(Exception):
    """No connection came free within POOL_TIMEOUT seconds."""


class AsyncDatabase:
    """A small pool of autocommit connections for one event loop, and the one operation the hot paths
    need (``fetchone``).

    Not psycopg_pool: its checkout and return (locks, statistics, a health check per return) cost about
    45 µs per statement on this project's machines, a third of the statement's whole client-side cost
    (measured with the playback doors' statement: 165 µs through psycopg_pool, 120 µs through this).
    Here a free connection is a list pop; a connection that comes back broken, or not idle, is closed
    and replaced on demand; waiters are served first come, first served.
    """

    def __init__(self) -> None:
        db = connections["default"]  # for its parameters only, never queried
        params = db.get_connection_params()
        params.pop("cursor_factory", None)  # server-side binding, so that statements can be prepared
        # Django turns preparing off (None) for transaction-mode poolers; PgBouncer 1.21+ handles
        # protocol-level prepared statements (max_prepared_statements). psycopg's default threshold.
        params.update(autocommit=True, prepare_threshold=5)
        self._params = params
        self._timezone = db.timezone_name
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._waiters: deque[asyncio.Future[psycopg.AsyncConnection[Any]]] = deque()
        self._size = 0  # connections open or opening
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()  # closings and reconnections under way

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(**self._params)
        # As Django does for its own connections: timestamps come back in its time zone (UTC).
        await conn.execute("SELECT set_config('TimeZone', %s, false)", [self._timezone])
        return conn

    async def _acquire(self) -> psycopg.AsyncConnection[Any]:
        if self._closed:
            raise PoolTimeout("the pool is closed")
        if self._idle:
            return self._idle.pop()
        if self._size < POOL_MAX:
            self._size += 1
            try:
                return await self._connect()
            except BaseException:
                self._size -= 1
                raise
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(POOL_TIMEOUT):
                return await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())  # handed to us just as we gave up: hand it on
            if isinstance(error, TimeoutError):
                raise PoolTimeout(f"no database connection came free within {POOL_TIMEOUT:g} s") from None
            raise

    def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if self._closed or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            self._size -= 1
            self._spawn(conn.close())
            if self._waiters and not self._closed:  # someone waits for the connection just lost
                self._size += 1
                self._spawn(self._replace())
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # not timed out or cancelled meanwhile
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replace(self) -> None:
        try:
            conn = await self._connect()
        except Exception as error:
            self._size -= 1
            log.warning("could not reconnect to the database: %s", error)
            while self._waiters:  # they would wait for a connection nobody is opening
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(error)
                    return
            return
        self._release(conn)

    async def fetchone(self, sql: str, params: Any) -> Any:
        """One statement, prepared, in its own transaction; its first row or None."""
        conn = await self._acquire()
        try:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchone()
        finally:
            self._release(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
        self._size -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolTimeout("the pool is closed"))
        self._waiters.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncDatabase] = weakref.WeakKeyDictionary()


def postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


async def async_database() -> AsyncDatabase:
    """This event loop's pool (connections open on first use). PostgreSQL only (check ``postgresql()``)."""
    loop = asyncio.get_running_loop()
    database = _BY_LOOP.get(loop)
    if database is None:
        database = _BY_LOOP[loop] = AsyncDatabase()
    return database


async def close_async_database() -> None:
    """Close this event loop's pool (tests, before their loop and their database go away)."""
    database = _BY_LOOP.pop(asyncio.get_running_loop(), None)
    if database is not None:
        await database.close()
