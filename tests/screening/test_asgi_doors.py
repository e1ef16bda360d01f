"""The lean ASGI front: the same doors, the same rules, Django's own authentication, no middleware stack."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import IDLE_KEY
from config.asgi import application
from screening import services
from screening.models import Cut, PlaybackGrant
from tests.conftest import World
from tests.screening.conftest import DEVICE, Packaged, looks_like_clear_mpeg_ts, publish, viewer_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


def _press_play(client: Client, cut: Cut) -> dict[str, Any]:
    return dict(client.post(reverse("screening:grant-create", args=[cut.public_id])).json())


def _asgi(client: Client, device: str = DEVICE) -> httpx.AsyncClient:
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        "fip_device": device,
    }
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver", cookies=cookies
    )


async def _doors(http: httpx.AsyncClient, grant: dict[str, Any]) -> dict[str, str]:
    master = await http.get(grant["master_url"])
    assert master.status_code == 200, master.text
    media_url = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    media = await http.get(media_url)
    key = re.search(r'URI="([^"]+)"', media.text)
    assert key is not None
    segment = next(line for line in media.text.splitlines() if line and not line.startswith("#"))
    return {"master": grant["master_url"], "playlist": media_url, "key": key.group(1), "segment": segment}


async def _knock(http: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, tuple[int, str]]:
    out = {}
    for door, url in urls.items():
        response = await http.get(url)
        out[door] = (response.status_code, response.headers.get("x-refusal-code", ""))
    return out


@pytest.fixture
def setup(world: World, packaged: Packaged, store_root: Any) -> tuple[World, Cut, Client, dict[str, Any]]:
    cut = publish(world, packaged)
    client = viewer_client(world.pro)
    return world, cut, client, _press_play(client, cut)


async def test_the_front_serves_every_door_to_the_viewer(setup: Any, packaged: Packaged) -> None:
    _world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _doors(http, grant)
        key = await http.get(urls["key"])
        assert key.status_code == 200 and key.content == packaged.key
        assert key.headers["cache-control"] == "no-store"
        segment = await http.get(urls["segment"])
        assert segment.status_code == 200 and not looks_like_clear_mpeg_ts(segment.content)
        assert segment.headers["content-type"] == "video/mp2t"


async def test_the_front_refuses_like_the_views(setup: Any) -> None:
    world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _doors(http, grant)
    async with _asgi(client, device="another-browser-device-token-0002") as thief:
        assert await _knock(thief, urls) == {door: (404, "not_found") for door in urls}
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="http://testserver",
        cookies={"fip_device": DEVICE},
    )
    async with anonymous:
        assert await _knock(anonymous, urls) == {door: (404, "not_found") for door in urls}
    await sync_to_async(PlaybackGrant.objects.update)(expires_at=timezone.now() - dt.timedelta(seconds=1))
    async with _asgi(client) as http:
        assert await _knock(http, urls) == {door: (403, "grant_expired") for door in urls}


async def test_revocation_and_a_changed_password_end_access_at_the_next_request(setup: Any) -> None:
    world, cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _doors(http, grant)
        await sync_to_async(services.access_revoke)(
            admin=world.admin, user=world.pro, film=None, reason="Leak"
        )
        assert await _knock(http, urls) == {door: (403, "grant_revoked") for door in urls}

    other = await sync_to_async(viewer_client)(world.other_producer, device="second-viewer-device-token-0001")
    other_grant = await sync_to_async(_press_play)(other, cut)
    async with _asgi(other, device="second-viewer-device-token-0001") as http:
        other_urls = await _doors(http, other_grant)

        def change_password() -> None:
            world.other_producer.set_password("a completely new password 42")
            world.other_producer.save()

        await sync_to_async(change_password)()
        assert await _knock(http, other_urls) == {door: (404, "not_found") for door in other_urls}


async def test_an_idle_session_is_refused(setup: Any) -> None:
    _world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _doors(http, grant)

    def idle() -> None:
        session = client.session
        session[IDLE_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5
        session.save()

    await sync_to_async(idle)()
    async with _asgi(client) as http:
        assert await _knock(http, urls) == {door: (404, "not_found") for door in urls}


async def test_everything_else_goes_to_django() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    ) as h:
        health = await h.get("/healthz")
        assert health.status_code == 200 and "frame-ancestors" in health.headers["content-security-policy"]
        post = await h.post("/play/00000000-0000-0000-0000-000000000000/heartbeat")
        assert post.status_code == 403  # Django's CSRF check, not the front
