"""Live packaging progress for a film's producer team, over a WebSocket.

The database is the source of truth: the worker writes progress to the cut (at most once a second) and
this consumer reads it once a second and pushes what changed. That holds on the embedded default, where
the worker is another process and the channel layer is in-memory, and in production alike.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async

from accounts.live import PollingConsumer
from accounts.models import User
from accounts.policy import account_readiness
from core.errors import DomainError
from festival.models import Film
from festival.policy import may_manage_film
from screening import services
from screening.models import Cut, CutStage


def _cut_states(film_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(c["public_id"]),
            "number": c["number"],
            "status": c["status"],
            "progress": c["progress"],
            "stage": c["stage"],
            "stage_label": str(CutStage(c["stage"]).label) if c["stage"] in CutStage.values else c["stage"],
            "failure_reason": c["failure_reason"],
        }
        for c in Cut.objects.filter(film_id=film_id)
        .order_by("-number")
        .values("public_id", "number", "status", "progress", "stage", "failure_reason")
    ]


def _may_follow(user: User, film_id: int) -> bool:
    if not user.is_authenticated or not account_readiness(user).ready:
        return False
    return Film.objects.filter(pk=film_id).exists() and may_manage_film(user, film_id)


class CutProgressConsumer(PollingConsumer):
    def setup(self) -> None:
        self.film_id = int(self.scope["url_route"]["kwargs"]["film_id"])

    def allowed(self, user: User) -> bool:
        return _may_follow(user, self.film_id)

    def states(self) -> dict[str, Any]:
        return {"type": "cuts", "cuts": _cut_states(self.film_id)}

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("action") != "cancel" or not content.get("cut"):
            await self.send_json({"type": "error", "detail": "Unknown or malformed message."})
            return
        error = await database_sync_to_async(self._cancel)(str(content["cut"]))
        if error:
            await self.send_json({"type": "error", "detail": error})

    def _cancel(self, cut_id: str) -> str | None:
        if not _may_follow(self.user, self.film_id):
            return "No such cut."
        cut = (
            Cut.objects.select_related("film").filter(public_id=cut_id, film_id=self.film_id).first()
            if _looks_like_uuid(cut_id)
            else None
        )
        if cut is None:
            return "No such cut."
        try:
            services.cut_cancel(user=self.user, cut=cut)
        except DomainError as error:
            return error.message
        return None


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
