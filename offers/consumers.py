"""The negotiation thread over a WebSocket: thin, every write goes through ``offers.negotiation``.

Protocol (JSON text frames; see docs/thread-protocol.md):
  client → server  resume{after} · message{body, client_id}
                   counter{base_version, terms, body, client_id} · accept{version, terms_hash}
                   decline{reason} · withdraw{reason} · read{seq} · typing · ping
  server → client  event{event} (in sequence order, none missed, none twice)
                   synced{seq, online, reads} · ack{action, client_id, seq, duplicate}
                   presence{user, online} · typing{user, name} · read{user, seq} · pong
                   error{code, message, field, ref}

The socket is accepted only for a party (or an admin, read only) of a submitted offer; anyone else gets
the same close code as for an offer that does not exist. Every action re-checks it in the service, and
every heartbeat re-checks it too. Bad frames get an error frame and the socket stays open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User
from core.async_db import async_database, postgresql
from core.errors import DomainError, NotFound
from offers import negotiation, services
from offers.models import Offer
from offers.presence import mark_absent, mark_present, present_users
from offers.thread import (
    MESSAGE_SQL,
    MessageDraft,
    broadcast_on_loop,
    events_after,
    group_name,
    thread_side,
)

NOT_FOUND = 4404
MAX_FRAME = 32 * 1024  # characters; uvicorn closes above --ws-max-size (64 KiB) before we see it
RATE = 5.0  # frames per second, sustained
BURST = 20.0
TYPING_EVERY = 2.0  # seconds between two typing signals of one socket


def async_writes() -> bool:
    """Messages written by the event loop itself (PostgreSQL only; see ``_append_message``)."""
    return bool(settings.THREAD_ASYNC_WRITES) and postgresql()


def db(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run ``func`` in Django's sync thread with its connection hygiene (``database_sync_to_async``).

    One thread per process serves every socket's database calls, one after the other (measured under
    `make bench`, that beat the event loop's thread pool, whose threads contend for the GIL). Plain
    messages, the thread's hot path, skip it altogether: ``_append_message``."""
    return DatabaseSyncToAsync(func)


def _open(user: User, offer_id: int) -> tuple[Offer, str, list[int]] | None:
    offer = Offer.objects.filter(pk=offer_id).select_related("film").first()
    if offer is None:
        return None
    try:
        side = thread_side(user, offer)
    except NotFound:
        return None
    from offers.notifications import thread_parties

    mark_present(offer.pk, user.pk)
    parties = [u.pk for u in thread_parties(offer.film_id, offer.organisation_id)]
    return offer, side, parties


def _still_party(user: User, offer: Offer) -> bool:
    offer.refresh_from_db(fields=["status"])
    user.__dict__.pop("_readiness", None)  # account_readiness memoises on the instance: read it afresh
    try:
        thread_side(user, offer)
    except NotFound:
        return False
    mark_present(offer.pk, user.pk)
    return True


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ThreadConsumer(AsyncJsonWebsocketConsumer):
    offer: Offer
    side: str
    user: User

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own dispatch, without its ``close_old_connections`` before every message: that hops to
        Django's one sync thread for each frame and each broadcast every socket receives, and this
        consumer reaches the database only through ``db()``, which closes old connections around each
        call itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        broadcast_on_loop(asyncio.get_running_loop())
        self.user = self.scope["user"]
        opened = await db(_open)(self.user, int(self.scope["url_route"]["kwargs"]["offer_id"]))
        if opened is None:
            await self.close(code=NOT_FOUND)
            return
        self.offer, self.side, self.parties = opened
        self.group = group_name(self.offer.pk)
        self.sent_seq: int | None = None  # None until the client has resumed
        self.bucket = TokenBucket(RATE, BURST)
        self.last_typing = 0.0
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._tell_presence(online=True)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await db(mark_absent)(self.offer.pk, self.user.pk)
        await self._tell_presence(online=False)

    async def _tell_presence(self, *, online: bool) -> None:
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "thread.presence",
                "user": self.user.pk,
                "name": self.user.display_name,
                "online": online,
            },
        )

    # --- frames from the client ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("malformed", _("Send JSON text frames."))
            return
        if len(text_data) > MAX_FRAME:
            await self._error("too_large", _("This frame is too large."))
            return
        if not self.bucket.take():
            await self._error("rate_limited", _("Too many frames: slow down."))
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("malformed", _("This frame is not valid JSON."))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("malformed", _("A frame is a JSON object with a type."))
            return
        handler = self.HANDLERS.get(frame["type"])
        if handler is None:
            await self._error("unknown_type", _("Unknown frame type."), ref=frame.get("client_id"))
            return
        try:
            await handler(self, frame)
        except NotFound as error:  # no longer a party: the same answer as for a thread that does not exist
            await self._error(error.code, error.message)
            await self.close(code=NOT_FOUND)
        except DomainError as error:
            await self._error(error.code, error.message, field=error.field, ref=frame.get("client_id"))

    async def _error(self, code: str, message: str, *, field: str | None = None, ref: Any = None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "field": field, "ref": ref})

    async def _resume(self, frame: dict[str, Any]) -> None:
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self._error(
                "invalid", _("Resume after a sequence number (0 for the whole thread)."), field="after"
            )
            return
        self.sent_seq = after
        await self._catch_up()
        online, reads = await db(self._snapshot)()
        await self.send_json({"type": "synced", "seq": self.sent_seq, "online": online, "reads": reads})

    def _snapshot(self) -> tuple[list[int], dict[str, int]]:
        online = sorted(present_users(self.offer.pk, self.parties))
        return online, {str(user): seq for user, seq in negotiation.thread_reads(self.offer).items()}

    async def _catch_up(self) -> None:
        """Send every stored event after ``sent_seq``, in order, page by page."""
        while True:
            page = await db(events_after)(self.offer, self.sent_seq or 0)
            for event in page:
                await self.send_json({"type": "event", "event": event})
                self.sent_seq = event["seq"]
            if len(page) < 500:
                return

    async def _message(self, frame: dict[str, Any]) -> None:
        body, client_id = frame.get("body"), frame.get("client_id")
        appended = await self._append_message(body, client_id) if async_writes() else None
        if appended is not None:  # stored and committed: broadcast it, as the service would on commit
            await self.channel_layer.group_send(self.group, {"type": "thread.event", "event": appended})
            await self._ack("message", client_id=appended["client_id"], seq=appended["seq"])
            return
        posted = await db(negotiation.thread_message)(
            user=self.user, offer=self.offer, body=body, client_id=client_id
        )
        await self._ack(
            "message", client_id=posted.event.client_id, seq=posted.event.seq, duplicate=posted.duplicate
        )

    async def _append_message(self, body: object, client_id: object) -> dict[str, Any] | None:
        """The thread's hot path on the event loop itself: ``thread.MESSAGE_SQL`` through the loop's own
        pool, no hop to Django's sync thread. None when anything is off (an unready account, a malformed
        body, a check the statement refused, a client id sent twice at once): ``thread_message`` then
        answers exactly, on the careful path."""
        readiness = getattr(self.user, "_readiness", None)  # read at connect, re-read at every heartbeat
        if readiness is None or not readiness.ready:
            return None
        draft = MessageDraft.of(self.user, self.offer.pk, body, client_id)
        if draft is None:
            return None
        try:
            row = await (await async_database()).fetchone(MESSAGE_SQL, draft.params())
        except psycopg.IntegrityError:
            return None
        if row is None:
            return None
        self.offer.last_seq = row[1]
        return draft.payload(row[1], row[2])

    async def _counter(self, frame: dict[str, Any]) -> None:
        terms = frame.get("terms")
        if not isinstance(terms, dict):
            await self._error(
                "invalid", _("A counter-offer carries its terms."), field="terms", ref=frame.get("client_id")
            )
            return
        try:
            posted = await db(negotiation.thread_counter)(
                user=self.user,
                offer=self.offer,
                base_version=frame.get("base_version"),
                terms_data=terms,
                body=frame.get("body", ""),
                client_id=frame.get("client_id"),
            )
        except services.OfferTermsInvalid as invalid:
            await self.send_json(
                {
                    "type": "error",
                    "code": "invalid_terms",
                    "message": invalid.message,
                    "field": invalid.field,
                    "errors": invalid.errors,
                    "ref": frame.get("client_id"),
                }
            )
            return
        await self._ack(
            "counter", client_id=posted.event.client_id, seq=posted.event.seq, duplicate=posted.duplicate
        )

    async def _ack(self, action: str, *, client_id: str, seq: int, duplicate: bool = False) -> None:
        await self.send_json(
            {"type": "ack", "action": action, "client_id": client_id, "seq": seq, "duplicate": duplicate}
        )

    async def _accept(self, frame: dict[str, Any]) -> None:
        agreement = await db(negotiation.thread_accept)(
            user=self.user, offer=self.offer, version=frame.get("version"), terms_hash=frame.get("terms_hash")
        )
        await self.send_json({"type": "ack", "action": "accept", "agreement": str(agreement.public_id)})

    async def _decline(self, frame: dict[str, Any]) -> None:
        await db(negotiation.thread_decline)(user=self.user, offer=self.offer, reason=frame.get("reason", ""))
        await self.send_json({"type": "ack", "action": "decline"})

    async def _withdraw(self, frame: dict[str, Any]) -> None:
        reason = negotiation.clean_body(frame.get("reason", ""), required=False)
        await db(services.offer_withdraw)(user=self.user, offer=self.offer, reason=reason)
        await self.send_json({"type": "ack", "action": "withdraw"})

    async def _read(self, frame: dict[str, Any]) -> None:
        await db(negotiation.thread_mark_read)(user=self.user, offer=self.offer, seq=frame.get("seq"))

    async def _typing(self, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.side == "admin" or now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        await self.channel_layer.group_send(
            self.group, {"type": "thread.typing", "user": self.user.pk, "name": self.user.display_name}
        )

    async def _ping(self, frame: dict[str, Any]) -> None:
        if not await db(_still_party)(self.user, self.offer):
            await self._error("not_found", _("No such offer."))
            await self.close(code=NOT_FOUND)
            return
        await self.send_json({"type": "pong"})

    HANDLERS: dict[str, Callable[[ThreadConsumer, dict[str, Any]], Awaitable[None]]] = {
        "resume": _resume,
        "message": _message,
        "counter": _counter,
        "accept": _accept,
        "decline": _decline,
        "withdraw": _withdraw,
        "read": _read,
        "typing": _typing,
        "ping": _ping,
    }

    # --- messages from the channel layer -------------------------------------------------------------

    async def thread_event(self, message: dict[str, Any]) -> None:
        if self.sent_seq is None:
            return  # the client has not resumed yet: its resume reads this event from the database
        seq = message["event"]["seq"]
        if seq <= self.sent_seq:
            return  # already sent (by a catch-up)
        if seq > self.sent_seq + 1:
            await self._catch_up()  # an earlier broadcast is late or lost: the database has it
            return
        await self.send_json({"type": "event", "event": message["event"]})
        self.sent_seq = seq

    async def thread_presence(self, message: dict[str, Any]) -> None:
        if message["user"] != self.user.pk:
            await self.send_json(
                {
                    "type": "presence",
                    "user": message["user"],
                    "name": message["name"],
                    "online": message["online"],
                }
            )

    async def thread_typing(self, message: dict[str, Any]) -> None:
        if message["user"] != self.user.pk:
            await self.send_json({"type": "typing", "user": message["user"], "name": message["name"]})

    async def thread_read(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "read", "user": message["user"], "seq": message["seq"]})
