"""An offer's negotiation thread: appending numbered events, and telling the sockets.

The database is the source of truth. ``append_event`` runs under the offer's row lock (held by the
caller's transaction), gives the event the next sequence number and, only once the transaction has
committed, broadcasts it to the thread's channel-layer group and queues the offline emails. A broadcast
that is lost costs nothing: clients resume from the last sequence number they saw. A plain message, the
thread's hot path, is appended by one statement instead (``MESSAGE_SQL``). Who may write is
``offers.parties``; what clients receive is ``offers.selectors.thread``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import mfa_sql
from core.errors import Conflict, InvalidInput
from festival.models import Film
from offers.models import EventKind, Offer, OfferStatus, OfferVersion, ThreadEvent
from offers.parties import writer_side_sql
from offers.selectors.thread import event_payload
from offers.tasks import notify_thread_event

log = logging.getLogger(__name__)

MAX_BODY = 4000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOTIFIED_KINDS = frozenset({EventKind.SUBMITTED, EventKind.COUNTER, EventKind.ACCEPTED, EventKind.DECLINED})


def group_name(*, offer_id: int) -> str:
    return f"offer-thread-{offer_id}"


# --- checks every write shares ------------------------------------------------------------------------


def require_open(*, offer: Offer) -> None:
    if offer.status != OfferStatus.SUBMITTED:
        raise Conflict(
            _("This negotiation is closed (%(status)s).") % {"status": offer.get_status_display()},
            code="thread_closed",
        )


def clean_client_id(*, client_id: str | None) -> str:
    if client_id in (None, ""):
        return ""
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise InvalidInput(
            _("A client message id is 1 to 64 letters, digits, dashes or underscores."), field="client_id"
        )
    return client_id


def clean_body(*, body: object, required: bool) -> str:
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise InvalidInput(_("A message is text."), field="body")
    body = body.strip()
    if required and not body:
        raise InvalidInput(_("Write a message first."), field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(_("A message has at most %(max)s characters.") % {"max": MAX_BODY}, field="body")
    return body


def previous_event(*, offer: Offer, author: User, client_id: str) -> ThreadEvent | None:
    """The event this author already sent with this client id: a resend appears once."""
    if not client_id:
        return None
    return ThreadEvent.objects.filter(offer=offer, author=author, client_id=client_id).first()


# --- appending an event -------------------------------------------------------------------------------


def append_event(
    *,
    offer: Offer,
    kind: str,
    author: User | None,
    side: str = "",
    body: str = "",
    version: OfferVersion | None = None,
    client_id: str = "",
) -> ThreadEvent:
    """The next numbered event of ``offer``'s thread. The caller holds the offer's row lock."""
    now = timezone.now()
    seq = offer.last_seq + 1
    event = ThreadEvent(
        offer=offer,
        seq=seq,
        kind=kind,
        author=author,
        side=side,
        body=body,
        version=version,
        client_id=client_id,
        created_at=now,
    )
    # In SQL: on the live thread's hot path the ORM's update() and create() cost more CPU than the
    # statements themselves. The two statements stay what the ORM would send.
    with connection.cursor() as cursor:
        stamp = connection.ops.adapt_datetimefield_value(now)  # as the ORM would store it
        cursor.execute(_BUMP_SQL, [seq, stamp, offer.pk])
        cursor.execute(
            _INSERT_EVENT_SQL,
            [
                offer.pk,
                seq,
                kind,
                author.pk if author else None,
                side,
                body,
                version.pk if version else None,
                client_id,
                stamp,
            ],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias
    offer.last_seq, offer.last_activity_at = seq, now
    payload = event_payload(event)
    transaction.on_commit(
        lambda: broadcast(offer_id=offer.pk, message={"type": "thread.event", "event": payload})
    )
    if kind in NOTIFIED_KINDS:
        transaction.on_commit(lambda: notify_thread_event.delay(event.pk))
    return event


# Table names from the models; every value is a bound parameter.
_BUMP_SQL = f"UPDATE {Offer._meta.db_table} SET last_seq = %s, last_activity_at = %s WHERE id = %s"  # noqa: S608
_INSERT_EVENT_SQL = (
    f"INSERT INTO {ThreadEvent._meta.db_table} "  # noqa: S608
    "(offer_id, seq, kind, author_id, side, body, version_id, client_id, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


# --- a plain message in one statement ---------------------------------------------------------------
#
# The live thread's hot path. One statement checks that the author is a writing party (the film's team
# first, then the offering organisation unless barred by a revoked accreditation: ``offers.parties``'
# ``writer_side_sql``, the SQL form of ``with_party_flags`` and ``side_from_flags``), that the account is
# still active with the password it had when the socket checked its session last (a changed password
# ends other sessions), that it still has TOTP (``accounts.policy.mfa_sql``), that the socket's session is
# still in the store and unexpired (a logout deletes it; NULL for REST, whose request was just
# authenticated), that the thread is open and that this client id was not used yet; bumps the offer's
# sequence number under its row lock (a concurrent message waits and re-reads the bumped row); appends
# the event; and commits without waiting for the WAL flush (asynchronous commit, for this transaction
# only: a disk that stalls a flush for 200 ms would otherwise hold every socket behind it; only a crash of
# PostgreSQL itself within ~0.6 s could lose a message. Counters, acceptances, declines, withdrawals and
# agreements keep synchronous commit: they are the deal). Every added check is an index lookup inside the
# same statement: no extra round trip.
# No row back means one of the checks failed: the careful path (``negotiation.thread_message``, after the
# socket re-read its session) then gives the exact answer. PostgreSQL only; run by Django's cursor in the
# REST path and by the event loop's own pool (``core.async_db``) in the WebSocket path.
MESSAGE_SQL = f"""
WITH writer AS (
    SELECT {writer_side_sql(offer="o", session="f.session_id", user="%(user)s")} AS side
    FROM {Offer._meta.db_table} o
    JOIN {Film._meta.db_table} f ON f.id = o.film_id
    JOIN {User._meta.db_table} u ON u.id = %(user)s AND u.is_active
         AND (%(password)s::text IS NULL OR u.password = %(password)s::text)
    WHERE o.id = %(offer)s
      AND {mfa_sql("u")}
      AND (%(session)s::text IS NULL
           OR EXISTS (SELECT 1 FROM {Session._meta.db_table} s
                      WHERE s.session_key = %(session)s::text AND s.expire_date > %(now)s))
), bumped AS (
    UPDATE {Offer._meta.db_table} o SET last_seq = o.last_seq + 1, last_activity_at = %(now)s
    FROM writer w
    WHERE o.id = %(offer)s AND o.status = %(open)s AND w.side IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM {ThreadEvent._meta.db_table} e
                      WHERE e.offer_id = o.id AND e.author_id = %(user)s
                        AND e.client_id = %(client)s AND e.client_id <> '')
    RETURNING o.id, o.last_seq, w.side
)
INSERT INTO {ThreadEvent._meta.db_table}
    (offer_id, seq, kind, author_id, side, body, version_id, client_id, created_at)
SELECT id, last_seq, %(kind)s, %(user)s, side, %(body)s, NULL, %(client)s, %(now)s FROM bumped
RETURNING id, seq, side, set_config('synchronous_commit', 'off', true)
"""  # noqa: S608 (table names from the models; every value is a bound parameter)


@dataclass(frozen=True)
class MessageDraft:
    """A well-formed message about to be appended by MESSAGE_SQL (on either the sync or the async path).
    ``session_key`` and ``password``: the socket's session and the password hash it was checked with
    (None on the REST path, whose request was just authenticated)."""

    user: User
    offer_id: int
    body: str
    client_id: str
    now: Any
    session_key: str | None = None
    password: str | None = None

    @classmethod
    def of(
        cls,
        *,
        user: User,
        offer_id: int,
        body: object,
        client_id: object,
        session_key: str | None = None,
        password: str | None = None,
    ) -> MessageDraft | None:
        """The cleaned message, or None if its body or client id is malformed (the careful path says so)."""
        try:
            text, client = clean_body(body=body, required=True), clean_client_id(client_id=client_id)  # type: ignore[arg-type]
        except InvalidInput:
            return None
        return cls(user, offer_id, text, client, timezone.now(), session_key, password)

    def params(self) -> dict[str, Any]:
        return {
            "user": self.user.pk,
            "offer": self.offer_id,
            "body": self.body,
            "client": self.client_id,
            "now": self.now,
            "session": self.session_key,
            "password": self.password,
            "kind": EventKind.MESSAGE.value,
            "open": OfferStatus.SUBMITTED.value,
        }

    def payload(self, seq: int, side: str) -> dict[str, Any]:
        """``event_payload`` of the appended message, without reading it back."""
        return {
            "seq": seq,
            "kind": EventKind.MESSAGE.value,
            "side": side,
            "author": {"id": self.user.pk, "name": self.user.display_name},
            "body": self.body,
            "client_id": self.client_id,
            "version": None,
            "agreement": None,
            "created_at": self.now.isoformat(),
        }


# --- telling the sockets ------------------------------------------------------------------------------

# The event loop of an async caller (the thread's consumer) whose services run in a worker thread.
_caller_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("thread_caller_loop", default=None)


def broadcast_on_loop(*, loop: asyncio.AbstractEventLoop) -> None:
    """Broadcasts made by the services this async context calls (through ``sync_to_async``) are handed
    to ``loop`` and not waited for. Waiting would hold the worker thread, which serves the database
    calls of every socket of the process, for the Redis round trips of each ``group_send``. Ordering
    needs no wait: a client that sees a gap in the sequence numbers reads the missing events from the
    database (``ThreadConsumer.thread_event``)."""
    _caller_loop.set(loop)


def _sent(offer_id: int, future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("thread broadcast failed for offer %s", offer_id, exc_info=future.exception())


def broadcast(*, offer_id: int, message: dict[str, Any]) -> None:
    """Send to the thread's sockets. Never fails the caller: the database already holds the truth."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _caller_loop.get()
    if loop is not None and loop.is_running():
        future = asyncio.run_coroutine_threadsafe(
            layer.group_send(group_name(offer_id=offer_id), message), loop
        )
        future.add_done_callback(lambda done: _sent(offer_id, done))
        return
    try:
        async_to_sync(layer.group_send)(group_name(offer_id=offer_id), message)
    except Exception:  # a lost broadcast is recovered by the clients' resume
        log.warning("thread broadcast failed for offer %s", offer_id, exc_info=True)
