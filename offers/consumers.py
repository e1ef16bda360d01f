"""The negotiation thread over a WebSocket: thin, every write goes through ``offers.services``.

Protocol (JSON text frames; see docs/thread-protocol.md):
  client → server  resume{after} · message{body, client_id}
                   counter{base_version, terms, body, client_id} · accept{version, terms_hash}
                   decline{reason} · withdraw{reason} · read{seq} · typing · ping
  server → client  event{event} (in sequence order, none missed, none twice)
                   synced{seq, online, reads} · ack{action, client_id, seq, duplicate}
                   presence{user, online} · typing{user, name} · read{user, seq} · pong
                   error{code, message, field, ref}

The socket is accepted only for a party (or an admin, read only) of a submitted offer; anyone else gets
the same close code as for an offer that does not exist, after the same work. It is bound to the session
it opened with (``accounts.live.LiveConsumer``): every write re-checks the session and the party, and a
session that ends closes the socket (4401). Bad frames get an error frame and the socket stays open;
whatever happens, leaving runs its cleanup (group, presence).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.live import NOT_FOUND, LiveConsumer
from accounts.models import User
from accounts.policy import known_readiness
from core.async_db import async_database, postgresql
from core.errors import DomainError, NotFound
from core.ratelimit import SocketBudget, thread_key, thread_rate
from core.text import UnsafeText
from offers.models import Offer
from offers.parties import ADMIN, party_users, thread_open, thread_side
from offers.presence import mark_absent, mark_present, present_users
from offers.selectors.thread import events_after, thread_reads
from offers.services import negotiation
from offers.services.offers import OfferTermsInvalid, offer_withdraw
from offers.services.thread import MESSAGE_SQL, MessageDraft, broadcast_on_loop, clean_body, group_name

MAX_FRAME = 32 * 1024  # characters; uvicorn closes above --ws-max-size (64 KiB) before we see it
TYPING_EVERY = 2.0  # seconds between two typing signals of one socket
PAGE = 500  # events per catch-up page
DEALS = frozenset({"counter", "accept", "decline", "withdraw"})  # re-check the session exactly first
WRITES = DEALS | {"message", "typing", "read"}  # re-check it (cached up to a second) first


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
    opened = thread_open(user, offer_id)  # the same work for a missing offer and a refused one
    if opened is None:
        return None
    offer, side = opened
    mark_present(offer.pk, user.pk)
    return offer, side, [party.pk for party in party_users(offer)]


def _still_party(user: User, offer: Offer) -> bool:
    offer.refresh_from_db(fields=["status"])
    try:
        thread_side(user, offer)
    except NotFound:
        return False
    mark_present(offer.pk, user.pk)
    return True


def _last_seq(offer_id: int) -> int:
    return int(Offer.objects.filter(pk=offer_id).values_list("last_seq", flat=True).first() or 0)


class ThreadConsumer(LiveConsumer):
    offer: Offer
    side: str

    async def open(self) -> bool:
        broadcast_on_loop(loop=asyncio.get_running_loop())
        opened = await db(_open)(self.user, int(self.scope["url_route"]["kwargs"]["offer_id"]))
        if opened is None:
            return False
        self.offer, self.side, self.parties = opened
        self.group = group_name(offer_id=self.offer.pk)
        self.sent_seq: int | None = None  # None until the client has resumed
        self.budget = SocketBudget(thread_key(self.user.pk), *thread_rate())  # shared by the user's sockets
        self.last_typing = 0.0
        return True

    async def opened(self) -> None:
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._tell_presence(online=True)

    async def cleanup(self) -> None:
        """Always runs, even when the client vanished while we were sending (``LiveConsumer.__call__``)."""
        if not hasattr(self, "group"):
            return
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        finally:
            try:
                await db(mark_absent)(self.offer.pk, self.user.pk)
            finally:
                await self._tell_presence(online=False)

    def still_allowed(self, user: User) -> bool:
        return _still_party(user, self.offer)

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

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self._error("malformed", _("Send JSON text frames."))
            return
        if len(text_data) > MAX_FRAME:
            await self._error("too_large", _("This frame is too large."))
            return
        if not await self.budget.take():
            await self._error("rate_limited", _("Too many frames: slow down."))
            return
        try:
            frame = await self.decode_json(text_data)  # core.text.decode_frame: nothing unsafe gets past
        except UnsafeText as error:
            await self._error(error.code, error.message, field=error.field)
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("malformed", _("A frame is a JSON object with a type."))
            return
        kind = frame["type"]
        handler = self.HANDLERS.get(kind)
        if handler is None:
            await self._error("unknown_type", _("Unknown frame type."), ref=frame.get("client_id"))
            return
        if kind in WRITES and not await self.guard_write(exact=kind in DEALS):
            return  # the session or the party is gone: the socket is closing
        try:
            await handler(self, frame)
        except NotFound as error:  # no longer a party: the same answer as for a thread that does not exist
            await self._error(error.code, error.message)
            await self.end(NOT_FOUND)
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
        last = await db(_last_seq)(self.offer.pk)
        if after > last:  # a number this thread never gave: following it would drop every live event
            await self._error(
                "resume_ahead",
                _("This thread's last event is number %(last)s: resume after it or an earlier one.")
                % {"last": last},
                field="after",
            )
            return
        self.sent_seq = after
        await self._catch_up()
        online, reads = await db(self._snapshot)()
        await self.send_json({"type": "synced", "seq": self.sent_seq, "online": online, "reads": reads})

    def _snapshot(self) -> tuple[list[int], dict[str, int]]:
        online = sorted(present_users(self.offer.pk, self.parties))
        return online, {str(user): seq for user, seq in thread_reads(offer=self.offer).items()}

    async def _catch_up(self) -> None:
        """Send every stored event after ``sent_seq``, in order, page by page."""
        while True:
            page = await db(events_after)(offer=self.offer, after=self.sent_seq or 0, limit=PAGE)
            for event in page:
                await self.send_json({"type": "event", "event": event})
                self.sent_seq = event["seq"]
            if len(page) < PAGE:
                return

    async def _message(self, frame: dict[str, Any]) -> None:
        body, client_id = frame.get("body"), frame.get("client_id")
        if async_writes():
            appended = await self._append_message(body, client_id)
            if appended is not None:  # stored and committed: broadcast it, as the service would on commit
                await self.channel_layer.group_send(self.group, {"type": "thread.event", "event": appended})
                await self._ack("message", client_id=appended["client_id"], seq=appended["seq"])
                return
            if not await self.recheck():  # the statement refused: was it the session?
                return
        posted = await db(negotiation.thread_message)(
            user=self.user, offer=self.offer, body=body, client_id=client_id
        )
        await self._ack(
            "message", client_id=posted.event.client_id, seq=posted.event.seq, duplicate=posted.duplicate
        )

    async def _append_message(self, body: object, client_id: object) -> dict[str, Any] | None:
        """The thread's hot path on the event loop itself: ``thread.MESSAGE_SQL`` through the loop's own
        pool, no hop to Django's sync thread. The statement re-checks the party, the account (active, same
        password, TOTP) and this socket's session row. None when anything is off (an unready account, a
        malformed body, a check the statement refused, a client id sent twice at once):
        ``thread_message`` then answers exactly, on the careful path."""
        readiness = known_readiness(self.user)  # read with the session, at every re-check
        if readiness is None or not readiness.ready:
            return None
        draft = MessageDraft.of(
            user=self.user,
            offer_id=self.offer.pk,
            body=body,
            client_id=client_id,
            session_key=self.scope.get("session_key"),
            password=self.user.password,
        )
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
        except OfferTermsInvalid as invalid:
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
        reason = clean_body(body=frame.get("reason", ""), required=False)
        await db(offer_withdraw)(user=self.user, offer=self.offer, reason=reason)
        await self.send_json({"type": "ack", "action": "withdraw"})

    async def _read(self, frame: dict[str, Any]) -> None:
        await db(negotiation.thread_mark_read)(user=self.user, offer=self.offer, seq=frame.get("seq"))

    async def _typing(self, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.side == ADMIN or now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        await self.channel_layer.group_send(
            self.group, {"type": "thread.typing", "user": self.user.pk, "name": self.user.display_name}
        )

    async def _ping(self, frame: dict[str, Any]) -> None:
        if await self.recheck():  # the session and the party, read afresh; presence refreshed
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
