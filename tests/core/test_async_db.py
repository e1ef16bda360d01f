"""core.async_db's pool, on a real PostgreSQL: statements, sharing a few connections among many callers,
a connection lost under a caller, a caller cancelled mid-statement, waiting too long, closing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from django.db import connections

from core import async_db
from core.async_db import PoolTimeout, async_database, close_async_database, postgresql

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not postgresql(), reason="the async pool is PostgreSQL's"),
]


@pytest.fixture
async def database() -> AsyncIterator[async_db.AsyncDatabase]:
    yield await async_database()
    await close_async_database()


def _terminate(pids: set[int]) -> None:
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])


async def test_one_statement_its_row_in_utc(database: async_db.AsyncDatabase) -> None:
    assert await database.fetchone("SELECT %s::int + 1, current_setting('TimeZone')", [41]) == (42, "UTC")
    assert await database.fetchone("SELECT 1 WHERE false", []) is None
    assert await async_database() is database  # one pool per event loop


async def test_many_callers_share_a_few_connections(database: async_db.AsyncDatabase) -> None:
    rows = await asyncio.gather(
        *(database.fetchone("SELECT pg_backend_pid(), pg_sleep(0.02)", []) for _ in range(20))
    )
    assert len(rows) == 20
    assert 1 <= len({pid for pid, _ in rows}) <= async_db.POOL_MAX


async def test_a_connection_lost_is_replaced(database: async_db.AsyncDatabase) -> None:
    rows = await asyncio.gather(
        *(database.fetchone("SELECT pg_backend_pid(), pg_sleep(0.02)", []) for _ in range(8))
    )
    lost = {pid for pid, _ in rows}
    await asyncio.to_thread(_terminate, lost)
    failures = 0
    for _ in range(len(lost)):  # each dead connection fails its next caller once, then is gone
        try:
            await database.fetchone("SELECT 1", [])
        except psycopg.OperationalError:
            failures += 1
    assert 1 <= failures <= len(lost)
    rows = await asyncio.gather(
        *(database.fetchone("SELECT pg_backend_pid(), pg_sleep(0.02)", []) for _ in range(8))
    )
    assert not {pid for pid, _ in rows} & lost
    assert database._size <= async_db.POOL_MAX  # nothing leaked: the lost ones were counted out


async def test_a_caller_cancelled_mid_statement_does_not_hand_on_a_busy_connection(
    database: async_db.AsyncDatabase,
) -> None:
    slow = asyncio.create_task(database.fetchone("SELECT pg_sleep(5)", []))
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await database.fetchone("SELECT 7", []) == (7,)


async def test_waiting_too_long_is_refused_and_the_connection_goes_to_the_next(
    database: async_db.AsyncDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(async_db, "POOL_MAX", 1)
    monkeypatch.setattr(async_db, "POOL_TIMEOUT", 0.3)
    holder = asyncio.create_task(database.fetchone("SELECT 'held', pg_sleep(0.5)", []))
    await asyncio.sleep(0.1)
    with pytest.raises(PoolTimeout):
        await database.fetchone("SELECT 'too late'", [])
    after = asyncio.create_task(database.fetchone("SELECT 'after'", []))  # waits its turn, in time
    assert (await holder)[0] == "held"
    assert await after == ("after",)


async def test_closing_ends_the_waiters_and_refuses_new_callers(
    database: async_db.AsyncDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(async_db, "POOL_MAX", 1)
    holder = asyncio.create_task(database.fetchone("SELECT pg_sleep(0.3)", []))
    await asyncio.sleep(0.1)
    waiter = asyncio.create_task(database.fetchone("SELECT 1", []))
    await asyncio.sleep(0.05)
    await database.close()
    with pytest.raises(PoolTimeout):
        await waiter
    await holder  # the statement under way finishes; its connection is then closed, not kept
    assert database._idle == [] and database._size == 0
    with pytest.raises(PoolTimeout):
        await database.fetchone("SELECT 1", [])


async def test_a_connection_handed_to_a_caller_cancelled_meanwhile_is_not_lost(
    database: async_db.AsyncDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(async_db, "POOL_MAX", 1)
    conn = await database._acquire()
    waiting = asyncio.create_task(database._acquire())
    await asyncio.sleep(0.05)  # waiting for the one connection
    database._release(conn)  # handed to the waiter, which has not run yet...
    waiting.cancel()  # ...and is cancelled before it does
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert database._idle == [conn] and database._size == 1
    assert await database.fetchone("SELECT 3", []) == (3,)
