"""The one way out to Stripe: a StripeClient on a pinned API version, idempotency keys derived from what
a call does, and webhook signature checks.

Every outgoing call goes through ``call``, which names the action and the parts that make it unique
(``call(client.v1.accounts.create, "account.create", organisation.pk, params=...)``): a retry of the
same action sends the same ``Idempotency-Key``, so Stripe never does it twice. Without keys in the
environment ``gateway()`` is None and the product says payments are not configured.
"""

from __future__ import annotations

import hashlib
import hmac
import time
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


class BadSignature(Exception):
    """A delivery whose ``Stripe-Signature`` does not sign its body with our secret, or signs it at a
    time outside the tolerance (a replay, or a clock far off)."""


# The tolerance (STRIPE_WEBHOOK_TOLERANCE_SECONDS, Stripe's own 300 s by default) applies both ways: Stripe's
# libraries only refuse old timestamps, but one far in the future is no more Stripe's than an old one.
_HEX = frozenset("0123456789abcdef")


def _signature_parts(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise BadSignature("no single timestamp in the Stripe-Signature header")
    if len(timestamps[0]) > 12:
        raise BadSignature("a timestamp outside the tolerance (not a time)")
    signatures = [s for s in signatures if len(s) == 64 and set(s) <= _HEX]
    if not signatures:
        raise BadSignature("no v1 signature in the Stripe-Signature header")
    return int(timestamps[0]), signatures


def verify_signature(payload: bytes, header: str | None, *, now: float | None = None) -> int:
    """Check Stripe's scheme on the raw bytes: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``
    with our endpoint secret, and the time within the tolerance either way. Returns the timestamp;
    raises ``BadSignature`` (``PaymentsNotConfigured`` without a secret)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured
    if not header:
        raise BadSignature("no Stripe-Signature header")
    timestamp, signatures = _signature_parts(header)
    expected = hmac.new(
        settings.STRIPE_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise BadSignature("no signature matches the body")
    tolerance = int(settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS)
    drift = timestamp - (time.time() if now is None else now)
    if drift < -tolerance:
        raise BadSignature(f"timestamp {timestamp} is older than the tolerance ({tolerance} s): a replay")
    if drift > tolerance:
        raise BadSignature(f"timestamp {timestamp} is beyond the tolerance ({tolerance} s) in the future")
    return timestamp
