"""Every consumer, not only the thread's, is bound to its session, decodes frames through core.text and
speaks the page's language (accounts.live.LiveConsumer): the packaging-progress socket as the example."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from audit.models import AuditEntry
from config.asgi import application
from screening.models import Cut, CutStatus
from tests.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


def _login(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.session.session_key  # type: ignore[no-any-return]


async def _progress(world: World, key: str, *extra: tuple[bytes, bytes]) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application,
        f"/ws/films/{world.film.pk}/cuts/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"sessionid={key}".encode()),
            *extra,
        ],
    )
    connected, code = await socket.connect()
    assert connected, code
    assert (await socket.receive_json_from(timeout=5))["type"] == "cuts"
    return socket


async def test_a_logout_closes_the_progress_socket(world: World, settings: Any) -> None:
    settings.SOCKET_SESSION_CHECK_SECONDS = 3600  # the logout's own push, not the periodic check
    key = await database_sync_to_async(_login)(world.producer)
    socket = await _progress(world, key)

    def logout() -> None:
        client = Client()
        client.cookies["sessionid"] = key
        client.post("/accounts/logout/")

    await database_sync_to_async(logout)()
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ('{"action": "cancel", "cut": "a\\u0000"}', "invalid_text", "cut"),
        ("[" * 5000 + "]" * 5000, "too_deep", None),
    ],
)
async def test_unsafe_frames_get_an_error_and_the_socket_stays_open(
    world: World, frame: str, code: str, field: str | None
) -> None:
    socket = await _progress(world, await database_sync_to_async(_login)(world.producer))
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from(timeout=5)
    assert (error["type"], error["code"], error["field"]) == ("error", code, field)
    await socket.send_to(text_data=json.dumps({"action": "nothing"}))
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"  # still open, still answering
    await socket.disconnect()


async def test_labels_speak_the_language_of_the_page(world: World) -> None:
    from django.utils import translation

    from screening.models import CutStage

    await database_sync_to_async(_a_cut)(world)
    key = await database_sync_to_async(_login)(world.producer)  # the account's own language is English
    socket = WebsocketCommunicator(
        application,
        f"/ws/films/{world.film.pk}/cuts/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"sessionid={key}; django_language=fr".encode()),
        ],
    )
    assert (await socket.connect())[0]
    cuts = (await socket.receive_json_from(timeout=5))["cuts"]
    with translation.override("fr"):
        french = str(CutStage.TRANSCODING.label)
    assert french != "Transcoding" and cuts[0]["stage_label"] == french
    await socket.disconnect()


def _a_cut(world: World) -> None:
    from screening.models import Cut

    Cut.objects.create(
        film=world.film,
        number=1,
        uploaded_by=world.producer,
        source_filename="a.mov",
        source_size=1,
        stage="transcoding",
    )


async def test_an_action_over_the_socket_records_the_client_address(world: World, settings: Any) -> None:
    """Every audit entry says from where, over the WebSocket as over HTTP (``accounts.live``): here a
    producer cancels a queued cut through the progress socket; behind a trusted proxy the first
    X-Forwarded-For hop counts, as for HTTP requests."""
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    cut = await database_sync_to_async(Cut.objects.create)(
        film=world.film,
        number=1,
        status=CutStatus.QUEUED,
        uploaded_by=world.producer,
        source_filename="cut.mov",
        source_size=1,
    )
    key = await database_sync_to_async(_login)(world.producer)
    socket = await _progress(world, key, (b"x-forwarded-for", b"203.0.113.7, 10.0.0.1"))
    await socket.send_json_to({"action": "cancel", "cut": str(cut.public_id)})
    entry = None
    for _attempt in range(50):
        entry = await database_sync_to_async(AuditEntry.objects.filter(target_id=str(cut.pk)).last)()
        if entry is not None:
            break
        await socket.receive_nothing(timeout=0.1)
    await socket.disconnect()
    assert entry is not None and entry.actor_id == world.producer.pk
    assert entry.ip == "203.0.113.7"
