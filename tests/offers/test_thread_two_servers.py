"""Two real ASGI server processes (uvicorn) on one PostgreSQL database and one Redis channel layer: a
message sent through a socket of one process reaches the other party's socket on the other process.

Needs a PostgreSQL DATABASE_URL (the servers must share the test database, which SQLite in memory cannot
do) and REDIS_URL (the RedisChannelLayer that joins the processes); CI sets both.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import pytest
from django.db import connection
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from offers.models import Offer
from tests.bench.ws_stack import (
    create_session,
    server_env,
    uvicorn_servers,
    with_database,
    ws_headers,
)
from tests.conftest import World
from tests.offers.conftest import submitted_offer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs REDIS_URL and a PostgreSQL DATABASE_URL: two server processes share the test database "
        "and the Redis channel layer (CI sets both)",
    ),
    pytest.mark.django_db(transaction=True),
]


async def _open(port: int, offer_id: int, session_key: str, after: int) -> ClientConnection:
    """A socket on the server at ``port``, resumed after ``after`` (the client has seen the history)."""
    socket = await connect(
        f"ws://127.0.0.1:{port}/ws/offers/{offer_id}/",
        origin=Origin(f"http://127.0.0.1:{port}"),  # the whole origin is checked: the server's own
        additional_headers=ws_headers(session_key),
    )
    await socket.send(json.dumps({"type": "resume", "after": after}))
    await _next(socket, "synced")
    return socket


async def _next(socket: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    """The next frame of ``kind`` whose event fields equal ``match``, skipping presence and the rest."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if frame["type"] != kind:
            continue
        if all(frame.get("event", {}).get(key) == value for key, value in match.items()):
            return frame


async def _converse(ports: list[int], offer: Offer, pro_key: str, producer_key: str) -> None:
    pro = await _open(ports[0], offer.pk, pro_key, after=offer.last_seq)
    producer = await _open(ports[1], offer.pk, producer_key, after=offer.last_seq)
    try:
        # Bodies unique to this run: other test runs may share the Redis server (and offer ids).
        hello, answer = f"Hola {uuid.uuid4().hex}", f"Bonjour {uuid.uuid4().hex}"
        await pro.send(json.dumps({"type": "message", "body": hello, "client_id": "via-a"}))
        ack = await _next(pro, "ack")
        assert (ack["action"], ack["client_id"], ack["seq"]) == ("message", "via-a", offer.last_seq + 1)
        heard = (await _next(producer, "event", body=hello))["event"]
        assert (heard["seq"], heard["kind"], heard["side"]) == (offer.last_seq + 1, "message", "offeror")

        await producer.send(json.dumps({"type": "message", "body": answer, "client_id": "via-b"}))
        heard = (await _next(pro, "event", body=answer))["event"]
        assert (heard["seq"], heard["side"], heard["client_id"]) == (offer.last_seq + 2, "producer", "via-b")
    finally:
        await pro.close()
        await producer.close()


def test_a_message_crosses_from_one_server_process_to_the_other(world: World) -> None:
    offer = submitted_offer(world)
    pro_key, producer_key = create_session(world.pro), create_session(world.producer)
    database_url = with_database(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
    env = server_env(database_url=database_url, redis_url=os.environ["REDIS_URL"], DB_POOL_MIN="1")
    with uvicorn_servers(env, count=2) as servers:
        asyncio.run(_converse([s.port for s in servers], offer, pro_key, producer_key))
    assert list(offer.events.order_by("seq").values_list("seq", "side")) == [
        (1, "offeror"),
        (2, "offeror"),
        (3, "producer"),
    ]
