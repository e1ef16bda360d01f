"""The payment pages: an agreement's schedule (pay, confirm a delivery, refund), receipts, Stripe Connect
for production companies, the admins' desk and Stripe's webhook endpoint, against the local
Stripe-shaped server. Parties and admins only (404 for everyone else), three languages, and every refusal
is a message on the page that changes nothing."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEntry
from core.money import format_money
from offers.models import Agreement
from payments.models import (
    ConnectedAccount,
    Instalment,
    InstalmentStatus,
    LedgerEntry,
    PaymentSchedule,
    PlatformFee,
    WebhookEvent,
    WebhookOutcome,
)
from payments.selectors import current_fee_bp
from payments.services.schedules import schedules_backfill
from payments.services.webhooks import Reply, receive_webhook
from tests.conftest import World, audit_actions, logged_in_client, make_user
from tests.offers.test_memo import make_agreement
from tests.payments.stripe_stub import StripeStub, sign

pytestmark = pytest.mark.django_db
LANGUAGES = ("es", "fr", "en")


def instalments(agreement: Agreement) -> list[Instalment]:
    return list(Instalment.objects.filter(schedule__agreement=agreement).order_by("number"))


def schedule_url(agreement: Agreement, query: str = "") -> str:
    return reverse("payments:schedule", args=[agreement.public_id]) + (f"?{query}" if query else "")


def page(client: Client, url: str, language: str = "en") -> tuple[int, str]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    return response.status_code, response.content.decode()


def in_language(text: str, language: str) -> str:
    """``text`` as the page shows it in ``language`` (English until the catalogue has it), HTML-escaped."""
    with translation.override(language):
        return html.escape(translation.gettext(text))


def shows(body: str, message: str) -> bool:
    return html.escape(message) in body


@pytest.fixture
def deliver(stripe_stub: StripeStub, django_capture_on_commit_callbacks: Any) -> Callable[..., Reply]:
    def send(event_type: str, obj: dict[str, Any]) -> Reply:
        payload, signature = stripe_stub.webhook(event_type, obj)
        with django_capture_on_commit_callbacks(execute=True):
            return receive_webhook(payload=payload, signature=signature)

    return send


@pytest.fixture
def paid(
    world: World, agreement: Agreement, connected: ConnectedAccount, stripe_stub: StripeStub, deliver: Any
) -> Instalment:
    """The first tranche, paid through the pages: Pay, Stripe's Checkout, Stripe's webhook."""
    first = instalments(agreement)[0]
    response = logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]))
    first.refresh_from_db()
    assert (
        response.status_code == 302
        and response["Location"] == f"{stripe_stub.url}/pay/{first.checkout_session_id}"
    )
    stripe_stub.pay(first.checkout_session_id)
    deliver("checkout.session.completed", stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id))
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PAID
    return first


# --- the schedule page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("who", ["pro", "producer", "admin"])
def test_the_schedule_shows_to_each_party_and_admins_in_their_language(
    world: World, agreement: Agreement, who: str, language: str
) -> None:
    status, body = page(logged_in_client(getattr(world, who)), schedule_url(agreement), language)
    assert status == 200
    assert f'<html lang="{language}">' in body
    assert in_language("Payment schedule", language) in body
    assert in_language("Sign out", language) in body  # the whole page speaks the reader's language
    first, second = instalments(agreement)
    assert f'data-instalment="{first.pk}" data-status="due"' in body
    assert f'data-instalment="{second.pk}" data-status="scheduled"' in body
    assert "delivery with proof of expenses" in body  # what the second tranche waits for
    assert f'data-socket="/ws/agreements/{agreement.public_id}/payments/"' in body


def test_the_schedule_lists_amounts_parties_and_progress(world: World, agreement: Agreement) -> None:
    _status, body = page(logged_in_client(world.pro), schedule_url(agreement))
    assert "Tranche 1" in body and "Tranche 2" in body
    assert "EUR 22,500.00" in body and "EUR 7,500.00" in body
    assert f"{world.distributor_org.name} → {world.producer_org.name}" in body
    assert "paid EUR 0.00 of EUR 30,000.00" in body
    assert "No money has moved yet." in body


@pytest.mark.parametrize("who", ["other_producer", "stranger"])
def test_outsiders_get_a_404_like_for_a_missing_agreement(
    world: World, agreement: Agreement, who: str
) -> None:
    user = make_user("stranger@elsewhere.example") if who == "stranger" else getattr(world, who)
    assert logged_in_client(user).get(schedule_url(agreement)).status_code == 404
    missing = reverse("payments:schedule", args=[uuid.uuid4()])
    assert logged_in_client(world.pro).get(missing).status_code == 404


def test_an_unready_account_is_told_what_is_missing(world: World, agreement: Agreement) -> None:
    assert logged_in_client(world.no_mfa).get(schedule_url(agreement)).status_code == 403
    assert Client().get(schedule_url(agreement)).status_code == 302  # to the sign-in page


def written_rows() -> tuple[int, int, int, int]:
    """What a page could write: audit entries, schedules, instalments, ledger entries."""
    return (
        AuditEntry.objects.count(),
        PaymentSchedule.objects.count(),
        Instalment.objects.count(),
        LedgerEntry.objects.count(),
    )


def test_reading_the_schedule_writes_nothing(world: World, agreement: Agreement) -> None:
    before = written_rows()
    for who in ("pro", "producer", "admin"):
        assert page(logged_in_client(getattr(world, who)), schedule_url(agreement))[0] == 200
    assert written_rows() == before


def test_an_agreement_recorded_without_a_schedule_gets_one_from_the_backfill_not_from_a_visit(
    world: World,
) -> None:
    agreement = make_agreement(world)  # written directly: no agreement_recorded signal, no schedule
    before = written_rows()
    assert logged_in_client(world.producer).get(schedule_url(agreement)).status_code == 404
    assert written_rows() == before  # the visit wrote nothing
    assert [s.agreement_id for s in schedules_backfill()] == [agreement.pk]
    status, body = page(logged_in_client(world.producer), schedule_url(agreement))
    assert status == 200
    assert len(instalments(agreement)) == 2 and "Tranche 2" in body


def test_only_the_paying_side_sees_the_pay_button(
    world: World, agreement: Agreement, stripe_stub: Any
) -> None:
    first = instalments(agreement)[0]
    pay_url = reverse("payments:pay", args=[first.pk])
    _status, payer = page(logged_in_client(world.pro), schedule_url(agreement))
    _status, payee = page(logged_in_client(world.producer), schedule_url(agreement))
    _status, admin = page(logged_in_client(world.admin), schedule_url(agreement))
    assert pay_url in payer and 'data-action="pay"' in payer
    assert pay_url not in payee and pay_url not in admin
    assert 'data-action="refund"' not in admin  # nothing is paid yet


def test_the_payee_side_is_refused_the_payment_and_nothing_changes(
    world: World, agreement: Agreement, connected: ConnectedAccount, stripe_stub: StripeStub
) -> None:
    first = instalments(agreement)[0]
    before = len(stripe_stub.requests)
    client = logged_in_client(world.producer)
    response = client.post(reverse("payments:pay", args=[first.pk]), follow=True)
    assert response.redirect_chain == [(schedule_url(agreement), 302)]
    assert shows(response.content.decode(), "Only the paying company pays this instalment.")
    first.refresh_from_db()
    assert (first.status, first.attempts, first.checkout_session_id) == (InstalmentStatus.DUE, 0, "")
    assert len(stripe_stub.requests) == before
    assert "checkout.started" not in audit_actions()


def test_a_client_that_asks_for_json_gets_the_refusals_status(
    world: World, agreement: Agreement, stripe_stub: StripeStub
) -> None:
    first = instalments(agreement)[0]
    response = logged_in_client(world.producer).post(
        reverse("payments:pay", args=[first.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "not_payer"


def test_a_company_not_yet_on_stripe_cannot_be_paid_and_the_payer_is_told(
    world: World, agreement: Agreement, stripe_stub: StripeStub
) -> None:
    first = instalments(agreement)[0]
    response = logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]), follow=True)
    assert shows(response.content.decode(), "has not finished connecting to Stripe")
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE


def test_pay_sends_the_payer_to_stripe_checkout_and_back(
    world: World, agreement: Agreement, connected: ConnectedAccount, stripe_stub: StripeStub
) -> None:
    first = instalments(agreement)[0]
    response = logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == InstalmentStatus.PROCESSING
    assert response.status_code == 302
    assert response["Location"] == f"{stripe_stub.url}/pay/{first.checkout_session_id}"
    checkout = next(r for r in stripe_stub.requests if r.path == "/v1/checkout/sessions")
    back = f"http://testserver{schedule_url(agreement)}"
    assert checkout.form["success_url"] == f"{back}?paid={first.pk}"
    assert checkout.form["cancel_url"] == f"{back}?cancelled={first.pk}"

    _status, confirming = page(logged_in_client(world.pro), schedule_url(agreement, f"paid={first.pk}"))
    assert shows(confirming, "Stripe is confirming your payment; this page updates by itself.")
    assert reverse("payments:pay", args=[first.pk]) not in confirming  # no second payment meanwhile
    _status, cancelled = page(logged_in_client(world.pro), schedule_url(agreement, f"cancelled={first.pk}"))
    assert shows(cancelled, "Payment cancelled: nothing was charged.")
    assert reverse("payments:pay", args=[first.pk]) in cancelled  # the payer may start again


def test_the_schedule_page_lets_its_forms_lead_to_stripe(world: World, agreement: Agreement) -> None:
    response = logged_in_client(world.pro).get(schedule_url(agreement))
    policy = response["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com https://connect.stripe.com" in policy
    assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy


def test_a_paid_instalment_shows_its_fee_net_receipt_and_ledger(
    world: World, agreement: Agreement, paid: Instalment
) -> None:
    _status, body = page(logged_in_client(world.producer), schedule_url(agreement, f"paid={paid.pk}"))
    assert f'data-instalment="{paid.pk}" data-status="paid"' in body
    assert reverse("payments:receipt", args=[paid.pk]) in body
    assert "Payment received, thank you." in body
    assert "paid EUR 22,500.00 of EUR 30,000.00" in body
    assert paid.charge_id in body  # the ledger's movements name Stripe's objects
    assert f"Held for {world.producer_org.name}" in body and "Stripe balance" in body


def test_stripes_failure_reason_is_shown_and_the_payer_may_retry(
    world: World, agreement: Agreement, connected: ConnectedAccount, stripe_stub: StripeStub, deliver: Any
) -> None:
    first = instalments(agreement)[0]
    logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]))
    first.refresh_from_db()
    intent = stripe_stub.decline(first.checkout_session_id, "Your card has insufficient funds.")
    deliver("payment_intent.payment_failed", intent)
    _status, body = page(logged_in_client(world.pro), schedule_url(agreement))
    assert f'data-instalment="{first.pk}" data-status="failed"' in body
    assert "Your card has insufficient funds." in body and "Retry payment" in body


# --- deliveries and refunds ------------------------------------------------------------------------------


def test_the_payer_confirms_the_delivery_that_makes_a_tranche_due(world: World, agreement: Agreement) -> None:
    second = instalments(agreement)[1]
    confirm = reverse("payments:confirm-delivery", args=[second.pk])
    _status, payee_view = page(logged_in_client(world.producer), schedule_url(agreement))
    assert confirm not in payee_view
    refused = logged_in_client(world.producer).post(confirm, follow=True)
    assert shows(refused.content.decode(), "The payer confirms the delivery that makes a payment due.")
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SCHEDULED

    _status, payer_view = page(logged_in_client(world.pro), schedule_url(agreement))
    assert confirm in payer_view
    done = logged_in_client(world.pro).post(confirm, follow=True)
    assert shows(done.content.decode(), "Delivery confirmed: the payment is now due.")
    second.refresh_from_db()
    assert second.status == InstalmentStatus.DUE and second.delivered_by == world.pro


def test_only_admins_refund_with_a_reason(
    world: World, agreement: Agreement, paid: Instalment, stripe_stub: StripeStub
) -> None:
    refund = reverse("payments:refund", args=[paid.pk])
    _status, admin_view = page(logged_in_client(world.admin), schedule_url(agreement))
    assert refund in admin_view
    _status, payer_view = page(logged_in_client(world.pro), schedule_url(agreement))
    assert refund not in payer_view

    refused = logged_in_client(world.pro).post(refund, {"reason": "changed our mind"}, follow=True)
    assert shows(refused.content.decode(), "Only festival admins refund a payment.")
    no_reason = logged_in_client(world.admin).post(refund, {"reason": "  "}, follow=True)
    assert shows(no_reason.content.decode(), "Give the reason for the refund")
    paid.refresh_from_db()
    assert paid.status == InstalmentStatus.PAID

    done = logged_in_client(world.admin).post(refund, {"reason": "Duplicate payment"}, follow=True)
    assert shows(done.content.decode(), "Refunded")
    paid.refresh_from_db()
    assert paid.status == InstalmentStatus.REFUNDED


def test_a_refund_stripe_refuses_is_a_message_not_an_error(
    world: World, agreement: Agreement, paid: Instalment, stripe_stub: StripeStub
) -> None:
    stripe_stub.refuse_reversals = "Insufficient funds in the connected account."
    response = logged_in_client(world.admin).post(
        reverse("payments:refund", args=[paid.pk]), {"reason": "Duplicate payment"}, follow=True
    )
    assert response.status_code == 200
    assert shows(response.content.decode(), "Stripe refused the refund")
    paid.refresh_from_db()
    assert paid.status == InstalmentStatus.PAID


# --- without Stripe keys ---------------------------------------------------------------------------------


def test_without_keys_the_pages_work_and_say_payments_are_not_configured(
    world: World, agreement: Agreement, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    first = instalments(agreement)[0]
    status, body = page(logged_in_client(world.pro), schedule_url(agreement))
    assert status == 200 and "Payments are not configured on this server" in body
    assert 'data-action="pay" disabled' in body
    response = logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]), follow=True)
    assert response.status_code == 200
    assert shows(response.content.decode(), "Payments are not configured on this server.")
    first.refresh_from_db()
    assert first.status == InstalmentStatus.DUE
    status, connect_page = page(logged_in_client(world.producer), reverse("payments:connect"))
    assert status == 200 and "Payments are not configured on this server." in connect_page
    status, desk = page(logged_in_client(world.admin), reverse("payments:staff"))
    assert status == 200 and "Stripe is not configured on this server" in desk
    webhook = Client().post(reverse("payments:webhook"), b"{}", content_type="application/json")
    assert webhook.status_code == 503


# --- receipts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("who", ["pro", "producer", "admin"])
def test_the_receipt_shows_to_parties_and_admins(
    world: World, paid: Instalment, who: str, language: str
) -> None:
    status, body = page(
        logged_in_client(getattr(world, who)), reverse("payments:receipt", args=[paid.pk]), language
    )
    assert status == 200 and f'<html lang="{language}">' in body
    assert in_language("Payment receipt", language) in body
    assert paid.charge_id in body and html.escape(paid.receipt_url) in body
    assert world.film.title in body and world.distributor_org.name in body and world.producer_org.name in body
    with translation.override(language):
        assert html.escape(format_money(2_250_000, "EUR")) in body  # in the reader's number format


def test_receipts_are_for_parties_and_paid_instalments_only(
    world: World, agreement: Agreement, paid: Instalment
) -> None:
    receipt = reverse("payments:receipt", args=[paid.pk])
    assert logged_in_client(world.other_producer).get(receipt).status_code == 404
    assert logged_in_client(world.pro).get(reverse("payments:receipt", args=[999_999])).status_code == 404
    unpaid = instalments(agreement)[1]
    assert logged_in_client(world.pro).get(reverse("payments:receipt", args=[unpaid.pk])).status_code == 404


def test_fee_and_net_on_the_receipt(
    world: World, agreement: Agreement, connected: Any, stripe_stub: Any, deliver: Any
) -> None:
    PlatformFee.objects.create(fee_bp=250, set_by=world.admin)
    first = instalments(agreement)[0]
    logged_in_client(world.pro).post(reverse("payments:pay", args=[first.pk]))
    first.refresh_from_db()
    stripe_stub.pay(first.checkout_session_id)
    deliver("checkout.session.completed", stripe_stub.get("/v1/checkout/sessions", first.checkout_session_id))
    _status, body = page(logged_in_client(world.producer), reverse("payments:receipt", args=[first.pk]))
    assert "EUR 562.50" in body and "EUR 21,937.50" in body


# --- Stripe's webhook ------------------------------------------------------------------------------------


def test_the_webhook_takes_posts_only(world: World, stripe_stub: StripeStub) -> None:
    response = Client().get(reverse("payments:webhook"))
    assert response.status_code == 405


def test_the_webhook_refuses_a_bad_signature_without_session_or_csrf(
    world: World, stripe_stub: StripeStub
) -> None:
    client = Client(enforce_csrf_checks=True)
    payload, _signature = stripe_stub.webhook("account.updated", {"id": "acct_unknown", "object": "account"})
    response = client.post(
        reverse("payments:webhook"),
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_someone_else"),
    )
    assert response.status_code == 400 and response.json() == {"detail": "bad signature"}
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.BAD_SIGNATURE
    unsigned = client.post(reverse("payments:webhook"), payload, content_type="application/json")
    assert unsigned.status_code == 400


def test_the_webhook_accepts_a_signed_event(world: World, stripe_stub: StripeStub) -> None:
    payload, signature = stripe_stub.webhook("account.updated", {"id": "acct_unknown", "object": "account"})
    response = Client(enforce_csrf_checks=True).post(
        reverse("payments:webhook"), payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    assert response.json() == {"detail": "ignored: not one of our connected accounts"}


# --- Stripe Connect for producers ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_producer_connects_their_company_to_stripe(
    world: World, stripe_stub: StripeStub, language: str
) -> None:
    client = logged_in_client(world.producer)
    status, body = page(client, reverse("payments:connect"), language)
    assert status == 200 and f'<html lang="{language}">' in body
    assert world.producer_org.name in body and in_language("Connect with Stripe", language) in body

    response = client.post(reverse("payments:connect-start", args=[world.producer_org.pk]))
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    assert response.status_code == 302
    assert response["Location"] == f"{stripe_stub.url}/onboarding/{account.stripe_account_id}"
    link = next(r for r in stripe_stub.requests if r.path == "/v1/account_links")
    org = world.producer_org.pk
    assert link.form["return_url"] == f"http://testserver/organisation/{org}/stripe/return/"
    assert link.form["refresh_url"] == f"http://testserver/organisation/{org}/stripe/refresh/"

    _status, body = page(client, reverse("payments:connect"), language)
    assert in_language("Continue Stripe onboarding", language) in body


def test_back_from_stripe_the_status_is_read_again(world: World, stripe_stub: StripeStub) -> None:
    client = logged_in_client(world.producer)
    client.post(reverse("payments:connect-start", args=[world.producer_org.pk]))
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    stripe_stub.account(
        account.stripe_account_id,
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
        requirements={"currently_due": []},
    )
    response = client.get(reverse("payments:connect-return", args=[world.producer_org.pk]), follow=True)
    assert response.redirect_chain == [(reverse("payments:connect"), 302)]
    assert "is connected to Stripe and can receive payments" in response.content.decode()
    account.refresh_from_db()
    assert account.ready and account.refreshed_at is not None
    assert "connect_account.updated" in audit_actions()


def test_an_expired_onboarding_link_is_replaced(world: World, stripe_stub: StripeStub) -> None:
    client = logged_in_client(world.producer)
    response = client.get(reverse("payments:connect-refresh", args=[world.producer_org.pk]))
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    assert response.status_code == 302
    assert response["Location"] == f"{stripe_stub.url}/onboarding/{account.stripe_account_id}"


def test_other_companies_are_not_found_and_distributors_are_told_why(
    world: World, stripe_stub: StripeStub
) -> None:
    other = world.other_producer_org.pk
    client = logged_in_client(world.producer)
    for name in ("payments:connect-return", "payments:connect-refresh"):
        assert client.get(reverse(name, args=[other])).status_code == 404
    assert client.post(reverse("payments:connect-start", args=[other])).status_code == 404
    pro = logged_in_client(world.pro)
    _status, body = page(pro, reverse("payments:connect"))
    assert "Only production companies receive payments." in body
    refused = pro.post(reverse("payments:connect-start", args=[world.distributor_org.pk]), follow=True)
    assert shows(refused.content.decode(), "Only production companies receive payments")
    assert not ConnectedAccount.objects.exists() and stripe_stub.requests == []


def test_the_organisation_page_links_to_stripe_connect(world: World) -> None:
    _status, body = page(logged_in_client(world.producer), reverse("accounts:organisation"))
    assert reverse("payments:connect") in body


# --- the admins' desk ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_desk_is_for_admins_in_their_language(world: World, paid: Instalment, language: str) -> None:
    status, body = page(logged_in_client(world.admin), reverse("payments:staff"), language)
    assert status == 200 and f'<html lang="{language}">' in body
    assert in_language("Payments desk", language) in body
    assert world.producer_org.name in body  # its connected account, its agreement, its ledger account
    assert "data-ledger-balanced" in body
    assert reverse("payments:schedule", args=[paid.schedule.agreement.public_id]) in body
    assert "checkout.session.completed" in body  # the webhook that paid it


@pytest.mark.parametrize("who", ["pro", "producer"])
def test_the_desk_refuses_everyone_else(world: World, who: str) -> None:
    client = logged_in_client(getattr(world, who))
    assert client.get(reverse("payments:staff")).status_code == 403
    assert client.post(reverse("payments:fee-set"), {"percent": "10"}).status_code == 403
    assert client.post(reverse("payments:reconcile")).status_code == 403
    assert not PlatformFee.objects.exists()


def test_admins_set_the_fee_in_percent(world: World) -> None:
    client = logged_in_client(world.admin)
    response = client.post(reverse("payments:fee-set"), {"percent": "2.75"}, follow=True)
    assert response.redirect_chain == [(reverse("payments:staff"), 302)]
    assert current_fee_bp() == 275
    assert "platform_fee.set" in audit_actions()
    refused = client.post(reverse("payments:fee-set"), {"percent": "60"})
    assert refused.status_code == 400 and current_fee_bp() == 275
    history = client.get(reverse("payments:staff")).content.decode()
    assert world.admin.email in history


def test_admins_reconcile_with_stripe(world: World, paid: Instalment, stripe_stub: StripeStub) -> None:
    client = logged_in_client(world.admin)
    response = client.post(reverse("payments:reconcile"), follow=True)
    assert response.redirect_chain == [(reverse("payments:staff"), 302)]
    body = response.content.decode()
    assert "data-reconcile-report" in body and "Everything matches." in body
    again = client.get(reverse("payments:staff")).content.decode()
    assert "data-reconcile-report" not in again  # shown once

    stripe_stub.get("/v1/charges", paid.charge_id)["amount"] = 1  # Stripe now says something else
    body = client.post(reverse("payments:reconcile"), follow=True).content.decode()
    assert "Problems found:" in body and paid.schedule.transfer_group in body


def test_the_admin_nav_links_to_the_desk(world: World) -> None:
    assert (
        reverse("payments:staff")
        in logged_in_client(world.admin).get(reverse("accounts:dashboard")).content.decode()
    )
    assert (
        reverse("payments:staff")
        not in logged_in_client(world.pro).get(reverse("accounts:dashboard")).content.decode()
    )


# --- links from the agreement's other pages ---------------------------------------------------------------


def test_the_memo_and_the_thread_link_to_the_payments(world: World, agreement: Agreement) -> None:
    link = schedule_url(agreement)
    client = logged_in_client(world.pro)
    assert link in client.get(reverse("offers:agreement-memo", args=[agreement.public_id])).content.decode()
    assert link in client.get(reverse("offers:thread", args=[agreement.offer_id])).content.decode()
