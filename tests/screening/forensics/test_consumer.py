"""A leak trace's progress over a real WebSocket (Channels' communicator on the project's ASGI app)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from screening.models import LeakTrace, TraceResult, TraceStatus
from tests.conftest import World, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


async def _connect(user: Any, trace_id: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/forensics/traces/{trace_id}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    communicator.scope["user"] = user
    return communicator


def _make_trace(world: World) -> LeakTrace:
    return LeakTrace.objects.create(
        film=world.film,
        requested_by=world.admin,
        suspect_name="leak.mp4",
        suspect_size=10,
        suspect_sha256="0" * 64,
        suspect_key="forensics/suspects/x",
        status=TraceStatus.RUNNING,
        progress=12.5,
        stage="decoding",
    )


async def test_a_ready_admin_follows_the_trace_to_its_end(world: World) -> None:
    trace = await database_sync_to_async(_make_trace)(world)
    communicator = await _connect(world.admin, trace.pk)
    connected, _code = await communicator.connect()
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    assert first == {
        "type": "trace",
        "status": "running",
        "progress": 12.5,
        "stage": "decoding",
        "stage_label": "Reading the copy",
        "result": "",
    }
    await database_sync_to_async(LeakTrace.objects.filter(pk=trace.pk).update)(
        progress=60.0, stage="measuring"
    )
    update = await communicator.receive_json_from(timeout=5)
    assert (update["progress"], update["stage_label"]) == (60.0, "Reading the mark, segment by segment")
    await database_sync_to_async(LeakTrace.objects.filter(pk=trace.pk).update)(
        status=TraceStatus.DONE, progress=100.0, stage="done", result=TraceResult.NAMED
    )
    done = await communicator.receive_json_from(timeout=5)
    assert (done["status"], done["result"], done["progress"]) == ("done", "named", 100.0)
    await communicator.disconnect()


@pytest.mark.parametrize("who", ["pro", "producer", "no_mfa", "staff_without_totp", "anonymous"])
async def test_anyone_else_gets_the_answer_of_a_missing_trace(world: World, who: str) -> None:
    trace = await database_sync_to_async(_make_trace)(world)
    if who == "staff_without_totp":
        user: Any = await database_sync_to_async(make_user)(
            "staff-nomfa@festival.example", staff=True, mfa=False
        )
    elif who == "anonymous":
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    else:
        user = getattr(world, who)
    communicator = await _connect(user, trace.pk)
    connected, code = await communicator.connect()
    assert not connected and code == 4404


async def test_a_missing_trace_is_refused_like_a_forbidden_one(world: World) -> None:
    import uuid

    communicator = await _connect(world.admin, uuid.uuid4())
    connected, code = await communicator.connect()
    assert not connected and code == 4404


async def test_a_foreign_origin_is_refused(world: World) -> None:
    trace = await database_sync_to_async(_make_trace)(world)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/forensics/traces/{trace.pk}/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"testserver")],
    )
    communicator.scope["user"] = world.admin
    connected, _code = await communicator.connect()
    assert not connected
