"""What the payments tests share: the Checkout URLs, an agreement's instalments, paying one through the
local Stripe-shaped server, and the ledger's balance."""

from __future__ import annotations

from collections.abc import Callable

from offers.models import Agreement
from payments import selectors
from payments.models import Instalment
from payments.services.checkout import instalment_pay
from payments.services.webhooks import Reply
from tests.conftest import World
from tests.payments.stripe_stub import StripeStub

URLS = {"success_url": "https://films.example/paid", "cancel_url": "https://films.example/cancelled"}


def instalments(agreement: Agreement) -> list[Instalment]:
    return list(Instalment.objects.filter(schedule__agreement=agreement).order_by("number"))


def assert_balanced() -> None:
    assert selectors.unbalanced_transactions() == []
    assert all(total == 0 for total in selectors.totals_by_currency().values())


def pay(
    world: World, stripe_stub: StripeStub, instalment: Instalment, deliver: Callable[..., Reply]
) -> Instalment:
    instalment_pay(user=world.pro, instalment=instalment, **URLS)
    instalment.refresh_from_db()
    stripe_stub.pay(instalment.checkout_session_id)
    session = stripe_stub.get("/v1/checkout/sessions", instalment.checkout_session_id)
    assert deliver("checkout.session.completed", session).detail == "processed: paid"
    instalment.refresh_from_db()
    return instalment
