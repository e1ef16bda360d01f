"""Live pages fed by the database: a WebSocket that re-reads some state once a second and pushes it when
it changed. The database is the source of truth, so this works whichever process made the change (the
Celery worker, the process that received a Stripe webhook) and with any channel layer.

A subclass says who may follow (``allowed``, also re-checked every ``RECHECK_POLLS`` polls, so that a
revoked party stops seeing the page) and what to push (``states``, read in the user's language).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from accounts.models import User

NOT_FOUND = 4404  # the same close code whether the object does not exist or the user may not see it


class PollingConsumer(AsyncJsonWebsocketConsumer):
    POLL_SECONDS = 1.0
    RECHECK_POLLS = 15

    user: User

    def setup(self) -> None:
        """Read the URL's arguments into attributes (called first, on connect)."""

    def allowed(self, user: User) -> bool:
        raise NotImplementedError

    def states(self) -> Any:
        """What the page shows live, JSON-ready; pushed whenever it differs from the last push."""
        raise NotImplementedError

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.setup()
        if not await database_sync_to_async(self.allowed)(self.user):
            await self.close(code=NOT_FOUND)
            return
        await self.accept()
        self.last: Any = None
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code: int) -> None:
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll(self) -> None:
        polls = 0
        while True:
            polls += 1
            if polls % self.RECHECK_POLLS == 0 and not await database_sync_to_async(self._still_allowed)():
                await self.close(code=NOT_FOUND)
                return
            states = await database_sync_to_async(self._states_in_language)()
            if states != self.last:
                self.last = states
                await self.send_json(states)
            await asyncio.sleep(self.POLL_SECONDS)

    def _still_allowed(self) -> bool:
        """Read the account afresh: readiness is memoised on the instance the socket opened with."""
        user = User.objects.filter(pk=self.user.pk).first()
        return user is not None and self.allowed(user)

    def _states_in_language(self) -> Any:
        with translation.override(getattr(self.user, "language", None) or None):
            return self.states()
