"""A thread socket is bound to the session it opened with (accounts.socket_session,
accounts.live.LiveConsumer).

Real sockets on the project's ASGI application, authenticated as a browser is (the session cookie) or as an
app client is (allauth's X-Session-Token header). For each way a session or a party ends (logout through
allauth's headless API and through the browser's logout, a password change, the idle and absolute limits,
TOTP removed, the account deactivated, the accreditation revoked):
- a write sent after it is refused and stores nothing, even with every push and periodic check turned off
  (the write re-checks by itself);
- with nothing sent, the socket is closed by itself within seconds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client

from accounts.middleware import IDLE_KEY
from accounts.models import Accreditation, User
from accounts.services import accreditations as account_services
from accounts.socket_session import LOGIN_RECORDS_KEY
from config.asgi import application
from core.async_db import close_async_database
from offers.models import Agreement, Offer, OfferVersion, ThreadEvent
from tests.conftest import PASSWORD, World
from tests.offers.conftest import counter_terms, submitted_offer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]

SESSION_ENDED, NOT_FOUND = 4401, 4404


@pytest.fixture
async def live(settings: Any) -> AsyncIterator[None]:
    settings.THREAD_ASYNC_WRITES = True  # the hot path as in production (committed data here)
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2
    yield
    await close_async_database()


@pytest.fixture
def quiet(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No push and no periodic check: only the write's own re-check can refuse it."""
    settings.SOCKET_SESSION_CHECK_SECONDS = 3600
    monkeypatch.setattr("accounts.socket_session._tell", lambda group, message: None)


@pytest.fixture
def offer(world: World) -> Offer:
    return submitted_offer(world)


def _login(user: User) -> str:
    client = Client()
    client.force_login(user)
    store = SessionStore(client.session.session_key)
    store[IDLE_KEY] = int(time.time())
    store[LOGIN_RECORDS_KEY] = [
        {"method": "password", "at": time.time()},
        {"method": "mfa", "at": time.time()},
    ]
    store.save()
    return store.session_key  # type: ignore[return-value]


async def _connect(session_key: str, offer_id: int, *, header: bool = False) -> WebsocketCommunicator:
    credentials = (
        (b"x-session-token", session_key.encode())
        if header
        else (b"cookie", f"sessionid={session_key}".encode())
    )
    socket = WebsocketCommunicator(
        application,
        f"/ws/offers/{offer_id}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), credentials],
    )
    connected, code = await socket.connect()
    assert connected, code
    await socket.send_json_to({"type": "resume", "after": 0})
    while (await socket.receive_json_from(timeout=5))["type"] != "synced":
        pass
    return socket


async def _closed(socket: WebsocketCommunicator, timeout: float = 5) -> tuple[int, list[dict[str, Any]]]:
    """Frames until the close, and its code."""
    import json

    frames = []
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output["code"], frames
        frames.append(json.loads(output["text"]))


# --- the causes ----------------------------------------------------------------------------------------


def _headless_logout(world: World, key: str) -> None:
    response = Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=key)
    assert response.status_code == 401, response.content  # allauth answers a logout with "not signed in"


def _browser_logout(world: World, key: str) -> None:
    client = Client()
    client.cookies["sessionid"] = key
    assert client.post("/accounts/logout/").status_code == 302


def _password_change(world: World, key: str) -> None:
    """Changed from another session of the same person (allauth's form): every other session ends."""
    client = Client()
    client.force_login(world.pro)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another long passphrase 42",
            "password2": "another long passphrase 42",
        },
    )
    assert response.status_code == 302, response.content
    world.pro.refresh_from_db()
    assert world.pro.check_password("another long passphrase 42")


def _mfa_removed(world: World, key: str) -> None:
    Authenticator.objects.filter(user=world.pro).delete()


def _deactivated(world: World, key: str) -> None:
    world.pro.is_active = False
    world.pro.save(update_fields=["is_active"])


def _accreditation_revoked(world: World, key: str) -> None:
    accreditation = Accreditation.objects.get(user=world.pro, session=world.toulouse)
    account_services.accreditation_revoke(
        accreditation=accreditation, admin=world.admin, reason="Leaked a screener"
    )


def _idle(world: World, key: str) -> None:
    store = SessionStore(key)
    store[IDLE_KEY] = int(time.time()) - 15 * 60 - 5  # last seen more than the idle timeout ago
    store.save()
    _time_passes()


def _too_old(world: World, key: str) -> None:
    store = SessionStore(key)
    store[LOGIN_RECORDS_KEY] = [{"method": "password", "at": time.time() - 12 * 3600 - 5}]
    store.save()
    _time_passes()


def _time_passes() -> None:
    """Idle and absolute limits are reached by time passing, which a socket tracks from its last reading
    of the session (its end is known in advance, and only activity moves it later); here the session is
    aged behind the socket's back, which time never does, so the socket sees it only at its next full
    reading: the test lets a write trust a reading for one second only."""
    time.sleep(1.2)


CAUSES: dict[str, tuple[Callable[[World, str], None], int]] = {
    "headless_logout": (_headless_logout, SESSION_ENDED),
    "browser_logout": (_browser_logout, SESSION_ENDED),
    "password_change": (_password_change, SESSION_ENDED),
    "mfa_removed": (_mfa_removed, SESSION_ENDED),
    "deactivated": (_deactivated, SESSION_ENDED),
    "accreditation_revoked": (_accreditation_revoked, NOT_FOUND),
    "idle": (_idle, SESSION_ENDED),
    "absolute_expiry": (_too_old, SESSION_ENDED),
}


def _counts(offer: Offer) -> tuple[int, int]:
    return ThreadEvent.objects.filter(offer=offer).count(), Agreement.objects.filter(offer=offer).count()


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("cause", CAUSES)
async def test_the_socket_closes_by_itself_when_its_session_ends(
    world: World, offer: Offer, cause: str
) -> None:
    make, code = CAUSES[cause]
    key = await database_sync_to_async(_login)(world.pro)
    socket = await _connect(key, offer.pk)
    await database_sync_to_async(make)(world, key)
    closed, frames = await _closed(socket)
    assert closed == code
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == (
        "session_ended" if code == SESSION_ENDED else "not_found"
    )


@pytest.mark.usefixtures("live", "quiet")
@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("write", ["message", "accept"])
async def test_a_write_after_the_session_ended_is_refused_and_stores_nothing(
    world: World, offer: Offer, cause: str, write: str, settings: Any
) -> None:
    make, code = CAUSES[cause]
    if cause in ("idle", "absolute_expiry"):
        settings.SOCKET_SESSION_WRITE_CHECK_SECONDS = 1  # see _time_passes
    await database_sync_to_async(_counter_from_producer)(offer)
    before = await database_sync_to_async(_counts)(offer)
    key = await database_sync_to_async(_login)(world.pro)
    socket = await _connect(key, offer.pk)
    await database_sync_to_async(make)(world, key)
    if write == "message":
        await socket.send_json_to({"type": "message", "body": "still here?", "client_id": "late"})
    else:
        version = await database_sync_to_async(lambda: OfferVersion.objects.get(offer=offer, number=2))()
        await socket.send_json_to({"type": "accept", "version": 2, "terms_hash": version.terms_hash})
    closed, frames = await _closed(socket)
    assert closed == code
    assert not [f for f in frames if f["type"] == "ack"]
    assert await database_sync_to_async(_counts)(offer) == before


def _counter_from_producer(offer: Offer) -> None:
    from offers.services import negotiation

    producer = User.objects.get(email="producer@andes.example")
    negotiation.thread_counter(user=producer, offer=offer, base_version=1, terms_data=counter_terms())


@pytest.mark.usefixtures("live", "quiet")
async def test_an_app_client_socket_is_bound_to_its_session_token(world: World, offer: Offer) -> None:
    """The issue's case: a socket opened with the X-Session-Token, then DELETE of that session."""
    await database_sync_to_async(_counter_from_producer)(offer)
    key = await database_sync_to_async(_login)(world.pro)
    socket = await _connect(key, offer.pk, header=True)
    await socket.send_json_to({"type": "message", "body": "hola", "client_id": "before"})
    while (await socket.receive_json_from(timeout=5))["type"] != "ack":
        pass
    await database_sync_to_async(_headless_logout)(world, key)
    version = await database_sync_to_async(lambda: OfferVersion.objects.get(offer=offer, number=2))()
    await socket.send_json_to({"type": "accept", "version": 2, "terms_hash": version.terms_hash})
    closed, frames = await _closed(socket)
    assert closed == SESSION_ENDED and frames[-1]["code"] == "session_ended"
    assert await database_sync_to_async(_counts)(offer) == (3, 0)


@pytest.mark.usefixtures("live")
async def test_other_sessions_of_the_same_person_stay_open(world: World, offer: Offer) -> None:
    kept = await database_sync_to_async(_login)(world.pro)
    ended = await database_sync_to_async(_login)(world.pro)
    staying, leaving = await _connect(kept, offer.pk), await _connect(ended, offer.pk)
    await database_sync_to_async(_browser_logout)(world, ended)
    assert (await _closed(leaving))[0] == SESSION_ENDED
    await staying.send_json_to({"type": "message", "body": "sigo aquí", "client_id": "k1"})
    while (ack := await staying.receive_json_from(timeout=5))["type"] != "ack":
        pass
    assert ack["seq"] == 2
    await staying.disconnect()


@pytest.mark.usefixtures("live")
async def test_without_a_live_session_the_handshake_is_refused(world: World, offer: Offer) -> None:
    key = await database_sync_to_async(_login)(world.pro)
    await database_sync_to_async(_browser_logout)(world, key)
    for headers in ([(b"cookie", f"sessionid={key}".encode())], [(b"cookie", b"sessionid=nonsense")], []):
        socket = WebsocketCommunicator(
            application,
            f"/ws/offers/{offer.pk}/",
            headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), *headers],
        )
        assert await socket.connect() == (False, NOT_FOUND)


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("cause", [c for c in CAUSES if c not in {"idle", "absolute_expiry"}])
async def test_a_signal_closes_the_socket_at_once_without_waiting_for_the_periodic_check(
    world: World, offer: Offer, cause: str, settings: Any
) -> None:
    settings.SOCKET_SESSION_CHECK_SECONDS = 3600  # only the push can close it within the test
    make, code = CAUSES[cause]
    key = await database_sync_to_async(_login)(world.pro)
    socket = await _connect(key, offer.pk)
    await database_sync_to_async(make)(world, key)
    assert (await _closed(socket))[0] == code
