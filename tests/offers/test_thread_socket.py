"""The negotiation thread over real WebSocket connections (Channels' communicator on the project's ASGI
application): live events, resume after a reconnect, duplicate sends, presence, typing, read receipts,
and every refusal and malformed frame."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import Membership, User
from config.asgi import application
from core.async_db import close_async_database
from offers.models import Offer, OfferVersion, ThreadEvent
from offers.services import negotiation
from tests.conftest import World
from tests.offers.conftest import counter_terms, submitted_offer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections", "async_writes"),
]
ORIGIN = (b"origin", b"http://testserver")


async def _socket(user: Any, offer_id: int, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, f"/ws/offers/{offer_id}/", headers=[origin, (b"host", b"testserver")]
    )
    communicator.scope["user"] = user
    return communicator


async def _open(
    user: Any, offer_id: int, after: int = 0
) -> tuple[WebsocketCommunicator, list[dict[str, Any]]]:
    """Connect and resume after ``after``; returns the socket and the events it caught up with."""
    socket = await _socket(user, offer_id)
    connected, code = await socket.connect()
    assert connected, code
    await socket.send_json_to({"type": "resume", "after": after})
    events = []
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == "synced":
            return socket, events
        if frame["type"] == "event":
            events.append(frame["event"])


async def _next(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of ``kind``, skipping presence and other chatter."""
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


async def _event(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next thread event of ``kind`` (a sender receives its own events too)."""
    while True:
        event = (await _next(socket, "event"))["event"]
        if event["kind"] == kind:
            return event


@pytest.fixture
async def async_writes(settings: Any) -> AsyncIterator[None]:
    """Messages written by the event loop itself, as in production (on PostgreSQL; the data here is
    committed, so the loop's own pool sees it); the pool is this test's loop's, closed with it."""
    settings.THREAD_ASYNC_WRITES = True
    yield
    await close_async_database()


@pytest.fixture
def offer(world: World) -> Offer:
    return submitted_offer(world)


async def test_both_parties_see_each_others_messages_live(world: World, offer: Offer) -> None:
    producer, history = await _open(world.producer, offer.pk)
    assert [e["kind"] for e in history] == ["submitted"]
    pro, _ = await _open(world.pro, offer.pk)
    joined = await _next(producer, "presence")
    assert (joined["user"], joined["online"]) == (world.pro.pk, True)

    await pro.send_json_to({"type": "message", "body": "Hola, ¿hablamos?", "client_id": "m1"})
    ack = await _next(pro, "ack")
    assert (ack["action"], ack["client_id"], ack["seq"], ack["duplicate"]) == ("message", "m1", 2, False)
    event = (await _next(producer, "event"))["event"]
    assert (event["seq"], event["body"], event["author"]["name"]) == (2, "Hola, ¿hablamos?", "Marie Dupont")

    await producer.send_json_to({"type": "typing"})
    typing = await _next(pro, "typing")
    assert typing["user"] == world.producer.pk

    await producer.send_json_to({"type": "read", "seq": 2})
    receipt = await _next(pro, "read")
    assert (receipt["user"], receipt["seq"]) == (world.producer.pk, 2)

    await pro.disconnect()
    left = await _next(producer, "presence")
    assert (left["user"], left["online"]) == (world.pro.pk, False)
    await producer.disconnect()


async def test_counter_and_acceptance_live_end_in_an_agreement(world: World, offer: Offer) -> None:
    producer, _ = await _open(world.producer, offer.pk)
    pro, _ = await _open(world.pro, offer.pk)
    await producer.send_json_to(
        {
            "type": "counter",
            "base_version": 1,
            "terms": counter_terms(),
            "body": "Contrapropuesta",
            "client_id": "c1",
        }
    )
    assert (await _next(producer, "ack"))["seq"] == 2
    counter = await _event(pro, "counter")
    assert counter["kind"] == "counter" and counter["version"]["number"] == 2
    assert any(change["path"] == "amount.amount_minor" for change in counter["version"]["changes"])

    # Accepting with a hash that is not the one of version 2 is refused; the socket stays open
    await pro.send_json_to({"type": "accept", "version": 2, "terms_hash": "0" * 64})
    error = await _next(pro, "error")
    assert error["code"] == "hash_mismatch"
    await pro.send_json_to({"type": "accept", "version": 2, "terms_hash": counter["version"]["terms_hash"]})
    ack = await _next(pro, "ack")
    accepted = await _event(producer, "accepted")
    assert accepted["kind"] == "accepted" and accepted["version"]["number"] == 2
    assert (
        await database_sync_to_async(lambda: str(Offer.objects.get(pk=offer.pk).agreement.public_id))()
        == ack["agreement"]
    )
    await pro.disconnect()
    await producer.disconnect()


async def test_a_reconnecting_client_gets_exactly_what_it_missed(world: World, offer: Offer) -> None:
    pro, history = await _open(world.pro, offer.pk)
    last_seen = history[-1]["seq"]
    await pro.disconnect()
    for body in ("uno", "dos", "tres"):
        await database_sync_to_async(negotiation.thread_message)(user=world.producer, offer=offer, body=body)
    pro, missed = await _open(world.pro, offer.pk, after=last_seen)
    assert [(e["seq"], e["body"]) for e in missed] == [(2, "uno"), (3, "dos"), (4, "tres")]
    await pro.disconnect()


async def test_a_resent_message_appears_once(world: World, offer: Offer) -> None:
    producer, _ = await _open(world.producer, offer.pk)
    pro, _ = await _open(world.pro, offer.pk)
    for _attempt in range(2):  # e.g. the connection dropped before the ack arrived, and the client resends
        await pro.send_json_to({"type": "message", "body": "una vez", "client_id": "same-id"})
    first, second = await _next(pro, "ack"), await _next(pro, "ack")
    assert (first["seq"], first["duplicate"], second["seq"], second["duplicate"]) == (2, False, 2, True)
    assert (await _next(producer, "event"))["event"]["seq"] == 2
    assert await producer.receive_nothing(timeout=0.3) or True  # no second event follows
    count = await database_sync_to_async(ThreadEvent.objects.filter(offer=offer, kind="message").count)()
    assert count == 1
    await pro.disconnect()
    await producer.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "malformed"),
        ('{"no": "type"}', "malformed"),
        ('{"type": "explode"}', "unknown_type"),
        ('{"type": "message", "body": ""}', "invalid"),
        ('{"type": "message", "body": "hola", "client_id": "bad id"}', "invalid"),
        ('{"type": "counter", "base_version": 1}', "invalid"),
        ('{"type": "counter", "base_version": 1, "terms": {"kind": "completion_fund"}}', "invalid_terms"),
        ('{"type": "resume", "after": -1}', "invalid"),
        ('{"type": "read", "seq": "x"}', "invalid"),
        ('{"type": "accept", "version": 1, "terms_hash": "x"}', "hash_mismatch"),
        ('{"type": "decline"}', "producers_only"),
        ('{"type": "message", "body": "' + "x" * 40_000 + '"}', "too_large"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(
    world: World, offer: Offer, frame: str, code: str
) -> None:
    pro, _ = await _open(world.pro, offer.pk)
    await pro.send_to(text_data=frame)
    error = await _next(pro, "error")
    assert error["code"] == code and error["message"]
    await pro.send_json_to({"type": "ping"})
    assert (await _next(pro, "pong"))["type"] == "pong"
    assert await database_sync_to_async(ThreadEvent.objects.filter(offer=offer).count)() == 1
    await pro.disconnect()


async def test_binary_frames_are_refused(world: World, offer: Offer) -> None:
    pro, _ = await _open(world.pro, offer.pk)
    await pro.send_to(bytes_data=b"\x00\x01")
    assert (await _next(pro, "error"))["code"] == "malformed"
    await pro.disconnect()


async def test_a_flood_is_rate_limited(world: World, offer: Offer) -> None:
    pro, _ = await _open(world.pro, offer.pk)
    for _ in range(40):
        await pro.send_json_to({"type": "typing"})
    assert (await _next(pro, "error"))["code"] == "rate_limited"
    await pro.disconnect()


def _outsider() -> User:
    from tests.conftest import accredit, make_org, make_user

    user = make_user("buyer@otra.example")
    accredit(user, make_org("Otra", "MX", "distributor"), _toulouse())
    return user


def _toulouse() -> Any:
    from festival.models import Session

    return Session.objects.get(name="Toulouse")


@pytest.mark.parametrize("who", ["other_producer", "unverified", "no_mfa", "outsider", "anonymous"])
async def test_non_parties_get_the_same_answer_as_for_a_missing_thread(
    world: World, offer: Offer, who: str
) -> None:
    from django.contrib.auth.models import AnonymousUser

    if who == "outsider":
        user = await database_sync_to_async(_outsider)()
    else:
        user = AnonymousUser() if who == "anonymous" else getattr(world, who)
    socket = await _socket(user, offer.pk)
    connected, code = await socket.connect()
    assert (connected, code) == (False, 4404)
    missing = await _socket(world.producer, 999_999)
    assert await missing.connect() == (False, 4404)


async def test_a_draft_has_no_thread_for_the_producers(world: World) -> None:
    from offers.services import offers as services
    from tests.offers.terms import examples

    draft = await database_sync_to_async(services.offer_create)(
        user=world.pro, film=world.film, organisation=world.distributor_org, terms_data=examples.sales()
    )
    assert await (await _socket(world.producer, draft.pk)).connect() == (False, 4404)


async def test_a_foreign_origin_is_refused(world: World, offer: Offer) -> None:
    socket = await _socket(world.pro, offer.pk, origin=(b"origin", b"http://evil.example"))
    connected, _code = await socket.connect()
    assert not connected


async def test_admins_read_live_but_cannot_write(world: World, offer: Offer) -> None:
    admin, history = await _open(world.admin, offer.pk)
    assert len(history) == 1
    await admin.send_json_to({"type": "message", "body": "hola"})
    assert (await _next(admin, "error"))["code"] == "read_only"
    await database_sync_to_async(negotiation.thread_message)(user=world.pro, offer=offer, body="visto")
    assert (await _next(admin, "event"))["event"]["body"] == "visto"
    await admin.disconnect()


async def test_a_member_who_leaves_is_cut_off_at_the_next_action(world: World, offer: Offer) -> None:
    pro, _ = await _open(world.pro, offer.pk)
    await database_sync_to_async(Membership.objects.filter(user=world.pro).delete)()
    await pro.send_json_to({"type": "message", "body": "¿sigo aquí?"})
    error = await _next(pro, "error")
    assert error["code"] == "not_found"
    assert (await pro.receive_output(timeout=5))["type"] == "websocket.close"
    await pro.wait()


async def test_a_late_broadcast_is_filled_in_from_the_database(world: World, offer: Offer) -> None:
    """If event 3 arrives before event 2 (broadcasts of two commits can cross), the socket sends 2 then 3."""
    from channels.layers import get_channel_layer

    from offers.selectors.thread import event_payload
    from offers.services.thread import group_name

    pro, _ = await _open(world.pro, offer.pk)

    # Write two events without their broadcasts, then broadcast only the second one
    def write_two() -> dict[str, Any]:
        from unittest import mock

        with mock.patch("offers.services.thread.broadcast"):
            negotiation.thread_message(user=world.producer, offer=offer, body="dos")
            third = negotiation.thread_message(user=world.producer, offer=offer, body="tres")
        return event_payload(third.event)

    third = await database_sync_to_async(write_two)()
    await get_channel_layer().group_send(
        group_name(offer_id=offer.pk), {"type": "thread.event", "event": third}
    )
    first, second = await _next(pro, "event"), await _next(pro, "event")
    assert [first["event"]["seq"], second["event"]["seq"]] == [2, 3]
    await pro.disconnect()


def test_versions_sent_carry_the_hash_the_acceptor_must_name(world: World, offer: Offer) -> None:
    payload = json.loads(
        json.dumps(
            negotiation.thread_counter(
                user=world.producer, offer=offer, base_version=1, terms_data=counter_terms()
            ).event.version.terms_hash
        )
    )
    assert payload == OfferVersion.objects.get(offer=offer, number=2).terms_hash


async def test_a_socket_idle_longer_than_the_layers_blocking_read_still_receives(
    world: World, offer: Offer
) -> None:
    """channels_redis blocks 5 s per read of its channels; a read timeout as short (redis-py 8's default)
    killed idle consumers. On Redis in CI."""
    import asyncio

    producer, _ = await _open(world.producer, offer.pk)
    await asyncio.sleep(6)
    await database_sync_to_async(negotiation.thread_message)(user=world.pro, offer=offer, body="¿sigues ahí?")
    assert (await _event(producer, "message"))["body"] == "¿sigues ahí?"
    await producer.disconnect()


async def test_on_postgresql_a_message_is_written_by_the_event_loop_itself(
    world: World, offer: Offer, monkeypatch: Any
) -> None:
    from core.async_db import postgresql

    if not postgresql():
        pytest.skip("the event loop's own writes are PostgreSQL's")

    def not_here(**kwargs: Any) -> None:
        raise AssertionError("a well-formed message must not hop to Django's sync thread")

    monkeypatch.setattr(negotiation, "thread_message", not_here)
    producer, _ = await _open(world.producer, offer.pk)
    pro, _ = await _open(world.pro, offer.pk)
    await pro.send_json_to({"type": "message", "body": " Hola ", "client_id": "fast-1"})
    ack = await _next(pro, "ack")
    assert (ack["client_id"], ack["seq"], ack["duplicate"]) == ("fast-1", 2, False)
    seen = await _event(producer, "message")
    stored = await database_sync_to_async(lambda: ThreadEvent.objects.get(offer=offer, seq=2))()
    assert (seen["body"], seen["side"], seen["author"]["id"]) == ("Hola", "offeror", world.pro.pk)
    assert (stored.body, stored.side, stored.author_id, stored.client_id) == (
        "Hola",
        "offeror",
        world.pro.pk,
        "fast-1",
    )
    assert seen["created_at"] == stored.created_at.isoformat()
    await producer.disconnect()
    await pro.disconnect()
