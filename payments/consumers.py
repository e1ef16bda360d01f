"""Live payment status of an agreement's instalments, over a WebSocket, for its parties and admins.

The database is the source of truth (docs/architecture.md, invariant 3): Stripe's webhooks change
instalments in whichever process receives them, and this consumer reads them once a second and pushes what
changed, like ``screening.consumers.CutProgressConsumer``. Nothing is kept in process memory that another
process needs.
"""

from __future__ import annotations

import uuid
from typing import Any

from accounts.live import PollingConsumer
from accounts.models import User
from accounts.policy import account_readiness
from offers.selectors.agreements import agreements_visible_to
from payments.selectors import payment_states


def may_follow(user: User, public_id: uuid.UUID) -> bool:
    """A ready account that is a party to the agreement or an admin (``agreements_visible_to``)."""
    if not user.is_authenticated or not user.is_active or not account_readiness(user).ready:
        return False
    return agreements_visible_to(user=user).filter(public_id=public_id).exists()


class PaymentStatusConsumer(PollingConsumer):
    def setup(self) -> None:
        self.public_id: uuid.UUID = self.scope["url_route"]["kwargs"]["public_id"]

    def allowed(self, user: User) -> bool:
        return may_follow(user, self.public_id)

    def states(self) -> dict[str, Any]:
        return payment_states(self.public_id)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The socket only reports: anything sent, JSON or not, gets an error frame and the socket stays
        open (docs/architecture.md, invariant 6)."""
        await self.send_json({"type": "error", "detail": "This socket accepts no messages."})
