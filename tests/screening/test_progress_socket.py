"""Live packaging progress over a real WebSocket (Channels' communicator on the project's ASGI app)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from screening.models import Cut, CutStatus
from tests.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


async def _connect(user: Any, film_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/films/{film_id}/cuts/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    communicator.scope["user"] = user
    return communicator


def _make_cut(world: World) -> Cut:
    return Cut.objects.create(
        film=world.film,
        number=1,
        uploaded_by=world.producer,
        source_filename="a.mp4",
        source_size=10,
        status=CutStatus.PROCESSING,
        progress=10,
        stage="transcoding",
    )


async def test_team_member_sees_progress_live_and_can_cancel(world: World) -> None:
    cut = await database_sync_to_async(_make_cut)(world)
    communicator = await _connect(world.producer, world.film.pk)
    connected, _code = await communicator.connect()
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    assert first["cuts"][0]["progress"] == 10
    await database_sync_to_async(Cut.objects.filter(pk=cut.pk).update)(progress=55.5)
    update = await communicator.receive_json_from(timeout=5)
    assert update["cuts"][0]["progress"] == 55.5
    await communicator.send_json_to({"action": "cancel", "cut": str(cut.public_id)})
    await asyncio.sleep(0.2)
    assert await database_sync_to_async(lambda: Cut.objects.get(pk=cut.pk).cancel_requested)()
    await communicator.send_json_to({"action": "explode"})
    error = await communicator.receive_json_from(timeout=5)
    while error["type"] != "error":
        error = await communicator.receive_json_from(timeout=5)
    assert "malformed" in error["detail"].lower()
    await communicator.disconnect()


@pytest.mark.parametrize("who", ["pro", "other_producer", "unverified"])
async def test_outsiders_get_the_same_answer_as_for_a_missing_film(world: World, who: str) -> None:
    communicator = await _connect(getattr(world, who), world.film.pk)
    connected, code = await communicator.connect()
    assert not connected and code == 4404
    missing = await _connect(world.producer, 999_999)
    connected, code = await missing.connect()
    assert not connected and code == 4404


async def test_foreign_origin_is_refused(world: World) -> None:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/films/{world.film.pk}/cuts/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"testserver")],
    )
    communicator.scope["user"] = world.producer
    connected, _code = await communicator.connect()
    assert not connected
