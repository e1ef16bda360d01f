"""Live payment status of an agreement's instalments, over a WebSocket, for its parties and admins.

The database is the source of truth (invariant 3): Stripe's webhooks change instalments in whichever
process receives them, and this consumer reads them once a second and pushes what changed, like
``screening.consumers.CutProgressConsumer``. Nothing is kept in process memory that another process needs.
"""

from __future__ import annotations

import uuid
from typing import Any

from accounts.models import User
from accounts.policy import account_readiness
from accounts.live import PollingConsumer
from offers.agreement_selectors import agreements_visible_to
from payments.models import Instalment, InstalmentStatus, PaymentSchedule


def may_follow(user: User, public_id: uuid.UUID) -> bool:
    """A ready account that is a party to the agreement or an admin (``agreements_visible_to``)."""
    if not user.is_authenticated or not user.is_active or not account_readiness(user).ready:
        return False
    return agreements_visible_to(user).filter(public_id=public_id).exists()


def payment_states(public_id: uuid.UUID) -> dict[str, Any]:
    """What the schedule page shows live: each instalment's status and Stripe's reason if it failed."""
    schedule = PaymentSchedule.objects.filter(agreement__public_id=public_id).first()
    if schedule is None:
        return {"type": "instalments", "disputed": False, "instalments": []}
    rows = (
        Instalment.objects.filter(schedule=schedule)
        .order_by("number")
        .values("pk", "status", "failure_reason", "paid_at")
    )
    return {
        "type": "instalments",
        "disputed": schedule.disputed,
        "instalments": [
            {
                "id": row["pk"],
                "status": row["status"],
                "status_label": str(InstalmentStatus(row["status"]).label),
                "failure_reason": row["failure_reason"],
                "paid_at": row["paid_at"].isoformat() if row["paid_at"] else None,
            }
            for row in rows
        ],
    }


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
        open (invariant 6)."""
        await self.send_json({"type": "error", "detail": "This socket accepts no messages."})
