"""Stripe webhooks: verify the raw body's signature, store the event once by its id, act on it.

- A bad signature, or a timestamp outside the tolerance either way (``gateway.verify_signature``), gets
  400 and is recorded by the body's hash only: its content cannot be trusted.
- A signed body that is not an event (not JSON, not an object, no string id, type or ``data.object``)
  gets 400 and is recorded with its bytes.
- Every verified event is stored as received: its raw bytes, plus a parsed copy when its JSON holds only
  what ``core.text`` accepts (no NUL, lone surrogate or control character, not deeper than a form
  allows). Stripe's decimal fields stay the strings Stripe sent. Nothing in the snapshot is trusted.
- An event already processed or ignored is acknowledged again and changes nothing.
- Acting means re-reading the object from Stripe (``checkout``, ``disputes``, ``connect`` in
  ``payments.services``), which acts only from the states that allow it; an event about an object we do
  not know, or that Stripe does not know, is recorded and ignored. What the system records from an event
  has no actor; the request's address (Stripe's) says where it came from.
- If acting fails (Stripe unreachable...), the event is kept as failed and answered 503, so Stripe
  delivers it again and the next delivery retries it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from core.text import UnsafeText, check_text, check_untrusted
from payments.gateway import BadSignature, verify_signature
from payments.models import WebhookEvent, WebhookOutcome
from payments.selectors import connected_account_by_stripe_id
from payments.services.checkout import checkout_completed, checkout_expired, payment_failed, payment_settle
from payments.services.connect import connect_refresh
from payments.services.disputes import dispute_update

log = logging.getLogger(__name__)

EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,251}")
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")  # what the product passes back to Stripe's API


@dataclass(frozen=True)
class Reply:
    status: int
    detail: str


class Malformed(ValueError):
    """A signed body that is not a Stripe event."""


@dataclass(frozen=True)
class Envelope:
    event_id: str
    type: str
    object_id: str
    parsed: Any  # the whole body, decoded
    unsafe: str  # why the parsed copy is not kept ("" when it is)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Malformed(f"the number {text[:20]} is not finite")
    return value


def _refuse_constant(name: str) -> Any:
    raise Malformed(f"{name} is not JSON")


def envelope_of(*, payload: bytes) -> Envelope:
    """What the product needs from a signed body (event id, type, the object's id) and the decoded body;
    ``Malformed`` when it is not an event."""
    try:
        text = payload.decode("utf-8")
        parsed = json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except RecursionError:
        raise Malformed("nested deeper than a JSON parser follows") from None
    except UnicodeDecodeError:
        raise Malformed("not UTF-8") from None
    except ValueError as exc:  # JSONDecodeError, a number too long to convert, Malformed itself
        raise Malformed(f"not JSON ({str(exc)[:100]})") from None
    if not isinstance(parsed, dict):
        raise Malformed(f"a JSON {type(parsed).__name__}, not an event object")
    event_id, event_type, data = parsed.get("id"), parsed.get("type"), parsed.get("data")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise Malformed("no Stripe event id")
    if not isinstance(event_type, str) or len(event_type) > 100 or not EVENT_TYPE.fullmatch(event_type):
        raise Malformed("no event type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise Malformed("no data.object")
    object_id = data["object"].get("id")
    if object_id is None:
        object_id = ""
    if not isinstance(object_id, str) or len(object_id) > 255:
        raise Malformed("data.object.id is not an id")
    try:
        check_text(object_id, field="data.object.id")
    except UnsafeText as exc:
        raise Malformed(exc.message) from None
    try:
        check_untrusted(parsed)
    except UnsafeText as exc:
        unsafe = exc.message
    else:
        unsafe = ""
    return Envelope(event_id, event_type, object_id, parsed, unsafe)


def _account_updated(account_id: str) -> str:
    account = connected_account_by_stripe_id(account_id)
    if account is None:
        return "ignored: not one of our connected accounts"
    connect_refresh(account=account)
    return "processed: account refreshed"


def _session_completed(session_id: str) -> str:
    return checkout_completed(session_id=session_id)


def _dispute(dispute_id: str) -> str:
    return dispute_update(dispute_id=dispute_id)


# Each event type and what acts on it, given the id of the event's object
HANDLERS: dict[str, Callable[[str], str]] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": lambda session_id: "ignored: reported by the PaymentIntent",
    "checkout.session.expired": lambda session_id: checkout_expired(session_id=session_id),
    "payment_intent.succeeded": lambda intent_id: payment_settle(payment_intent_id=intent_id),
    "payment_intent.payment_failed": lambda intent_id: payment_failed(payment_intent_id=intent_id),
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
    "account.updated": _account_updated,
}


def _act(event_type: str, object_id: str) -> str:
    handler = HANDLERS.get(event_type)
    if handler is None or not object_id:
        return "ignored: not handled"
    if not STRIPE_ID.fullmatch(object_id):
        return "ignored: not a Stripe object id"
    try:
        with transaction.atomic():
            return handler(object_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404 or exc.code == "resource_missing":
            return f"ignored: Stripe does not know {object_id}"
        raise


def receive_webhook(*, payload: bytes, signature: str | None) -> Reply:
    """Verify, store once and act on one delivery (the raw body and its ``Stripe-Signature`` header)."""
    digest = hashlib.sha256(payload).hexdigest()
    try:
        verify_signature(payload, signature)
    except BadSignature as exc:
        WebhookEvent.objects.create(
            outcome=WebhookOutcome.BAD_SIGNATURE, detail=str(exc)[:500], body_sha256=digest
        )
        log.warning("Stripe webhook refused: %s", exc)
        return Reply(400, "bad signature")
    try:
        envelope = envelope_of(payload=payload)
    except Malformed as exc:
        detail = f"malformed event: {exc}"[:500]
        WebhookEvent.objects.create(
            outcome=WebhookOutcome.MALFORMED, detail=detail, body_sha256=digest, body=payload
        )
        log.warning("Stripe webhook refused: %s", detail)
        return Reply(400, detail)
    stored_as = f"raw body only: {envelope.unsafe}"[:200] if envelope.unsafe else ""
    with transaction.atomic():
        row, created = WebhookEvent.objects.select_for_update().get_or_create(
            stripe_event_id=envelope.event_id,
            defaults={
                "type": envelope.type,
                "object_id": envelope.object_id,
                "outcome": WebhookOutcome.RECEIVED,
                "payload": None if envelope.unsafe else envelope.parsed,
                "body": payload,
                "body_sha256": digest,
                "detail": stored_as,
            },
        )
        if not created:
            row.deliveries += 1
            row.save(update_fields=["deliveries"])
            if row.outcome in (WebhookOutcome.PROCESSED, WebhookOutcome.IGNORED):
                return Reply(200, f"duplicate: {row.outcome}")
        try:
            detail = _act(envelope.type, envelope.object_id)
        except Exception as exc:  # noqa: BLE001 (any failure: keep the event, let Stripe resend it)
            log.exception("Stripe webhook %s (%s) failed", envelope.event_id, envelope.type)
            row.outcome = WebhookOutcome.FAILED
            row.detail = " — ".join(filter(None, [f"{type(exc).__name__}: {exc}"[:290], stored_as]))[:500]
            row.save(update_fields=["outcome", "detail"])
            return Reply(503, "failed, will be retried")
        processed = detail.startswith("processed")
        row.outcome = WebhookOutcome.PROCESSED if processed else WebhookOutcome.IGNORED
        row.detail = " — ".join(filter(None, [detail[:290], stored_as]))[:500]
        row.processed_at = timezone.now()
        row.save(update_fields=["outcome", "detail", "processed_at"])
    return Reply(200, detail)
