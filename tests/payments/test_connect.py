"""Stripe Connect onboarding of production companies, against the local Stripe-shaped server."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Forbidden, InvalidInput
from payments.gateway import PaymentsNotConfigured, idempotency_key
from payments.models import ConnectedAccount
from payments.services import connect
from tests.conftest import World, audit_actions
from tests.payments.stripe_stub import StripeStub

pytestmark = pytest.mark.django_db
URLS = {
    "return_url": "https://films.example/payments/done",
    "refresh_url": "https://films.example/payments/again",
}


def test_a_producer_connects_their_company_once_and_gets_fresh_links(
    world: World, stripe_stub: StripeStub
) -> None:
    first = connect.connect_onboarding_link(user=world.producer, organisation=world.producer_org, **URLS)
    again = connect.connect_onboarding_link(user=world.producer, organisation=world.producer_org, **URLS)
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    assert first == again == f"{stripe_stub.url}/onboarding/{account.stripe_account_id}"
    paths = [r.path for r in stripe_stub.requests]
    assert paths == ["/v1/accounts", "/v1/account_links", "/v1/account_links"]  # one account, two links
    created = stripe_stub.requests[0]
    assert created.form["type"] == "express" and created.form["country"] == "PE"
    assert created.headers["idempotency-key"] == idempotency_key("account.create", world.producer_org.pk)
    assert stripe_stub.requests[1].form["return_url"] == URLS["return_url"]
    assert audit_actions().count("connect_account.created") == 1
    assert not account.ready


@pytest.mark.parametrize(
    ("who", "organisation", "error"),
    [
        ("other_producer", "producer_org", Forbidden),  # not a member of that company
        ("pro", "distributor_org", InvalidInput),  # a distributor does not receive payments
        ("no_mfa", "distributor_org", Forbidden),  # not a ready account
    ],
)
def test_refusals_change_nothing_and_call_nothing(
    world: World, stripe_stub: StripeStub, who: str, organisation: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        connect.connect_onboarding_link(
            user=getattr(world, who), organisation=getattr(world, organisation), **URLS
        )
    assert not ConnectedAccount.objects.exists() and stripe_stub.requests == []


def test_without_keys_payments_are_not_configured(world: World, settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentsNotConfigured):
        connect.connect_onboarding_link(user=world.producer, organisation=world.producer_org, **URLS)
    assert not ConnectedAccount.objects.exists()


def test_the_status_is_re_read_from_stripe(world: World, stripe_stub: StripeStub) -> None:
    connect.connect_onboarding_link(user=world.producer, organisation=world.producer_org, **URLS)
    account = ConnectedAccount.objects.get()
    remote = stripe_stub.objects[f"/v1/accounts/{account.stripe_account_id}"]
    assert connect.connect_refresh(account=account).requirements_due == ["external_account"]
    remote.update(
        details_submitted=True, charges_enabled=True, payouts_enabled=True, requirements={"currently_due": []}
    )
    refreshed = connect.connect_refresh(account=account)
    assert refreshed.ready and refreshed.requirements_due == [] and refreshed.refreshed_at is not None
    assert audit_actions().count("connect_account.updated") == 2  # not-onboarded, then onboarded
    connect.connect_refresh(account=account)  # nothing changed: no new entry
    assert audit_actions().count("connect_account.updated") == 2


def test_account_links_go_through_the_gateway_with_a_key_derived_from_each_request(
    world: World, stripe_stub: StripeStub
) -> None:
    for _ in range(2):
        connect.connect_onboarding_link(user=world.producer, organisation=world.producer_org, **URLS)
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    keys = [r.headers.get("idempotency-key") for r in stripe_stub.requests if r.path == "/v1/account_links"]
    assert keys == [idempotency_key("account.link", account.stripe_account_id, n) for n in (1, 2)]
    assert account.links_issued == 2
    assert audit_actions().count("connect_account.onboarding_link_issued") == 2
