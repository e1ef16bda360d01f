"""What every WebSocket consumer of the project shares (``LiveConsumer``), and live pages fed by the
database (``PollingConsumer``).

``LiveConsumer``:
- decodes every text frame through ``core.text.decode_frame``: NUL characters, lone surrogates, control
  characters, nesting too deep or JSON that does not parse get an ``error`` frame naming the field, and
  the socket stays open (docs/thread-protocol.md);
- survives any exception in a handler: it is logged, the client gets an ``error`` frame ``internal``,
  and the socket stays open; if even that cannot be sent (the client has gone) the consumer stops, and its
  cleanup (``cleanup``: leave groups, presence) runs in every case, on a normal close, an exception or a
  cancellation;
- is bound to the session it opened with (``accounts.socket_session``): a logout, a password change, the
  idle or absolute limit, a deactivated account, TOTP removed, or the subclass's own rule
  (``still_allowed``: still a party, still accredited) closes it, at once when a signal says so, otherwise
  at the next write or within ``SOCKET_SESSION_CHECK_SECONDS``;
- speaks the language of the page it serves: the language cookie, then Accept-Language (as Django's
  LocaleMiddleware chose the page's), then the account's preferred language.

``PollingConsumer``: a WebSocket that re-reads some state once a second and pushes it when it changed. The
database is the source of truth, so this works whichever process made the change (the Celery worker, the
process that received a Stripe webhook) and with any channel layer. A subclass says who may follow
(``allowed``) and what to push (``states``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.models import User
from accounts.socket_session import (
    SESSION_ENDED,
    SessionState,
    bound_state,
    check_seconds,
    scope_cookies,
    session_group,
    user_group,
    write_check_seconds,
)
from audit.context import client_ip_context
from audit.middleware import scope_client_ip
from core.text import UnsafeText, decode_frame

log = logging.getLogger(__name__)

NOT_FOUND = 4404  # the same close code whether the object does not exist or the user may not see it


def socket_language(scope: dict[str, Any], user: Any) -> str:
    """The language the page behind this socket was rendered in (Django's order: the language cookie,
    then Accept-Language), else the account's preferred language, else the site's."""
    candidates: list[str] = []
    cookies = scope.get("cookies") or scope_cookies(scope)
    if cookies.get(settings.LANGUAGE_COOKIE_NAME):
        candidates.append(cookies[settings.LANGUAGE_COOKIE_NAME])
    for name, value in scope.get("headers", []):
        if name.lower() == b"accept-language":
            candidates += [
                code for code, _q in parse_accept_lang_header(value.decode("latin1")) if code != "*"
            ]
    candidates += [getattr(user, "language", "") or "", settings.LANGUAGE_CODE]
    for code in candidates:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """The base of every consumer (see the module's docstring). Subclasses implement ``open`` (may this
    user follow? set up, join groups), ``opened`` (after the handshake), ``cleanup`` and
    ``still_allowed``."""

    user: User
    language: str = settings.LANGUAGE_CODE
    client_ip: str | None = None
    session: SessionState
    TELL_BEFORE_CLOSE = True  # an error frame (session_ended, not_found) before the close code

    # --- hooks ----------------------------------------------------------------------------------------

    async def open(self) -> bool:
        """Before the handshake: False refuses it (close 4404)."""
        return True

    async def opened(self) -> None:
        """After the handshake."""

    async def cleanup(self) -> None:
        """Leave what ``open`` joined. Runs exactly once, however the socket ends."""

    def still_allowed(self, user: User) -> bool:
        """Re-checked with the session (in Django's sync thread): may ``user`` still follow?"""
        return True

    # --- frames ---------------------------------------------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return decode_frame(text_data)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.send_error("malformed", _("Send JSON text frames."))
            return
        try:
            content = await self.decode_json(text_data)
        except UnsafeText as error:
            await self.send_error(error.code, error.message, field=error.field)
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, code: str, message: str, *, field: str | None = None, **extra: Any) -> None:
        await self.send_json(
            {"type": "error", "code": code, "message": message, "detail": message, "field": field, **extra}
        )

    # --- lifetime -------------------------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.client_ip = scope_client_ip(scope)  # every action's audit entry says from where
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._cleanup_once()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, in the reader's language, that survives a failing handler. Without Channels'
        ``close_old_connections`` before every message: that hops to Django's one sync thread for each
        frame and each broadcast every socket receives, and consumers reach the database through
        ``database_sync_to_async``, which closes old connections around each call itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        with translation.override(self.language), client_ip_context(self.client_ip):
            try:
                await handler(message)
            except StopConsumer:
                raise
            except Exception:
                log.exception("WebSocket handler failed on %s (%s)", message["type"], self.scope.get("path"))
                await self._after_failure(message)

    async def _after_failure(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.connect":
            with contextlib.suppress(Exception):
                await self.close(code=1011)
            raise StopConsumer
        try:
            await self.send_error("internal", _("Something went wrong on our side; try again."))
        except Exception:  # the client has gone: stop; __call__ cleans up
            raise StopConsumer from None

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.language = socket_language(self.scope, self.user)
        self.ending = False
        with translation.override(self.language), client_ip_context(self.client_ip):
            self.session = await database_sync_to_async(bound_state)(self.scope, self.user)
            if not self.session.alive or not await self.open():
                await self.close(code=NOT_FOUND)
                return
        self.user = self.session.user  # type: ignore[assignment]  # read afresh with the session
        self.checked_at = time.monotonic()
        self.bound_groups = [user_group(self.user.pk)]
        if self.scope.get("session_key"):
            self.bound_groups.append(session_group(self.scope["session_key"]))
        for group in self.bound_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.watcher = asyncio.create_task(self._watch())
        await self.opened()

    async def disconnect(self, code: int) -> None:
        await self._cleanup_once()

    async def _cleanup_once(self) -> None:
        if getattr(self, "cleaned", False) or not hasattr(self, "bound_groups"):
            return
        self.cleaned = True
        watcher = getattr(self, "watcher", None)
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
        layer = getattr(self, "channel_layer", None)
        for group in getattr(self, "bound_groups", []):
            with contextlib.suppress(Exception):
                await layer.group_discard(group, self.channel_name)  # type: ignore[union-attr]
        try:
            await self.cleanup()
        except Exception:
            log.exception("WebSocket cleanup failed (%s)", self.scope.get("path"))

    # --- the session, re-checked ----------------------------------------------------------------------

    def _recheck(self, touch: bool) -> tuple[SessionState, bool]:
        state = bound_state(self.scope, self.user, touch=touch)
        return state, state.alive and self.still_allowed(state.user)  # type: ignore[arg-type]

    async def recheck(self, *, touch: bool = False) -> bool:
        """Re-read the session and the subclass's rule now; end the socket if either no longer holds."""
        if self.ending:
            return False
        state, allowed = await database_sync_to_async(self._recheck)(touch)
        self.checked_at = time.monotonic()
        if not state.alive:
            await self.end(SESSION_ENDED)
            return False
        if not allowed:
            await self.end(NOT_FOUND)
            return False
        self.session, self.user = state, state.user  # type: ignore[assignment,unused-ignore]
        return True

    async def guard_write(self, *, exact: bool = False) -> bool:
        """Before a write: the session must still be good. ``exact`` re-reads it now (deal-making actions);
        otherwise a reading younger than ``SOCKET_SESSION_WRITE_CHECK_SECONDS`` that has not reached its
        own end (idle or absolute limit) is trusted. The user's write counts as activity."""
        now = time.time()
        if (
            exact
            or now >= self.session.ends_at
            or now >= self.session.touch_due_at
            or time.monotonic() - self.checked_at >= write_check_seconds()
        ):
            return await self.recheck(touch=True)
        return True

    async def end(self, code: int) -> None:
        """Close the socket: 4401 when its session has ended (sign in again), 4404 when the user may no
        longer follow (the same answer as for something that does not exist)."""
        if self.ending:
            return
        self.ending = True
        if not self.TELL_BEFORE_CLOSE:
            pass
        elif code == SESSION_ENDED:
            await self.send_error("session_ended", _("Your session has ended: sign in again."))
        else:
            await self.send_error("not_found", _("Not found."))
        await self.close(code=code)

    async def _watch(self) -> None:
        # Spread over the interval: sockets opened together (a server restart, the benchmark's 400) would
        # otherwise all re-read their sessions at the same instant, on the process's one sync thread, and
        # stall every socket of the process for a second or two each round.
        spread = random.uniform(0.5, 1.0)  # noqa: S311 (timing, not security)
        while not self.ending:
            # Wake at the session's own end (its idle or absolute limit) if that comes first: activity in
            # another tab may have moved it, so it is re-read then rather than assumed.
            until_end = self.session.ends_at - time.time()
            await asyncio.sleep(max(0.05, min(check_seconds() * spread, until_end)))
            spread = random.uniform(0.9, 1.1)  # noqa: S311
            try:
                with translation.override(self.language), client_ip_context(self.client_ip):
                    await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next round tries again; the writes re-check by themselves
                log.warning("session re-check failed (%s)", self.scope.get("path"), exc_info=True)

    async def socket_session_ended(self, message: dict[str, Any]) -> None:
        await self.end(SESSION_ENDED)

    async def socket_recheck(self, message: dict[str, Any]) -> None:
        await self.recheck()


class PollingConsumer(LiveConsumer):
    TELL_BEFORE_CLOSE = False  # the pages read the close code alone
    POLL_SECONDS = 1.0
    RECHECK_POLLS = 15  # besides the session watcher: re-check with every RECHECK_POLLS-th poll too

    def setup(self) -> None:
        """Read the URL's arguments into attributes (called first, on connect)."""

    def allowed(self, user: User) -> bool:
        raise NotImplementedError

    def states(self) -> Any:
        """What the page shows live, JSON-ready; pushed whenever it differs from the last push."""
        raise NotImplementedError

    async def open(self) -> bool:
        self.setup()
        return bool(await database_sync_to_async(self.allowed)(self.user))

    async def opened(self) -> None:
        self.last: Any = None
        self.poller = asyncio.create_task(self._poll())

    async def cleanup(self) -> None:
        poller = getattr(self, "poller", None)
        if poller is not None and poller is not asyncio.current_task():
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    def still_allowed(self, user: User) -> bool:
        return self.allowed(user)

    async def _poll(self) -> None:
        polls = 0
        while not self.ending:
            polls += 1
            if polls % self.RECHECK_POLLS == 0 and not await self.recheck():
                return
            states = await database_sync_to_async(self._states_in_language)()
            if states != self.last:
                self.last = states
                await self.send_json(states)
            await asyncio.sleep(self.POLL_SECONDS)

    def _states_in_language(self) -> Any:
        with translation.override(self.language), client_ip_context(self.client_ip):
            return self.states()
