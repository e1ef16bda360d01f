"""The Stripe-shaped local server, for every payments test that talks to "Stripe"."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from offers.models import Agreement
from offers.services import negotiation
from payments.models import ConnectedAccount
from payments.services import connect
from payments.services.webhooks import Reply, receive_webhook
from tests.conftest import World
from tests.offers.conftest import submitted_offer
from tests.payments.stripe_stub import WEBHOOK_SECRET, StripeStub, handler_for


@pytest.fixture
def stripe_stub(settings: Any) -> Iterator[StripeStub]:
    stub = StripeStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    # shutdown() waits for the serve loop's next poll: 0.5 s by default, on every test that uses the stub
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = "sk_test_stub"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stub.url
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agreement(world: World) -> Agreement:
    """Cine Sur's completion fund for La Sombra, accepted by the producers: EUR 22,500 on signature
    (due at once) and EUR 7,500 on delivery."""
    offer = submitted_offer(world)
    version = offer.versions.get(number=1)
    return negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=version.terms_hash
    )


@pytest.fixture
def connected(world: World, stripe_stub: StripeStub) -> ConnectedAccount:
    """The producer company, onboarded on Stripe Connect and able to receive money."""
    connect.connect_onboarding_link(
        user=world.producer,
        organisation=world.producer_org,
        return_url="https://films.example/back",
        refresh_url="https://films.example/again",
    )
    account = ConnectedAccount.objects.get(organisation=world.producer_org)
    stripe_stub.account(
        account.stripe_account_id,
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
        requirements={"currently_due": []},
    )
    return connect.connect_refresh(account=account)


@pytest.fixture
def deliver(stripe_stub: StripeStub, django_capture_on_commit_callbacks: Any) -> Callable[..., Reply]:
    """Stripe delivers an event about an object as it is now; on-commit work (emails) runs."""

    def send(event_type: str, obj: dict[str, Any], **options: Any) -> Reply:
        payload, signature = stripe_stub.webhook(event_type, obj, **options)
        with django_capture_on_commit_callbacks(execute=True):
            return receive_webhook(payload=payload, signature=signature)

    return send
