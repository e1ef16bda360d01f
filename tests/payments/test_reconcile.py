"""Reconciliation of the ledger against Stripe's objects, and the command that runs it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from offers.models import Agreement
from payments.models import ConnectedAccount, Instalment, LedgerEntry
from payments.services.checkout import instalment_pay
from payments.services.fees import platform_fee_set
from payments.services.reconcile import reconcile
from payments.services.refunds import instalment_refund
from payments.services.webhooks import receive_webhook
from tests.conftest import World
from tests.payments.stripe_stub import StripeStub

pytestmark = pytest.mark.django_db
URLS = {"success_url": "https://films.example/paid", "cancel_url": "https://films.example/cancelled"}


@pytest.fixture
def paid(
    world: World, stripe_stub: StripeStub, agreement: Agreement, connected: ConnectedAccount
) -> Instalment:
    platform_fee_set(user=world.admin, fee_bp=300)
    first = Instalment.objects.get(schedule__agreement=agreement, number=1)
    instalment_pay(user=world.pro, instalment=first, **URLS)
    first.refresh_from_db()
    stripe_stub.pay(first.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id)
    payload, signature = stripe_stub.webhook("checkout.session.completed", session)
    receive_webhook(payload=payload, signature=signature)
    first.refresh_from_db()
    assert first.status == "paid"
    return first


def test_a_ledger_that_matches_stripe_reconciles(
    world: World, stripe_stub: StripeStub, paid: Instalment
) -> None:
    report = reconcile()
    assert report.ok, report.problems
    assert report.checked >= 7
    instalment_refund(user=world.admin, instalment=paid, reason="Paid twice by mistake")
    dispute = stripe_stub.open_dispute(paid.charge_id, status="lost")
    payload, signature = stripe_stub.webhook("charge.dispute.closed", dispute)
    receive_webhook(payload=payload, signature=signature)
    report = reconcile()
    assert report.ok, report.problems
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "0 mismatches" in out.getvalue()
    assert f"DISPUTE {dispute['id']} lost 2250000 EUR on {paid.charge_id} (recorded)" in out.getvalue()


def test_a_transfer_made_outside_the_ledger_is_found(stripe_stub: StripeStub, paid: Instalment) -> None:
    transfer = stripe_stub.get("/v1/transfers", paid.transfer_id)
    stripe_stub.objects["/v1/transfers/tr_rogue"] = {**transfer, "id": "tr_rogue", "amount": 500}
    report = reconcile()
    assert len(report.problems) == 1 and "tr_rogue" in report.problems[0]


def test_amounts_that_differ_from_stripe_are_named(stripe_stub: StripeStub, paid: Instalment) -> None:
    stripe_stub.get("/v1/charges", paid.charge_id)["amount_refunded"] = 1000  # refunded in the Dashboard
    stripe_stub.get("/v1/transfers", paid.transfer_id)["amount"] = 1  # changed behind our back
    report = reconcile()
    assert len(report.problems) == 2
    assert "the amount refunded is 1000 at Stripe, 0 here" in report.problems[0]
    assert "the amount transferred is 1 at Stripe" in report.problems[1]
    with pytest.raises(CommandError, match="2 mismatches"):
        call_command("reconcile_payments", stdout=StringIO())


def test_an_unbalanced_ledger_is_reported(paid: Instalment) -> None:
    entry = LedgerEntry.objects.filter(amount_minor__gt=0).first()
    assert entry is not None
    LedgerEntry.objects.filter(pk=entry.pk).update(amount_minor=entry.amount_minor + 1)
    report = reconcile()
    assert any("does not balance" in problem for problem in report.problems)


def test_without_keys_the_command_says_so(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("reconcile_payments", stdout=StringIO())
