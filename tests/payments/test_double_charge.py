"""One instalment is never paid twice: opening a Checkout expires every open session of the instalment,
money that arrives all the same for an instalment that is not waiting for it is refunded and posted (or,
when Stripe refuses the refund, held for an admin), and reconciliation finds every charge Stripe has in a
deal's transfer group, whether the ledger knows it or not."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from core.errors import Conflict, Forbidden
from offers.models import Agreement
from payments import selectors
from payments.gateway import idempotency_key
from payments.models import (
    CheckoutSession,
    ConnectedAccount,
    InstalmentStatus,
    LedgerKind,
    LedgerTransaction,
    StrayPayment,
    StrayStatus,
)
from payments.services.checkout import instalment_pay, stray_payment_refund
from payments.services.reconcile import reconcile
from tests.conftest import World, audit_actions
from tests.payments.helpers import URLS, assert_balanced, instalments
from tests.payments.stripe_stub import SessionClosed, StripeStub

pytestmark = pytest.mark.django_db


def test_retrying_after_a_decline_expires_every_earlier_checkout_of_the_instalment(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    opened = []
    for _attempt in range(3):
        instalment_pay(user=world.pro, instalment=first, **URLS)
        first.refresh_from_db()
        opened.append(first.checkout_session_id)
        intent = stripe_stub.decline(first.checkout_session_id)
        assert deliver("payment_intent.payment_failed", intent).detail == "processed: failed"
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    statuses = [stripe_stub.get("/v1/checkout/sessions", sid)["status"] for sid in opened]
    assert statuses == ["expired", "expired", "expired"]
    expiries = [r for r in stripe_stub.requests if r.path.endswith("/expire")]
    assert [r.headers["idempotency-key"] for r in expiries] == [
        idempotency_key("checkout.expire", sid) for sid in opened
    ]  # each once: an expired session is not asked again
    for sid in opened:
        with pytest.raises(SessionClosed):
            stripe_stub.pay(sid)
    assert list(
        CheckoutSession.objects.filter(closed_at__isnull=True).values_list("stripe_id", flat=True)
    ) == [first.checkout_session_id]
    stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("checkout.session.completed", session).detail == "processed: paid"
    assert audit_actions().count("checkout.started") == 4


def _paid_twice(world: World, stripe_stub: StripeStub, agreement: Agreement, deliver: Any) -> tuple[Any, ...]:
    """The instalment is paid on its session, and then again on a second session that escaped expiry."""
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    escaped = stripe_stub.second_session(first.checkout_session_id)
    stripe_stub.pay(first.checkout_session_id)
    paid_session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("checkout.session.completed", paid_session).detail == "processed: paid"
    second_intent = stripe_stub.pay(escaped["id"])
    return first, escaped, second_intent


def test_money_for_an_instalment_already_paid_is_refunded_and_posted(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first, escaped, second_intent = _paid_twice(world, stripe_stub, agreement, deliver)
    reply = deliver("checkout.session.completed", stripe_stub.get("/v1/checkout/sessions", escaped["id"]))
    assert reply.detail == "processed: paid twice, refunded"
    refund = next(r for r in stripe_stub.requests if r.path == "/v1/refunds")
    assert refund.form["payment_intent"] == second_intent["id"] and refund.form["reason"] == "duplicate"
    assert refund.headers["idempotency-key"] == idempotency_key("stray.refund", second_intent["id"])
    stray = StrayPayment.objects.get()
    assert (stray.status, stray.amount_minor, stray.charge_id, stray.instalment_id) == (
        StrayStatus.REFUNDED,
        2_250_000,
        second_intent["latest_charge"],
        first.pk,
    )
    kinds = set(
        LedgerTransaction.objects.filter(stripe_object_id__in=[stray.charge_id, stray.refund_id]).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {LedgerKind.STRAY_CHARGE, LedgerKind.STRAY_REFUND}
    assert selectors.balances()[f"owed_to:{world.distributor_org.pk}"] == {"EUR": 0}
    assert_balanced()
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.payment_intent_id != second_intent["id"]
    assert "stray_payment.refunded" in audit_actions()
    # The same money announced again by the PaymentIntent: nothing twice
    assert deliver("payment_intent.succeeded", second_intent).detail == "ignored: already refunded"
    assert len([r for r in stripe_stub.requests if r.path == "/v1/refunds"]) == 1
    report = reconcile()
    assert report.ok, report.problems


def test_a_second_payment_stripe_will_not_refund_is_held_for_an_admin(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    _first, escaped, _intent = _paid_twice(world, stripe_stub, agreement, deliver)
    stripe_stub.refuse_refunds = "Refunds are not possible on this payment method."
    reply = deliver("checkout.session.completed", stripe_stub.get("/v1/checkout/sessions", escaped["id"]))
    assert reply.detail == "processed: paid twice, held for an admin"
    stray = StrayPayment.objects.get()
    assert stray.status == StrayStatus.HELD and "not possible" in stray.detail
    assert selectors.balances()[f"owed_to:{world.distributor_org.pk}"] == {"EUR": -2_250_000}
    assert_balanced()
    report = reconcile()
    assert [p for p in report.problems if stray.charge_id in p and "held" in p]
    admin = Client()
    admin.force_login(world.admin)
    assert stray.charge_id in admin.get("/staff/payments/").content.decode()

    with pytest.raises(Forbidden):
        stray_payment_refund(user=world.producer, stray=stray)
    stripe_stub.refuse_refunds = None
    answer = admin.post(f"/staff/payments/not-due/{stray.pk}/refund/")  # the desk's Refund button
    assert answer.status_code == 302 and answer["Location"] == "/staff/payments/"
    stray.refresh_from_db()
    assert stray.status == StrayStatus.REFUNDED and stray.refund_id
    with pytest.raises(Conflict):
        stray_payment_refund(user=world.admin, stray=stray)
    assert selectors.balances()[f"owed_to:{world.distributor_org.pk}"] == {"EUR": 0}
    assert_balanced()
    assert reconcile().ok
    assert "stray_payment.held" in audit_actions()


def test_reconciliation_finds_a_charge_of_the_deal_that_the_ledger_does_not_know(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    _first, _escaped, second_intent = _paid_twice(world, stripe_stub, agreement, deliver)
    # Its webhook has not arrived (or was lost): the charge is only at Stripe
    report = reconcile()
    charge = second_intent["latest_charge"]
    assert len(report.problems) == 1 and charge in report.problems[0], report.problems


def test_declined_attempts_leave_failed_charges_that_reconciliation_does_not_count(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    deliver("payment_intent.payment_failed", stripe_stub.decline(first.checkout_session_id))
    report = reconcile()
    assert report.ok, report.problems
