"""The lean ASGI front: the same doors, the same rules, Django's own authentication, no middleware stack.

On PostgreSQL with Redis (CI) the front answers the playlists and the key itself; in the embedded default
it hands them to Django, and these tests then prove the same answers through Django.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import IDLE_KEY
from config.asgi import application
from screening import pace, services
from screening.asgi import front_enabled
from screening.door_backends import close_door_backends
from screening.models import Cut, PlaybackGrant
from tests.conftest import World
from tests.screening.conftest import (
    DEVICE,
    Packaged,
    door_index,
    expected_key,
    looks_like_clear_mpeg_ts,
    publish,
    viewer_client,
)
from tests.screening.test_playback_doors import CASES

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections", "close_front_pools"),
]


@pytest.fixture
async def close_front_pools() -> AsyncIterator[None]:
    """The front's pools belong to this test's event loop: close them so the test database can be dropped."""
    yield
    await close_door_backends()


@pytest.fixture
def front() -> None:
    if not front_enabled():
        pytest.skip("the lean front serves the doors on PostgreSQL with Redis sessions (CI sets both)")


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
        grant_id = urls["key"].split("/")[2]
        assert key.status_code == 200
        assert key.content == expected_key(packaged, grant_id, door_index(urls["key"]))
        assert key.headers["cache-control"] == "no-store"
        segment = await http.get(urls["segment"])
        assert segment.status_code == 200 and not looks_like_clear_mpeg_ts(segment.content)
        assert segment.headers["cache-control"] == "no-store"
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


# --- The front's own reads: nothing is remembered between requests ---------------------------------


async def _front_doors(http: httpx.AsyncClient, grant: dict[str, Any]) -> dict[str, str]:
    """The four doors the front answers itself."""
    return await _doors(http, grant)


async def _served_by_the_front(http: httpx.AsyncClient, url: str) -> bool:
    # Django's security middleware adds a CSP to every answer; the front answers without one.
    response = await http.get(url)
    return response.status_code == 200 and "content-security-policy" not in response.headers


@pytest.mark.parametrize(("name", "change", "status", "code"), CASES, ids=[c[0] for c in CASES])
async def test_a_change_after_a_served_request_is_refused_at_once(
    front: None,
    setup: Any,
    name: str,
    change: Callable[[World, Cut], None],
    status: int,
    code: str,
) -> None:
    world, cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
        assert all([await _served_by_the_front(http, url) for url in urls.values()])
        await sync_to_async(change)(world, cut)
        assert await _knock(http, urls) == {door: (status, code) for door in urls}


async def test_a_second_device_ends_the_first_stream_at_once(front: None, setup: Any) -> None:
    _world, cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
        phone = await sync_to_async(viewer_client)(_world.pro, device="the-phone-device-token-000000003")
        await sync_to_async(_press_play)(phone, cut)
        assert await _knock(http, urls) == {door: (403, "grant_superseded") for door in urls}


async def test_another_viewers_session_with_the_same_device_is_not_found(front: None, setup: Any) -> None:
    world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
    other = await sync_to_async(viewer_client)(world.other_producer)
    async with _asgi(other) as http:
        assert await _knock(http, urls) == {door: (404, "not_found") for door in urls}


def _edit_session(client: Client, **changes: Any) -> None:
    session = client.session
    for name, value in changes.items():
        session[name] = value
    session.save()


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda c, w: _edit_session(c, **{HASH_SESSION_KEY: "0" * 64}), id="forged session hash"),
        pytest.param(lambda c, w: _edit_session(c, **{HASH_SESSION_KEY: ""}), id="no session hash"),
        pytest.param(
            lambda c, w: _edit_session(c, **{BACKEND_SESSION_KEY: "accounts.backends.Gone"}),
            id="backend no longer configured",
        ),
        pytest.param(
            lambda c, w: _edit_session(c, **{SESSION_KEY: str(w.admin.pk)}), id="session of another user"
        ),
        pytest.param(lambda c, w: c.logout(), id="logged out"),
        pytest.param(
            lambda c, w: Session.objects.filter(session_key=c.session.session_key).update(
                expire_date=timezone.now() - dt.timedelta(seconds=1)
            ),
            id="session expired",
        ),
        pytest.param(
            lambda c, w: type(w.pro).objects.filter(pk=w.pro.pk).update(is_active=False), id="disabled"
        ),
    ],
)
async def test_the_front_authenticates_as_django_does(
    front: None, setup: Any, spoil: Callable[[Client, World], Any]
) -> None:
    world, _cut, client, grant = setup
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
    await sync_to_async(spoil)(client, world)
    old_cookie = {settings.SESSION_COOKIE_NAME: cookie, "fip_device": DEVICE}  # whatever the client did
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=old_cookie
    ) as http:
        assert await _knock(http, urls) == {door: (404, "not_found") for door in urls}


async def test_a_session_missing_from_the_cache_is_read_from_the_database(front: None, setup: Any) -> None:
    _world, _cut, client, grant = setup
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    await sync_to_async(caches[settings.SESSION_CACHE_ALIAS].delete)(cached_db.KEY_PREFIX + key)
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
        assert all([await _served_by_the_front(http, url) for url in urls.values()])


async def test_a_session_signed_with_a_fallback_secret_still_works(
    front: None, setup: Any, settings: Any
) -> None:
    world, _cut, client, grant = setup
    old_secret = "an-older-secret-key-that-was-rotated-out-0123456789"
    old_hash = world.pro._get_session_auth_hash(secret=old_secret)
    await sync_to_async(_edit_session)(client, **{HASH_SESSION_KEY: old_hash})
    async with _asgi(client) as http:
        assert (await http.get(grant["master_url"])).status_code == 404
        settings.SECRET_KEY_FALLBACKS = [old_secret]
        assert await _served_by_the_front(http, grant["master_url"])


async def test_key_fetches_are_counted_where_django_reads_them(front: None, setup: Any) -> None:
    _world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
        assert await _served_by_the_front(http, urls["key"])
        assert await _served_by_the_front(http, urls["key"])
    counter = pace.key_fetch_counter(grant["grant"])
    assert await sync_to_async(cache.get)(counter) == 2
    # ... and stored on the grant by the next heartbeat (``PlaybackGrant.key_fetches``).
    beat = await sync_to_async(client.post)(grant["heartbeat_url"], data={}, content_type="application/json")
    assert beat.status_code == 200
    stored = (
        await PlaybackGrant.objects.filter(pk=grant["grant"]).values_list("key_fetches", flat=True).aget()
    )
    assert stored == 2


def test_the_front_stands_aside_for_a_user_model_with_its_own_session_hash(front: None) -> None:
    """The front recomputes Django's session hash (core.hmacs): a model that defines its own would be
    judged wrongly, so then every door goes to Django."""
    User = get_user_model()
    User.get_session_auth_hash = lambda self: "a hash of its own"  # type: ignore[method-assign]
    front_enabled.cache_clear()
    try:
        assert front_enabled() is False
    finally:
        del User.get_session_auth_hash  # back to the inherited one
        front_enabled.cache_clear()
    assert front_enabled() is True


async def test_the_front_paces_segments_and_the_key_and_records_it(
    front: None, setup: Any, settings: Any
) -> None:
    from screening.models import PaceRefusal

    settings.SCREENING_PACE_BURST_SECONDS = 4  # two 2-second segments, and their two keys
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    _world, _cut, client, grant = setup
    async with _asgi(client) as http:
        urls = await _front_doors(http, grant)
        for door in ("segment", "key"):
            answers = [await http.get(urls[door]) for _ in range(4)]
            assert [a.status_code for a in answers] == [200, 200, 429, 429]
            assert all("content-security-policy" not in a.headers for a in answers)  # the front's
            assert answers[2].headers["x-refusal-code"] == "pace_exceeded"
            assert int(answers[2].headers["retry-after"]) >= 1
    rows = await sync_to_async(lambda: sorted(PaceRefusal.objects.values_list("door", flat=True)))()
    assert rows == ["key", "segment"]
