"""The one way out to Stripe: a StripeClient on a pinned API version, idempotency keys derived from what
a call does, and webhook signature checks.

Every outgoing call goes through ``call``, which names the action and the parts that make it unique
(``call(client.v1.accounts.create, "account.create", organisation.pk, params=...)``): a retry of the
same action sends the same ``Idempotency-Key``, so Stripe never does it twice. Without keys in the
environment ``gateway()`` is None and the product says payments are not configured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

import stripe
from django.conf import settings

T = TypeVar("T")

# Pinned: the API version this code was written against (stripe-python 16.1's own), never the
# account's default. Change it together with the code that reads Stripe's objects.
API_VERSION = "2026-10-28.endive"


class PaymentsNotConfigured(Exception):
    """No Stripe keys in the environment: the embedded default shows payments as not configured."""


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def gateway() -> stripe.StripeClient:
    if not configured():
        raise PaymentsNotConfigured
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=2,  # with the same idempotency key, as Stripe recommends
    )


def idempotency_key(action: str, *parts: object) -> str:
    """The same action on the same objects gives the same key: ``payout.transfer`` of instalment 12."""
    text = "\x1f".join([action, *(str(part) for part in parts)])
    return f"fip-{action}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def call(
    method: Callable[..., T],
    action: str,
    *parts: object,
    params: dict[str, Any] | None = None,
    on: str | None = None,
) -> T:
    """Call a StripeClient method with the idempotency key of ``action`` on ``parts``; ``on`` is the id
    of the object a method acts on (``transfers.reversals.create(on=transfer_id)``)."""
    options: Any = {"idempotency_key": idempotency_key(action, *parts)}
    if on is None:
        return method(params=params or {}, options=options)
    return method(on, params=params or {}, options=options)


def verified_event(payload: bytes, signature: str | None) -> stripe.Event:
    """The webhook event if ``signature`` (the Stripe-Signature header) signs the raw ``payload`` with
    our endpoint secret, within Stripe's 5-minute tolerance; ``stripe.SignatureVerificationError`` or
    ``ValueError`` otherwise."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured
    return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
