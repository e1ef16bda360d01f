"""Stripe webhooks: verify the raw body's signature, store the event once by its id, act on it.

- A bad signature gets 400 and is recorded (body hash only: its content cannot be trusted).
- An event already processed or ignored is acknowledged again and changes nothing.
- Acting means re-reading the object from Stripe (``payments.checkout``, ``payments.refunds``,
  ``payments.connect``), which acts only from the states that allow it; an event about an object we do
  not know is recorded and ignored.
- If acting fails (Stripe unreachable...), the event is kept as failed and answered 500, so Stripe
  delivers it again and the next delivery retries it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from payments import checkout, refunds
from payments.connect import connect_refresh
from payments.gateway import verified_event
from payments.models import ConnectedAccount, WebhookEvent, WebhookOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    detail: str


def _account_updated(account_id: str) -> str:
    account = ConnectedAccount.objects.filter(stripe_account_id=account_id).first()
    if account is None:
        return "ignored: not one of our connected accounts"
    connect_refresh(account=account)
    return "processed: account refreshed"


HANDLERS: dict[str, Callable[[str], str]] = {
    "checkout.session.completed": checkout.checkout_completed,
    "checkout.session.async_payment_succeeded": checkout.checkout_completed,
    "checkout.session.async_payment_failed": lambda session_id: "ignored: reported by the PaymentIntent",
    "checkout.session.expired": checkout.checkout_expired,
    "payment_intent.succeeded": checkout.payment_settle,
    "payment_intent.payment_failed": checkout.payment_failed,
    "charge.dispute.created": refunds.dispute_update,
    "charge.dispute.updated": refunds.dispute_update,
    "charge.dispute.closed": refunds.dispute_update,
    "charge.dispute.funds_withdrawn": refunds.dispute_update,
    "charge.dispute.funds_reinstated": refunds.dispute_update,
    "account.updated": _account_updated,
}


def receive_webhook(payload: bytes, signature: str | None) -> Reply:
    digest = hashlib.sha256(payload).hexdigest()
    try:
        event: Any = verified_event(payload, signature)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        WebhookEvent.objects.create(
            outcome=WebhookOutcome.BAD_SIGNATURE, detail=str(exc)[:500], body_sha256=digest
        )
        log.warning("Stripe webhook refused: %s", exc)
        return Reply(400, "bad signature")
    data_object = event.data.object
    object_id = str(getattr(data_object, "id", "") or "")
    with transaction.atomic():
        row, created = WebhookEvent.objects.select_for_update().get_or_create(
            stripe_event_id=event.id,
            defaults={
                "type": event.type,
                "object_id": object_id,
                "outcome": WebhookOutcome.RECEIVED,
                "payload": event.to_dict(),
                "body_sha256": digest,
            },
        )
        if not created:
            row.deliveries += 1
            row.save(update_fields=["deliveries"])
            if row.outcome in (WebhookOutcome.PROCESSED, WebhookOutcome.IGNORED):
                return Reply(200, f"duplicate: {row.outcome}")
        handler = HANDLERS.get(event.type)
        try:
            with transaction.atomic():
                detail = handler(object_id) if handler and object_id else "ignored: not handled"
        except Exception as exc:  # noqa: BLE001 (any failure: keep the event, let Stripe resend it)
            log.exception("Stripe webhook %s (%s) failed", event.id, event.type)
            row.outcome, row.detail = WebhookOutcome.FAILED, f"{type(exc).__name__}: {exc}"[:500]
            row.save(update_fields=["outcome", "detail"])
            return Reply(500, "failed, will be retried")
        processed = detail.startswith("processed")
        row.outcome = WebhookOutcome.PROCESSED if processed else WebhookOutcome.IGNORED
        row.detail, row.processed_at = detail[:500], timezone.now()
        row.save(update_fields=["outcome", "detail", "processed_at"])
    return Reply(200, detail)
