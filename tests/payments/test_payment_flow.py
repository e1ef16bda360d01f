"""Instalments paid through Stripe Checkout, transferred to the producer company, and posted to the ledger,
against the local Stripe-shaped server: a full schedule, a failure and its retry, webhooks delivered twice,
late, replayed or forged, refunds and disputes, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import models
from django.test import Client

from audit.models import AuditEntry
from core.errors import Conflict, Forbidden, NotFound
from offers.models import Agreement
from payments import selectors
from payments.gateway import PaymentsNotConfigured, idempotency_key
from payments.models import (
    ConnectedAccount,
    InstalmentStatus,
    LedgerTransaction,
    WebhookEvent,
    WebhookOutcome,
)
from payments.selectors import payable_instalment
from payments.services.checkout import instalment_pay
from payments.services.fees import platform_fee_set
from payments.services.refunds import instalment_refund
from payments.services.schedules import instalment_confirm_delivery
from payments.services.webhooks import Reply, receive_webhook
from tests.conftest import World, audit_actions, make_user
from tests.payments.helpers import URLS, assert_balanced, instalments, pay
from tests.payments.stripe_stub import StripeStub

pytestmark = pytest.mark.django_db


def test_a_completion_fund_is_paid_in_two_instalments_less_the_platform_fee(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    platform_fee_set(user=world.admin, fee_bp=250)  # 2.5 %
    first, second = instalments(agreement)
    assert (first.amount_minor, first.currency, first.status) == (2_250_000, "EUR", InstalmentStatus.DUE)
    assert (second.amount_minor, second.status, second.trigger) == (750_000, "scheduled", "on_delivery")
    assert (
        first.payer_organisation == world.distributor_org and first.payee_organisation == world.producer_org
    )

    url = instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    assert url == f"{stripe_stub.url}/pay/{first.checkout_session_id}"
    assert (first.status, first.attempts, first.fee_minor) == (InstalmentStatus.PROCESSING, 1, 56_250)
    checkout = stripe_stub.requests[-1]
    assert checkout.path == "/v1/checkout/sessions"
    assert checkout.headers["idempotency-key"] == idempotency_key("instalment.checkout", first.pk, 1)
    assert checkout.form["line_items[0][price_data][unit_amount]"] == "2250000"
    assert checkout.form["line_items[0][price_data][currency]"] == "eur"
    transfer_group = f"agreement-{agreement.public_id}"
    assert checkout.form["payment_intent_data[transfer_group]"] == transfer_group
    assert checkout.form["payment_intent_data[metadata][instalment_id]"] == str(first.pk)

    stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("checkout.session.completed", session).detail == "processed: paid"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.paid_at is not None
    transfer = next(r for r in stripe_stub.requests if r.path == "/v1/transfers")
    assert transfer.form["amount"] == str(2_250_000 - 56_250)
    assert transfer.form["destination"] == connected.stripe_account_id
    assert transfer.form["transfer_group"] == transfer_group
    assert transfer.form["source_transaction"] == first.charge_id
    assert transfer.headers["idempotency-key"] == idempotency_key(
        "instalment.transfer", first.pk, first.payment_intent_id
    )
    assert_balanced()
    assert selectors.balances() == {
        "stripe_balance": {"EUR": 56_250},
        "platform_fees": {"EUR": -56_250},
        f"due_to:{world.producer_org.pk}": {"EUR": 0},
    }
    receipt = mail.outbox[-1]
    assert receipt.to == [world.pro.email] and "22,500.00" in receipt.body

    # The second tranche waits for the delivery, which the fund (the payer) confirms
    with pytest.raises(Conflict) as not_due:
        instalment_pay(user=world.pro, instalment=second, **URLS)
    assert not_due.value.code == "not_due"
    with pytest.raises(Forbidden):
        instalment_confirm_delivery(user=world.producer, instalment=second)
    second = instalment_confirm_delivery(user=world.pro, instalment=second)
    assert second.status == InstalmentStatus.DUE and second.delivered_by == world.pro
    second = pay(world, stripe_stub, second, deliver)
    assert second.status == InstalmentStatus.PAID
    assert_balanced()
    assert selectors.balances()["stripe_balance"] == {"EUR": 56_250 + 18_750}
    assert len([r for r in stripe_stub.requests if r.path == "/v1/transfers"]) == 2
    trail = audit_actions()
    for action in (
        "schedule.created",
        "checkout.started",
        "instalment.paid",
        "instalment.delivery_confirmed",
        "platform_fee.set",
    ):
        assert action in trail


def test_a_declined_card_is_shown_with_stripes_reason_and_can_be_retried(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    old_session = first.checkout_session_id
    intent = stripe_stub.decline(old_session, "Your card has insufficient funds.")
    assert deliver("payment_intent.payment_failed", intent).detail == "processed: failed"
    first.refresh_from_db()
    assert (first.status, first.failure_reason) == (
        InstalmentStatus.FAILED,
        "Your card has insufficient funds.",
    )
    assert LedgerTransaction.objects.count() == 0

    instalment_pay(user=world.pro, instalment=first, **URLS)  # the retry: a new attempt, a new key
    first.refresh_from_db()
    assert (first.status, first.attempts, first.failure_reason) == (InstalmentStatus.PROCESSING, 2, "")
    assert first.checkout_session_id != old_session
    keys = [r.headers["idempotency-key"] for r in stripe_stub.requests if r.path == "/v1/checkout/sessions"]
    assert keys == [idempotency_key("instalment.checkout", first.pk, n) for n in (1, 2)]
    stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("checkout.session.completed", session).detail == "processed: paid"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID
    assert_balanced()


def test_paying_again_while_a_checkout_is_open_expires_it_first(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    abandoned = first.checkout_session_id
    instalment_pay(user=world.pro, instalment=first, **URLS)
    assert stripe_stub.get("/v1/checkout/sessions", abandoned)["status"] == "expired"
    # The abandoned session's expiry arrives late: it is not the pending attempt, nothing changes
    reply = deliver("checkout.session.expired", stripe_stub.get("/v1/checkout/sessions", abandoned))
    assert reply.detail == "ignored: not the pending attempt"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PROCESSING


def test_an_abandoned_checkout_puts_the_instalment_back_to_due(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    session["status"] = "expired"
    assert deliver("checkout.session.expired", session).detail == "processed: due again"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE


def test_a_session_paid_while_the_payer_retries_is_settled_not_paid_twice(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    stripe_stub.pay(first.checkout_session_id)  # paid on Stripe; the webhook has not arrived yet
    with pytest.raises(Conflict) as pending:
        instalment_pay(user=world.pro, instalment=first, **URLS)
    assert pending.value.code == "payment_pending"
    first.refresh_from_db()
    assert first.attempts == 1


def test_duplicated_late_and_replayed_webhooks_change_nothing_twice(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    assert deliver("payment_intent.succeeded", intent, event_id="evt_paid").detail == "processed: paid"
    # Stripe resends the same event, then the session's completion, then a stale failure
    assert deliver("payment_intent.succeeded", intent, event_id="evt_paid").detail == "duplicate: processed"
    assert deliver("checkout.session.completed", session).detail == "ignored: already settled"
    stale_failure = {**intent, "status": "requires_payment_method", "last_payment_error": {"message": "late"}}
    assert deliver("payment_intent.payment_failed", stale_failure).detail == "ignored: already settled"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID and first.failure_reason == ""
    assert len([r for r in stripe_stub.requests if r.path == "/v1/transfers"]) == 1
    assert LedgerTransaction.objects.count() == 2  # the charge and the transfer (a zero fee posts nothing)
    assert_balanced()
    assert WebhookEvent.objects.get(stripe_event_id="evt_paid").deliveries == 2
    assert audit_actions().count("instalment.paid") == 1


def test_an_event_whose_snapshot_lies_is_judged_on_the_object_re_read_from_stripe(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.decline(first.checkout_session_id)
    forged_success = {**intent, "status": "succeeded", "amount_received": intent["amount"]}
    assert (
        deliver("payment_intent.succeeded", forged_success).detail
        == "ignored: the payment is requires_payment_method"
    )
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PROCESSING and LedgerTransaction.objects.count() == 0


def test_a_bad_signature_gets_400_is_recorded_and_changes_nothing(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    forged = stripe_stub.webhook("payment_intent.succeeded", intent, secret="whsec_someone_else")
    tampered_body, signature = stripe_stub.webhook("payment_intent.succeeded", intent)
    stale = stripe_stub.webhook("payment_intent.succeeded", intent, timestamp=1_700_000_000)  # replayed
    for payload, header in (
        forged,
        (tampered_body.replace(b"succeeded", b"succeeded "), signature),
        stale,
        (tampered_body, None),
    ):
        assert receive_webhook(payload=payload, signature=header) == Reply(400, "bad signature")
    assert WebhookEvent.objects.filter(outcome=WebhookOutcome.BAD_SIGNATURE).count() == 4
    assert WebhookEvent.objects.exclude(outcome=WebhookOutcome.BAD_SIGNATURE).count() == 0
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PROCESSING and LedgerTransaction.objects.count() == 0


def test_events_about_unknown_objects_are_recorded_and_ignored(
    world: World, stripe_stub: StripeStub, deliver: Any
) -> None:
    foreign = {"id": "pi_not_ours", "object": "payment_intent", "metadata": {}}
    stripe_stub.objects["/v1/payment_intents/pi_not_ours"] = {
        **foreign,
        "status": "succeeded",
        "amount_received": 100,
        "currency": "eur",
        "latest_charge": None,
    }
    assert deliver("payment_intent.succeeded", foreign).detail == "ignored: not one of our payments"
    assert deliver("customer.created", {"id": "cus_1", "object": "customer"}).detail == "ignored: not handled"
    missing = {"id": "pi_gone", "object": "payment_intent"}
    assert deliver("payment_intent.succeeded", missing) == Reply(200, "ignored: Stripe does not know pi_gone")
    outcomes = dict(WebhookEvent.objects.values_list("object_id", "outcome"))
    assert outcomes == {"pi_not_ours": "ignored", "cus_1": "ignored", "pi_gone": "ignored"}


def test_an_admin_refunds_a_paid_instalment_reversing_the_transfer(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    platform_fee_set(user=world.admin, fee_bp=100)
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    with pytest.raises(Forbidden):
        instalment_refund(user=world.producer, instalment=first, reason="no")
    stripe_stub.refuse_reversals = "Insufficient funds in the connected account."
    with pytest.raises(Conflict) as refused:
        instalment_refund(user=world.admin, instalment=first, reason="Duplicate payment")
    assert "Insufficient funds" in refused.value.message
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID
    stripe_stub.refuse_reversals = None

    refunded = instalment_refund(user=world.admin, instalment=first, reason="Duplicate payment")
    assert refunded.status == InstalmentStatus.REFUNDED and refunded.refund_id
    reversal = next(r for r in stripe_stub.requests if r.path.endswith("/reversals") and r.method == "POST")
    assert reversal.form["amount"] == str(2_250_000 - 22_500)
    refund = next(r for r in stripe_stub.requests if r.path == "/v1/refunds")
    assert refund.form["payment_intent"] == first.payment_intent_id
    assert stripe_stub.get("/v1/charges", first.charge_id)["refunded"] is True
    assert_balanced()
    assert all(amount == 0 for balance in selectors.balances().values() for amount in balance.values())
    with pytest.raises(Conflict):
        instalment_refund(user=world.admin, instalment=refunded, reason="again")
    assert "instalment.refunded" in audit_actions()


def test_a_dispute_flags_the_agreement_and_moves_the_ledger(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    mail.outbox.clear()
    dispute = stripe_stub.open_dispute(first.charge_id)
    assert deliver("charge.dispute.created", dispute).detail == "processed: dispute needs_response"
    assert deliver("charge.dispute.funds_withdrawn", dispute).detail == "ignored: nothing new"
    agreement.payment_schedule.refresh_from_db()
    assert agreement.payment_schedule.disputed
    assert selectors.balances()["disputed_funds"] == {"EUR": 2_250_000}
    assert [m.to for m in mail.outbox] == [[world.admin.email]]
    assert_balanced()

    dispute["status"] = "lost"
    assert deliver("charge.dispute.closed", dispute).detail == "processed: dispute lost"
    agreement.payment_schedule.refresh_from_db()
    assert not agreement.payment_schedule.disputed
    assert selectors.balances()["dispute_losses"] == {"EUR": 2_250_000}
    assert selectors.balances()["disputed_funds"] == {"EUR": 0}
    assert_balanced()
    assert audit_actions().count("dispute.opened") == 1


def test_a_won_dispute_reinstates_the_funds(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    first = pay(world, stripe_stub, instalments(agreement)[0], deliver)
    dispute = stripe_stub.open_dispute(first.charge_id, status="won")
    deliver("charge.dispute.closed", dispute)
    assert selectors.balances()["disputed_funds"] == {"EUR": 0}
    assert "dispute_losses" not in selectors.balances()
    assert_balanced()


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("producer", Forbidden, "not_payer"),  # the payee does not pay itself
        ("no_mfa", Forbidden, None),  # not a ready account
    ],
)
def test_refusals_of_the_wrong_people(
    world: World,
    stripe_stub: StripeStub,
    agreement: Agreement,
    connected: ConnectedAccount,
    who: str,
    error: type[Exception],
    code: str | None,
) -> None:
    first = instalments(agreement)[0]
    calls = len(stripe_stub.requests)
    with pytest.raises(error) as refused:
        instalment_pay(user=getattr(world, who), instalment=first, **URLS)
    if code:
        assert refused.value.code == code  # type: ignore[attr-defined]
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE and len(stripe_stub.requests) == calls


def test_a_non_party_does_not_see_the_instalment(world: World, agreement: Agreement) -> None:
    outsider = make_user("outsider@elsewhere.example")
    with pytest.raises(NotFound):
        payable_instalment(outsider, instalments(agreement)[0].pk)
    assert payable_instalment(world.pro, instalments(agreement)[0].pk).number == 1


def test_paying_what_is_paid_or_a_company_not_connected_is_refused(
    world: World, stripe_stub: StripeStub, agreement: Agreement, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    with pytest.raises(Conflict) as not_connected:
        instalment_pay(user=world.pro, instalment=first, **URLS)
    assert not_connected.value.code == "payee_not_connected"
    assert stripe_stub.requests == []
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE
    account = ConnectedAccount.objects.create(
        organisation=world.producer_org,
        stripe_account_id="acct_x",
        charges_enabled=True,
        payouts_enabled=True,
    )
    stripe_stub.objects["/v1/accounts/acct_x"] = {"id": "acct_x", "object": "account"}
    paid = pay(world, stripe_stub, first, deliver)
    with pytest.raises(Conflict) as already:
        instalment_pay(user=world.pro, instalment=paid, **URLS)
    assert already.value.code == "already_paid" and account.pk


def test_without_keys_paying_says_payments_are_not_configured(
    world: World, agreement: Agreement, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    first = instalments(agreement)[0]
    ConnectedAccount.objects.create(
        organisation=world.producer_org,
        stripe_account_id="acct_y",
        charges_enabled=True,
        payouts_enabled=True,
    )
    with pytest.raises(PaymentsNotConfigured):
        instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE


def test_stripe_reaches_the_webhook_endpoint_without_a_session_or_csrf_token(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> None:
    first = instalments(agreement)[0]
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    intent = stripe_stub.pay(first.checkout_session_id)
    payload, signature = stripe_stub.webhook("payment_intent.succeeded", intent)
    stripe = Client(enforce_csrf_checks=True)
    answer = stripe.post(
        "/payments/stripe/webhook/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert answer.status_code == 200 and answer.json()["detail"] == "processed: paid"
    again = stripe.post(
        "/payments/stripe/webhook/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert again.status_code == 200 and again.json()["detail"] == "duplicate: processed"
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID


def test_each_entry_names_who_acted_and_for_which_organisation(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount, deliver: Any
) -> None:
    """A member acts for their company (the payer pays and confirms, the producer connects theirs); an
    admin acts for the festival, no company; the system's moves name the company the money is for."""
    platform_fee_set(user=world.admin, fee_bp=250)
    first, second = instalments(agreement)
    first = pay(world, stripe_stub, first, deliver)
    instalment_confirm_delivery(user=world.pro, instalment=second)
    instalment_refund(user=world.admin, instalment=first, reason="Paid by mistake")
    named = set(
        AuditEntry.objects.exclude(action__in=["agreement.recorded", "offer.accepted"])
        .filter(seq__gt=0)
        .values_list("action", "actor_id", "organisation_id")
    )
    producer, payer = world.producer_org.pk, world.distributor_org.pk
    assert {
        ("connect_account.created", world.producer.pk, producer),
        ("connect_account.onboarding_link_issued", world.producer.pk, producer),
        ("connect_account.updated", None, producer),
        ("platform_fee.set", world.admin.pk, None),
        ("checkout.started", world.pro.pk, payer),
        ("instalment.paid", None, producer),
        ("instalment.delivery_confirmed", world.pro.pk, payer),
        ("transfer.reversed", world.admin.pk, None),
        ("instalment.refunded", world.admin.pk, None),
    } <= named
    payments_entries = AuditEntry.objects.filter(target_type__startswith="payments.")
    assert (
        not payments_entries.filter(actor__isnull=False, organisation__isnull=False)
        .exclude(organisation__memberships__user=models.F("actor"))
        .exists()
    )  # whenever an entry names a person and a company, the person is a member of it
