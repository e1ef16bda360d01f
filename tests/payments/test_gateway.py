"""The one Stripe client: pinned API version, idempotency keys derived from the action, webhook
signatures checked with Stripe's real scheme. Against a local Stripe-shaped server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from payments import gateway
from tests.payments.stripe_stub import StripeStub


def _sign(payload: bytes, secret: str, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe computes it: t=<time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def test_without_keys_payments_are_not_configured(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    assert not gateway.configured()
    with pytest.raises(gateway.PaymentsNotConfigured):
        gateway.gateway()


def test_calls_carry_the_pinned_version_and_a_key_derived_from_the_action(stripe_stub: StripeStub) -> None:
    client = gateway.gateway()
    params = {"type": "express", "country": "PE"}
    first = gateway.call(client.v1.accounts.create, "account.create", 7, params=params)
    again = gateway.call(client.v1.accounts.create, "account.create", 7, params=params)  # a retry
    other = gateway.call(client.v1.accounts.create, "account.create", 8, params=params)
    sent = stripe_stub.requests
    assert [r.path for r in sent] == ["/v1/accounts"] * 3
    assert {r.headers["stripe-version"] for r in sent} == {gateway.API_VERSION}
    assert (
        sent[0].headers["idempotency-key"]
        == sent[1].headers["idempotency-key"]
        == gateway.idempotency_key("account.create", 7)
    )
    assert sent[2].headers["idempotency-key"] != sent[0].headers["idempotency-key"]
    assert first.id == again.id != other.id  # the retry did nothing twice
    assert sent[0].form == {"type": "express", "country": "PE"}


def test_a_webhook_signed_with_the_real_scheme_is_accepted(stripe_stub: StripeStub) -> None:
    payload = json.dumps(
        {"id": "evt_1", "object": "event", "type": "account.updated", "data": {"object": {}}}
    )
    now = int(time.time())
    assert gateway.verify_signature(payload.encode(), _sign(payload.encode(), "whsec_stub", at=now)) == now


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "t=1,v1=00",
        "garbage",
        "OTHER",  # signed with another secret
        "OLD",  # signed more than five minutes ago
        "FUTURE",  # signed more than five minutes from now
        "TAMPERED",  # the body changed after signing
    ],
)
def test_bad_webhook_signatures_are_refused(stripe_stub: StripeStub, signature: str | None) -> None:
    payload = b'{"id": "evt_1", "object": "event", "type": "account.updated", "data": {"object": {}}}'
    body = payload
    if signature == "OTHER":
        signature = _sign(payload, "whsec_other")
    elif signature == "OLD":
        signature = _sign(payload, "whsec_stub", at=int(time.time()) - 600)
    elif signature == "FUTURE":
        signature = _sign(payload, "whsec_stub", at=int(time.time()) + 600)
    elif signature == "TAMPERED":
        signature = _sign(payload, "whsec_stub")
        body = payload.replace(b"account.updated", b"charge.refunded")
    with pytest.raises(gateway.BadSignature):
        gateway.verify_signature(body, signature)
