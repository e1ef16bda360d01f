"""Disputes and refunds against the order in which Stripe's news really arrives: a dispute before its
payment's events, several disputes on one agreement, inquiries that move no money, refunds Stripe would
refuse, and a refund that fails after its transfer was reversed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from core.errors import Conflict
from offers.models import Agreement
from payments import selectors
from payments.models import (
    ConnectedAccount,
    Dispute,
    Instalment,
    InstalmentStatus,
    LedgerKind,
    LedgerTransaction,
)
from payments.services.checkout import instalment_pay
from payments.services.reconcile import reconcile
from payments.services.refunds import instalment_refund
from payments.services.schedules import instalment_confirm_delivery
from tests.conftest import World, audit_actions
from tests.payments.helpers import URLS, assert_balanced, instalments, pay
from tests.payments.stripe_stub import StripeStub, published

pytestmark = pytest.mark.django_db


def snapshot(dispute: dict[str, Any]) -> dict[str, Any]:
    """What Stripe sends about a dispute: its published example object, with this dispute's values."""
    return {**published("dispute"), **dispute}


def disputed(agreement: Agreement) -> bool:
    agreement.payment_schedule.refresh_from_db()
    return agreement.payment_schedule.disputed


def posted(kind: LedgerKind) -> int:
    return LedgerTransaction.objects.filter(kind=kind).count()


def test_a_dispute_that_arrives_before_its_payments_events_is_resolved_from_stripe(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)  # paid at Stripe; no event has arrived yet
    dispute = stripe_stub.open_dispute(intent["latest_charge"])
    assert deliver("charge.dispute.created", snapshot(dispute)).detail == "processed: dispute needs_response"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.charge_id == intent["latest_charge"]
    assert disputed(agreement) and selectors.balances()["disputed_funds"] == {"EUR": 2_250_000}
    assert Dispute.objects.get().instalment_id == first.pk
    assert deliver("payment_intent.succeeded", intent).detail == "ignored: already settled"
    assert_balanced()


def test_a_dispute_whose_charge_cannot_be_read_yet_waits_and_is_resolved_later(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    charge_path = f"/v1/charges/{intent['latest_charge']}"
    dispute = stripe_stub.open_dispute(intent["latest_charge"])
    charge = stripe_stub.objects.pop(charge_path)  # not readable yet
    reply = deliver("charge.dispute.created", snapshot(dispute))
    assert reply.detail == "processed: dispute recorded, its charge is not known yet"
    pending = Dispute.objects.get()
    assert pending.instalment_id is None and pending.charge_id == charge["id"]
    assert "dispute.pending" in audit_actions()
    stripe_stub.objects[charge_path] = charge
    # The payment's own event arrives: the waiting dispute is resolved with it
    assert deliver("payment_intent.succeeded", intent).detail == "processed: paid"
    pending.refresh_from_db()
    assert pending.instalment_id == first.pk and disputed(agreement)
    assert posted(LedgerKind.DISPUTE) == 1
    assert_balanced()
    assert reconcile().ok


def test_reconciliation_resolves_a_waiting_dispute_and_lists_stripes_disputes(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)  # its events never arrive
    charge_path = f"/v1/charges/{intent['latest_charge']}"
    waiting = stripe_stub.open_dispute(intent["latest_charge"])
    charge = stripe_stub.objects.pop(charge_path)
    deliver("charge.dispute.created", snapshot(waiting))
    assert Dispute.objects.get().instalment_id is None  # the charge could not be read
    stripe_stub.objects[charge_path] = charge
    report = reconcile()  # re-reads the waiting dispute, its charge and payment: all resolved
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.charge_id == charge["id"]
    assert Dispute.objects.get().instalment_id == first.pk and disputed(agreement)
    assert report.ok, report.problems
    assert [d["id"] for d in report.disputes] == [waiting["id"]]
    assert_balanced()

    unheard = stripe_stub.close_dispute(waiting["id"], "won")  # Stripe says so; no event arrived
    report = reconcile()
    assert not report.ok and any(unheard["id"] in p for p in report.problems), report.problems


def test_a_dispute_nobody_told_us_about_is_found_by_reconciliation(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    silent = stripe_stub.open_dispute(first.charge_id)
    report = reconcile()
    assert any(silent["id"] in p for p in report.problems), report.problems
    assert [d["id"] for d in report.disputes] == [silent["id"]]


def test_the_agreement_stays_disputed_while_any_of_its_disputes_is_open(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first, second = instalments(agreement)
    first = pay(world, stripe_stub, first, deliver)
    instalment_confirm_delivery(user=world.pro, instalment=second)
    second = pay(world, stripe_stub, second, deliver)
    one = stripe_stub.open_dispute(first.charge_id)
    other = stripe_stub.open_dispute(second.charge_id)
    deliver("charge.dispute.created", snapshot(one))
    deliver("charge.dispute.created", snapshot(other))
    assert disputed(agreement)
    assert deliver("charge.dispute.closed", stripe_stub.close_dispute(one["id"], "won")).detail == (
        "processed: dispute won"
    )
    assert disputed(agreement)  # the other one is still open
    deliver("charge.dispute.closed", stripe_stub.close_dispute(other["id"], "lost"))
    assert not disputed(agreement)
    assert selectors.balances()["disputed_funds"] == {"EUR": 0}
    assert selectors.balances()["dispute_losses"] == {"EUR": 750_000}
    assert_balanced()
    assert reconcile().ok


def test_inquiries_move_no_money_and_clear_the_flag_when_closed(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    mail.outbox.clear()
    inquiry = stripe_stub.open_dispute(first.charge_id, status="warning_needs_response")
    assert snapshot(inquiry)["status"] == published("dispute")["status"] == "warning_needs_response"
    reply = deliver("charge.dispute.created", snapshot(inquiry))
    assert reply.detail == "processed: dispute warning_needs_response"
    assert disputed(agreement) and [m.to for m in mail.outbox] == [[world.admin.email]]
    assert posted(LedgerKind.DISPUTE) == 0 and "disputed_funds" not in selectors.balances()
    deliver("charge.dispute.updated", stripe_stub.close_dispute(inquiry["id"], "warning_closed"))
    assert not disputed(agreement)
    assert (
        posted(LedgerKind.DISPUTE) == posted(LedgerKind.DISPUTE_WON) == posted(LedgerKind.DISPUTE_LOST) == 0
    )
    assert_balanced()
    assert reconcile().ok
    # An inquiry leaves the charge refundable
    assert instalment_refund(user=world.admin, instalment=first, reason="Settled with the bank").status == (
        InstalmentStatus.REFUNDED
    )


def test_an_inquiry_that_becomes_a_chargeback_posts_the_withdrawal_then(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    inquiry = stripe_stub.open_dispute(first.charge_id, status="warning_needs_response")
    deliver("charge.dispute.created", snapshot(inquiry))
    assert posted(LedgerKind.DISPUTE) == 0
    deliver("charge.dispute.funds_withdrawn", stripe_stub.close_dispute(inquiry["id"], "needs_response"))
    assert posted(LedgerKind.DISPUTE) == 1 and disputed(agreement)
    assert selectors.balances()["disputed_funds"] == {"EUR": 2_250_000}
    assert_balanced()


def test_a_charged_back_instalment_is_refused_before_any_money_moves(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    stripe_stub.open_dispute(first.charge_id)  # Stripe knows; its event has not arrived yet
    calls = len(stripe_stub.requests)
    with pytest.raises(Conflict) as refused:
        instalment_refund(user=world.admin, instalment=first, reason="Asked by the fund")
    assert refused.value.code == "charged_back"
    assert not [r for r in stripe_stub.requests[calls:] if r.method == "POST"]  # nothing moved
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and not first.transfer_reversal_id


def test_a_refund_that_fails_after_the_reversal_records_the_reversal_and_can_be_finished(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    stripe_stub.refuse_refunds = "The bank refused the refund."
    with pytest.raises(Conflict) as refused:
        instalment_refund(user=world.admin, instalment=first, reason="Asked by the fund")
    assert refused.value.code == "stripe_refused" and "bank refused" in refused.value.message
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.transfer_reversal_id
    assert posted(LedgerKind.TRANSFER_REVERSAL) == 1 and posted(LedgerKind.REFUND) == 0
    assert {"transfer.reversed", "refund.failed"} <= set(audit_actions())
    assert_balanced()
    assert reconcile().ok  # Stripe's reversed amount is the ledger's

    stripe_stub.refuse_refunds = None
    refunded = instalment_refund(user=world.admin, instalment=first, reason="Asked by the fund")
    assert refunded.status == InstalmentStatus.REFUNDED
    assert len([r for r in stripe_stub.requests if r.path.endswith("/reversals")]) == 1  # not reversed twice
    assert_balanced()
    assert all(amount == 0 for balance in selectors.balances().values() for amount in balance.values())
    assert reconcile().ok
    assert Instalment.objects.get(pk=first.pk).refund_id
