"""Stripe's webhook fed with Stripe's own published objects (``tests/payments/fixtures``) and with what a
broken or hostile sender could sign: every verified event is stored as received (the raw bytes), a signed
body that is not an event or whose timestamp is outside the tolerance gets 400 and is recorded, and
nothing is ever a 500. Money moves only on what is re-read from Stripe."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from offers.models import Agreement
from payments.models import (
    ConnectedAccount,
    InstalmentStatus,
    LedgerTransaction,
    WebhookEvent,
    WebhookOutcome,
)
from payments.services.checkout import instalment_pay
from payments.services.webhooks import receive_webhook
from tests.conftest import World
from tests.payments.helpers import URLS, instalments
from tests.payments.stripe_stub import StripeStub, published, sign

pytestmark = pytest.mark.django_db


def post(body: bytes, header: str | None) -> Any:
    """Stripe's delivery, through the whole HTTP stack (middleware included), without session or CSRF."""
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    return Client(enforce_csrf_checks=True).post(
        "/payments/stripe/webhook/", body, content_type="application/json", **headers
    )


def newest() -> WebhookEvent:
    row = WebhookEvent.objects.order_by("-pk").first()
    assert row is not None
    return row


def event(event_type: str, obj: Any, event_id: str = "evt_hostile") -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}


def test_published_events_with_decimal_fields_are_stored_as_received(stripe_stub: StripeStub) -> None:
    plan_created = published("event_plan_created")  # amount_decimal: a decimal string
    body = json.dumps(plan_created, indent=2).encode()
    answer = post(body, sign(body))
    assert answer.status_code == 200 and answer.json()["detail"] == "ignored: not handled"
    row = WebhookEvent.objects.get(stripe_event_id=plan_created["id"])
    assert bytes(row.body) == body and row.type == "plan.created"
    assert row.object_id == "price_1MHYfFD0nOFZ7cKLbrbrW10G"
    assert row.payload["data"]["object"]["amount_decimal"] == "2000"  # as received, not a Decimal
    again = post(body, sign(body))  # Stripe's redelivery is acknowledged, once
    assert again.status_code == 200 and again.json()["detail"] == "duplicate: ignored"
    row.refresh_from_db()
    assert row.deliveries == 2 and WebhookEvent.objects.count() == 1


def test_published_payment_intent_event_about_someone_elses_payment_is_stored_and_ignored(
    stripe_stub: StripeStub,
) -> None:
    created = published("event")  # payment_intent.created, not a type the product acts on
    intent = published("payment_intent")
    stripe_stub.objects[f"/v1/payment_intents/{intent['id']}"] = intent
    succeeded = {**created, "id": "evt_published_succeeded", "type": "payment_intent.succeeded"}
    succeeded["data"] = {"object": {**created["data"]["object"], "id": intent["id"]}}
    for body in (json.dumps(created).encode(), json.dumps(succeeded).encode()):
        assert post(body, sign(body)).status_code == 200
    outcomes = dict(WebhookEvent.objects.values_list("stripe_event_id", "detail"))
    assert outcomes == {
        created["id"]: "ignored: not handled",
        "evt_published_succeeded": "ignored: not one of our payments",
    }


def test_a_checkout_session_with_currency_conversion_is_stored_and_settles_the_instalment(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    checkout = next(r for r in stripe_stub.requests if r.path == "/v1/checkout/sessions")
    # The payer is charged the instalment's amount in its currency: no Adaptive Pricing conversion
    assert checkout.form["adaptive_pricing[enabled]"] == "false"
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    session["currency_conversion"] = published("checkout.session_currency_conversion")
    stripe_stub.pay(first.checkout_session_id)
    snapshot = {**published("checkout.session"), **session, "status": "complete"}
    body = json.dumps(event("checkout.session.completed", snapshot, "evt_converted")).encode()
    answer = post(body, sign(body))
    assert answer.status_code == 200 and answer.json()["detail"] == "processed: paid"
    row = WebhookEvent.objects.get(stripe_event_id="evt_converted")
    assert row.payload["data"]["object"]["currency_conversion"]["fx_rate"] == "1.0865340001"
    assert bytes(row.body) == body
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID


DEEP = 100_000
MALFORMED: dict[str, bytes] = {
    "an empty object": b"{}",
    "an array": b"[]",
    "null": b"null",
    "a string": b'"evt_1"',
    "a number": b"12",
    "no data": json.dumps(
        {"id": "evt_nodata", "object": "event", "type": "payment_intent.succeeded"}
    ).encode(),
    "data not an object": json.dumps({**event("customer.created", {}), "data": []}).encode(),
    "an object that is a string": json.dumps(event("payment_intent.succeeded", "pi_1")).encode(),
    "an id that is a number": json.dumps({**event("customer.created", {"id": "cus_1"}), "id": 12}).encode(),
    "a type that is a list": json.dumps(
        {**event("customer.created", {"id": "cus_1"}), "type": ["x"]}
    ).encode(),
    "a NUL in the event id": json.dumps(event("customer.created", {"id": "cus_1"}, "evt_\x00a")).encode(),
    "a lone surrogate in the type": json.dumps(event("customer.\ud800", {"id": "cus_1"})).encode(),
    "an event id that is not Stripe's": json.dumps(event("customer.created", {}, "x" * 300)).encode(),
    "an object id that is an object": json.dumps(
        event("payment_intent.succeeded", {"id": {"$ne": 1}})
    ).encode(),
    "an object id with a NUL": json.dumps(event("payment_intent.succeeded", {"id": "pi_\x00"})).encode(),
    "not JSON": b"{not json",
    "not UTF-8": b'{"id": "evt_\xff\xfe", "type": "customer.created", "data": {"object": {}}}',
    "NaN": b'{"id": "evt_nan", "type": "customer.created", "data": {"object": {"amount": NaN}}}',
    "an infinite number": b'{"id": "evt_inf", "type": "customer.created", "data": {"object": {"a": 1e999}}}',
    "a number of 5000 digits": b'{"id": "evt_big", "type": "x.y", "data": {"object": {"a": '
    + b"9" * 5000
    + b"}}}",
    "nesting a JSON parser cannot follow": b'{"id": "evt_deep", "type": "x.y", "data": {"object": '
    + b"[" * DEEP
    + b"]" * DEEP
    + b"}}",
}


def test_signed_bodies_that_are_not_events_get_400_are_recorded_and_change_nothing(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    calls = len(stripe_stub.requests)
    for name, body in MALFORMED.items():
        answer = post(body, sign(body))
        assert answer.status_code == 400, name
        assert answer.json()["detail"].startswith("malformed event"), name
        row = newest()
        assert (row.outcome, row.stripe_event_id, bytes(row.body)) == (
            WebhookOutcome.MALFORMED,
            None,
            body,
        ), name
    assert WebhookEvent.objects.filter(outcome=WebhookOutcome.MALFORMED).count() == len(MALFORMED)
    assert len(stripe_stub.requests) == calls and LedgerTransaction.objects.count() == 0
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PROCESSING


STORED: dict[str, tuple[dict[str, Any], str, bool]] = {
    # name: (event, the reply's detail, whether the parsed copy is kept besides the raw bytes)
    "a NUL in a customer's text": (
        event("customer.created", {"id": "cus_1", "name": "Ana\x00Ruiz"}, "evt_nul"),
        "ignored: not handled",
        False,
    ),
    "a lone surrogate deep inside": (
        event("customer.updated", {"id": "cus_2", "metadata": {"a": ["\udc00"]}}, "evt_surrogate"),
        "ignored: not handled",
        False,
    ),
    "nesting deeper than any form allows": (
        event("customer.updated", {"id": "cus_3", "metadata": json.loads("[" * 60 + "]" * 60)}, "evt_nested"),
        "ignored: not handled",
        False,
    ),
    "an object without an id": (
        event("balance.available", {"object": "balance"}, "evt_balance"),
        "ignored: not handled",
        True,
    ),
    "a type the product does not know": (
        event("v2.core.account.updated", {"id": "acct_1"}, "evt_v2"),
        "ignored: not handled",
        True,
    ),
    "a handled type whose id is not Stripe's": (
        event("payment_intent.succeeded", {"id": "../../v1/charges?limit=100"}, "evt_path"),
        "ignored: not a Stripe object id",
        True,
    ),
    "a payment Stripe does not know": (
        event("payment_intent.succeeded", {"id": "pi_gone"}, "evt_gone"),
        "ignored: Stripe does not know pi_gone",
        True,
    ),
    "half a megabyte of text": (
        event("customer.created", {"id": "cus_4", "description": "x" * 500_000}, "evt_large"),
        "ignored: not handled",
        True,
    ),
}


def test_verified_events_with_hostile_content_are_stored_as_received_and_answered_200(
    stripe_stub: StripeStub,
) -> None:
    for name, (data, detail, parsed) in STORED.items():
        body = json.dumps(data).encode()
        answer = post(body, sign(body))
        assert answer.status_code == 200, name
        assert answer.json()["detail"] == detail, name
        row = WebhookEvent.objects.get(stripe_event_id=data["id"])
        assert bytes(row.body) == body and row.outcome == WebhookOutcome.IGNORED, name
        assert (row.payload is not None) is parsed, name
        if not parsed:
            assert "raw body only" in row.detail, name


def test_a_handled_event_with_a_nul_in_its_snapshot_still_settles_from_the_object_re_read(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    snapshot = {**session, "customer_details": {"name": "\x00\ud800", "email": "x@example.com"}}
    body = json.dumps(event("checkout.session.completed", snapshot, "evt_nul_paid")).encode()
    answer = post(body, sign(body))
    assert answer.status_code == 200 and answer.json()["detail"] == "processed: paid"
    row = WebhookEvent.objects.get(stripe_event_id="evt_nul_paid")
    assert row.payload is None and bytes(row.body) == body
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID


@pytest.mark.parametrize("offset", [600, -600, 301, -301])
def test_timestamps_outside_the_tolerance_either_way_get_400_and_are_recorded(
    stripe_stub: StripeStub, offset: int
) -> None:
    body = json.dumps(event("customer.created", {"id": "cus_1"}, "evt_time")).encode()
    answer = post(body, sign(body, timestamp=int(time.time()) + offset))
    assert answer.status_code == 400 and answer.json()["detail"] == "bad signature"
    row = newest()
    assert row.outcome == WebhookOutcome.BAD_SIGNATURE and "tolerance" in row.detail
    assert row.stripe_event_id is None and row.body is None  # a replay: its hash only
    within = post(body, sign(body, timestamp=int(time.time()) + 30))  # a clock a little ahead
    assert within.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=abc,v1=00",
        "v1=" + "0" * 64,
        "t=" + "9" * 40 + ",v1=" + "0" * 64,
        "t=1,t=2,v1=" + "0" * 64,
        "t=\x00,v1=\ud800",
        ",,,=,==",
    ],
)
def test_signature_headers_that_do_not_parse_get_400(stripe_stub: StripeStub, header: str) -> None:
    body = json.dumps(event("customer.created", {"id": "cus_1"})).encode()
    assert receive_webhook(payload=body, signature=header).status == 400
    assert newest().outcome == WebhookOutcome.BAD_SIGNATURE


def test_stripe_unreachable_keeps_the_event_and_asks_for_a_redelivery(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, settings: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    body, header = stripe_stub.webhook("payment_intent.succeeded", intent, event_id="evt_later")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    answer = post(body, header)
    assert answer.status_code == 503 and answer.json()["detail"] == "failed, will be retried"
    assert WebhookEvent.objects.get(stripe_event_id="evt_later").outcome == WebhookOutcome.FAILED
    settings.STRIPE_API_BASE = stripe_stub.url
    again = post(body, sign(body))
    assert again.status_code == 200 and again.json()["detail"] == "processed: paid"


def test_events_out_of_order_change_nothing_twice(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("payment_intent.succeeded", intent).detail == "processed: paid"
    # An expiry that claims the paid session expired, a second success, a late failure: Stripe says
    # otherwise when asked, so nothing changes
    assert deliver("checkout.session.expired", {**session, "status": "expired"}).detail == (
        "ignored: the session is complete"
    )
    assert deliver("payment_intent.succeeded", intent).detail == "ignored: already settled"
    assert deliver("checkout.session.completed", session).detail == "ignored: already settled"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID
    assert (
        LedgerTransaction.objects.count() == 2
        and not stripe_stub.get("/v1/charges", first.charge_id)["refunded"]
    )
