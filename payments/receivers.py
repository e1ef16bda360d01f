"""What payments does when other apps say something happened (connected in ``PaymentsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from offers.models import Agreement
from payments.services.schedules import schedule_for_agreement


def schedule_agreement(sender: Any, *, agreement: Agreement, **kwargs: Any) -> None:
    """``offers.signals.agreement_recorded``: the agreement's payment schedule, in the transaction that
    records it. ``actor`` is the user who accepted the deal; a sender that does not name one (offers
    before it carried the actor) gets a schedule recorded by the system."""
    schedule_for_agreement(agreement=agreement, actor=kwargs.get("actor"))
