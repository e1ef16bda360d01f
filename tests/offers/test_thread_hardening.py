"""Hostile clients against the thread socket and its REST twin: unsafe text, deep frames, a client that
vanishes mid catch-up, a failing handler, resume ahead of the thread, unknown paths, foreign origins, rate
limits per user across sockets and REST, event pages, machine codes, the reader's language, and the same
work for an outsider whether the offer exists or not."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.asgi import application
from core.async_db import close_async_database
from offers.models import Offer, OfferVersion, ThreadEvent
from offers.parties import thread_open
from offers.presence import present_users
from offers.services.thread import group_name
from tests.conftest import World, api_client, make_user
from tests.offers.conftest import counter_terms, submitted_offer
from tests.offers.test_thread_socket import _next, _open, _socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


@pytest.fixture
async def pool() -> AsyncIterator[None]:
    yield
    await close_async_database()


@pytest.fixture
def offer(world: World) -> Offer:
    return submitted_offer(world)


def _stored(offer: Offer) -> tuple[int, int]:
    return ThreadEvent.objects.filter(offer=offer).count(), OfferVersion.objects.filter(offer=offer).count()


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


UNSAFE = [
    ({"type": "message", "body": "hola\x00", "client_id": "n1"}, "invalid_text", "body"),
    ({"type": "message", "body": "hola \ud800", "client_id": "s1"}, "invalid_text", "body"),
    (
        {"type": "counter", "base_version": 1, "terms": counter_terms(), "body": "\x00"},
        "invalid_text",
        "body",
    ),
    (
        {"type": "counter", "base_version": 1, "terms": {**counter_terms(), "conditions": "a\udfffb"}},
        "invalid_text",
        "terms.conditions",
    ),
    ({"type": "decline", "reason": "\x07bell"}, "invalid_text", "reason"),
    ({"type": "message", "body": _deep(200)}, "too_deep", None),
]


@pytest.mark.parametrize(("frame", "code", "field"), UNSAFE)
async def test_unsafe_text_gets_an_error_naming_the_field_nothing_stored_the_socket_open(
    world: World, offer: Offer, frame: dict[str, Any], code: str, field: str | None
) -> None:
    before = await database_sync_to_async(_stored)(offer)
    producer, _ = await _open(world.producer, offer.pk)
    await producer.send_to(text_data=json.dumps(frame))  # json.dumps escapes NUL and surrogates as JSON does
    error = await _next(producer, "error")
    assert error["code"] == code and error["message"]
    if field:
        assert error["field"] == field
    assert await database_sync_to_async(_stored)(offer) == before
    await producer.send_json_to({"type": "message", "body": "sigo aquí", "client_id": "ok"})
    assert (await _next(producer, "ack"))["seq"] == before[0] + 1
    await producer.disconnect()


async def test_a_recursion_bomb_frame_is_refused(world: World, offer: Offer) -> None:
    producer, _ = await _open(world.producer, offer.pk)
    await producer.send_to(text_data="[" * 20_000 + "]" * 20_000)
    assert (await _next(producer, "error"))["code"] in {"too_deep", "too_large"}
    await producer.send_json_to({"type": "ping"})
    assert (await _next(producer, "pong"))["type"] == "pong"
    await producer.disconnect()


class VanishingClient:
    """The ASGI server's side of a client that goes away while the server is still sending: after
    ``frames`` frames, every send raises as uvicorn's does for a closed connection."""

    def __init__(self, app: Any, frames: int) -> None:
        self.app, self.left = app, frames

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def failing_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                self.left -= 1
                if self.left < 0:
                    raise OSError("client disconnected")
            await send(message)

        await self.app(scope, receive, failing_send)


def _backlog(offer: Offer, count: int) -> None:
    from django.utils import timezone

    from offers.models import EventKind, Side

    now = timezone.now()
    ThreadEvent.objects.bulk_create(
        ThreadEvent(
            offer=offer,
            seq=seq,
            kind=EventKind.MESSAGE,
            author=None,
            side=Side.PRODUCER,
            body=f"n{seq}",
            created_at=now,
        )
        for seq in range(2, count + 2)
    )
    Offer.objects.filter(pk=offer.pk).update(last_seq=count + 1)


async def _group_members(group: str) -> list[Any]:
    layer = get_channel_layer()
    if hasattr(layer, "groups"):  # in-memory layer
        return list(layer.groups.get(group, {}))
    connection_ = layer.connection(layer.consistent_hash(group))
    return list(await connection_.zrange(layer._group_key(group), 0, -1))


async def test_a_client_that_vanishes_mid_catch_up_is_cleaned_up(world: World, offer: Offer) -> None:
    await database_sync_to_async(_backlog)(offer, 3000)
    watcher, _ = await _open(world.pro, offer.pk, after=3001)
    socket = WebsocketCommunicator(
        VanishingClient(application, frames=50),
        f"/ws/offers/{offer.pk}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    socket.scope["user"] = world.producer
    assert (await socket.connect())[0]
    assert (await _next(watcher, "presence"))["online"] is True
    await socket.send_json_to({"type": "resume", "after": 0})
    await socket.wait(timeout=10)  # the consumer stopped: the send failed mid catch-up
    left = await _next(watcher, "presence")
    assert (left["user"], left["online"]) == (world.producer.pk, False)
    assert await database_sync_to_async(present_users)(offer.pk, [world.producer.pk]) == set()
    assert len(await _group_members(group_name(offer_id=offer.pk))) == 1  # the watcher alone
    await watcher.disconnect()


async def test_a_failing_handler_answers_internal_and_the_socket_stays_open(
    world: World, offer: Offer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offers.consumers import ThreadConsumer

    async def broken(self: Any, frame: dict[str, Any]) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setitem(ThreadConsumer.HANDLERS, "typing", broken)
    producer, _ = await _open(world.producer, offer.pk)
    await producer.send_json_to({"type": "typing"})
    assert (await _next(producer, "error"))["code"] == "internal"
    await producer.send_json_to({"type": "ping"})
    assert (await _next(producer, "pong"))["type"] == "pong"
    await producer.disconnect()


@pytest.mark.usefixtures("pool")
async def test_resume_beyond_the_last_event_is_refused_and_live_events_keep_coming(
    world: World, offer: Offer
) -> None:
    socket = await _socket(world.producer, offer.pk)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "resume", "after": 50})
    error = await _next(socket, "error")
    assert (error["code"], error["field"]) == ("resume_ahead", "after")
    await socket.send_json_to({"type": "resume", "after": 1})
    assert (await _next(socket, "synced"))["seq"] == 1
    pro, _ = await _open(world.pro, offer.pk)
    await pro.send_json_to({"type": "message", "body": "¿me lees?", "client_id": "p1"})
    assert (await _next(socket, "event"))["event"]["seq"] == 2
    await socket.disconnect()
    await pro.disconnect()


@pytest.mark.parametrize("path", ["/ws/offers/abc/", "/ws/nowhere/", "/ws/offers/1/extra/", "/"])
@pytest.mark.parametrize("cookie", [True, False])
async def test_unknown_paths_are_refused_cleanly(world: World, path: str, cookie: bool) -> None:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", b"sessionid=abc"))
    socket = WebsocketCommunicator(application, path, headers=headers)
    assert await socket.connect() == (False, 4404)


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (b"http://testserver", True),
        (b"http://127.0.0.1:8000", True),  # SITE_URL's own origin
        (b"http://testserver:8080", False),  # another port on the same host
        (b"https://testserver", False),  # another scheme on the same host
        (b"http://127.0.0.1:9999", False),
        (b"http://evil.example", False),
        (b"null", False),
        (b"http://testserver/path", False),
    ],
)
async def test_the_whole_origin_must_be_the_sites(
    world: World, offer: Offer, origin: bytes, accepted: bool
) -> None:
    socket = await _socket(world.producer, offer.pk, origin=(b"origin", origin))
    connected, _code = await socket.connect()
    assert connected is accepted
    if connected:
        await socket.disconnect()


@pytest.mark.usefixtures("pool")
async def test_rate_limits_are_per_user_across_sockets_and_rest(
    world: World, offer: Offer, settings: Any
) -> None:
    settings.THREAD_RATE_PER_SECOND, settings.THREAD_RATE_BURST = 0.01, 12
    sockets = [(await _open(world.producer, offer.pk))[0] for _ in range(3)]  # 3 resumes: 3 tokens
    limited = 0
    for n in range(12):
        socket = sockets[n % 3]
        await socket.send_json_to({"type": "ping"})
        frame = await socket.receive_json_from(timeout=5)
        while frame["type"] not in {"pong", "error"}:
            frame = await socket.receive_json_from(timeout=5)
        limited += frame["type"] == "error" and frame["code"] == "rate_limited"
    assert limited >= 3  # three sockets together got no more than one user's budget
    response = await database_sync_to_async(
        lambda: api_client(world.producer).post(
            f"/api/offers/{offer.pk}/messages/", {"body": "x"}, format="json"
        )
    )()
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    for socket in sockets:
        await socket.disconnect()


async def test_errors_speak_the_pages_language(world: World, offer: Offer) -> None:
    for headers, expected in (
        ([(b"cookie", b"django_language=es")], "Tipo de trama desconocido."),
        ([(b"accept-language", b"es-AR,es;q=0.9")], "Tipo de trama desconocido."),
        ([], "Unknown frame type."),  # the account's own language (en)
    ):
        socket = WebsocketCommunicator(
            application,
            f"/ws/offers/{offer.pk}/",
            headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), *headers],
        )
        socket.scope["user"] = world.producer
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "nope"})
        assert (await _next(socket, "error"))["message"] == expected
        await socket.disconnect()


def test_an_outsider_costs_the_same_for_a_real_offer_and_a_missing_one(world: World, offer: Offer) -> None:
    outsider = make_user("outsider@elsewhere.example")
    work = []
    for offer_id in (offer.pk, offer.pk + 10_000):
        outsider.__dict__.pop("_readiness", None)
        with CaptureQueriesContext(connection) as queries:
            assert thread_open(outsider, offer_id) is None
        # the offer's id where the offer is looked up, not a LIMIT 1 or a user id that reads the same
        same_id = re.compile(rf'("offers_offer"\."id" = ){offer_id}\b')
        work.append([same_id.sub(r"\1?", q["sql"]) for q in queries.captured_queries])
    assert work[0] == work[1]


# --- REST ------------------------------------------------------------------------------------------


def test_rest_events_are_paged_with_a_cursor(world: World, offer: Offer) -> None:
    _backlog(offer, 1200)
    client, seen, url = api_client(world.pro), [], f"/api/offers/{offer.pk}/events/"
    while url:
        page = client.get(url).json()
        seen += [event["seq"] for event in page["results"]]
        url = page["next"]
    assert seen == list(range(1, 1202))
    small = client.get(f"/api/offers/{offer.pk}/events/?after=1195&limit=3").json()
    assert [e["seq"] for e in small["results"]] == [1196, 1197, 1198] and "after=1198" in small["next"]
    for bad in ("after=abc", "after=-1", "limit=0", "limit=501", "limit=x"):
        response = client.get(f"/api/offers/{offer.pk}/events/?{bad}")
        assert response.status_code == 400 and response.json()["field"] == bad.split("=")[0]


def test_rest_refusals_carry_the_sockets_machine_codes(world: World, offer: Offer) -> None:
    pro, producer, admin = api_client(world.pro), api_client(world.producer), api_client(world.admin)
    stale = producer.post(
        f"/api/offers/{offer.pk}/counter/", {"base_version": 9, "terms": counter_terms()}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    wrong = pro.post(f"/api/offers/{offer.pk}/accept/", {"version": 1, "terms_hash": "0" * 64}, format="json")
    assert wrong.json()["code"] == "hash_mismatch"
    assert (
        admin.post(f"/api/offers/{offer.pk}/messages/", {"body": "x"}, format="json").json()["code"]
        == "read_only"
    )
    assert pro.post(f"/api/offers/{offer.pk}/decline/", {}, format="json").json()["code"] == "producers_only"
    pro.post(f"/api/offers/{offer.pk}/withdraw/", {}, format="json")
    closed = pro.post(f"/api/offers/{offer.pk}/messages/", {"body": "x"}, format="json")
    assert closed.status_code == 409 and closed.json()["code"] == "thread_closed"
    invalid = producer.post(
        f"/api/offers/{offer.pk}/counter/",
        {"base_version": 1, "terms": {"kind": "completion_fund"}},
        format="json",
    )
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_terms"


@pytest.mark.parametrize("query", ["film=abc", "film=-1", "film=1.5", "film=%00"])
def test_offer_filters_are_400_naming_the_parameter(world: World, offer: Offer, query: str) -> None:
    response = api_client(world.pro).get(f"/api/offers/?{query}")
    assert response.status_code == 400 and response.json()["field"] == "film"


@pytest.mark.parametrize("action", ["events", "messages", "counter", "accept", "decline", "read", "withdraw"])
def test_format_suffixes_of_thread_actions_are_never_a_500(world: World, offer: Offer, action: str) -> None:
    client = api_client(world.producer)
    method = client.get if action == "events" else client.post
    assert method(f"/api/offers/{offer.pk}/{action}.json").status_code in {200, 400, 404, 405, 409}


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("messages", {"body": "hola\u0000"}, "body"),
        ("messages", {"body": "hola \ud800"}, "body"),
        (
            "counter",
            {"base_version": 1, "terms": {**counter_terms(), "conditions": "\u0000"}},
            "terms.conditions",
        ),
        ("counter", {"base_version": 1, "terms": counter_terms(), "body": "\udc00"}, "body"),
        ("counter", {"base_version": 1, "terms": _deep(200)}, None),
    ],
)
def test_unsafe_text_over_rest_is_a_400_naming_the_field(
    world: World, offer: Offer, path: str, payload: dict[str, Any], field: str | None
) -> None:
    before = _stored(offer)
    body = json.dumps(payload)  # escaped as any JSON client would send it
    response = api_client(world.producer).post(
        f"/api/offers/{offer.pk}/{path}/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    if field:
        assert response.json()["field"] == field
    assert _stored(offer) == before


def test_unsafe_terms_of_a_new_offer_are_a_400(world: World) -> None:
    terms = {**counter_terms(), "conditions": "x\u0000y"}
    body = json.dumps({"film": world.film.pk, "organisation": world.distributor_org.pk, "terms": terms})
    response = api_client(world.pro).post("/api/offers/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "terms.conditions"
    assert not Offer.objects.exists()
