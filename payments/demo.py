"""The demo's money: agreements whose schedules stand in several states.

Without Stripe keys (the embedded default) nothing can be paid, so the demo shows what happens before
money moves: instalments due at signature, one waiting for its date, one waiting for a delivery, and a
service in kind already delivered. With test-mode keys (README) the due ones can be paid for real.
"""

from __future__ import annotations

import copy

from django.db import transaction

from accounts.models import User
from festival.policy import film_team_user_ids
from offers import demo as offers_demo
from offers.models import Agreement, Offer, OfferKind
from offers.services import negotiation
from payments.models import Instalment, InstalmentKind
from payments.services.schedules import instalment_confirm_delivery


def _producer(film_id: int) -> User:
    """The film's first producer (the demo's team member who answers for it)."""
    return User.objects.filter(pk__in=film_team_user_ids(film_id)).earliest("pk")


def _accept(offer: Offer) -> Agreement:
    producer = _producer(offer.film_id)
    version = offer.versions.get(number=1)
    return negotiation.thread_accept(user=producer, offer=offer, version=1, terms_hash=version.terms_hash)


def seed_demo_payments() -> int:
    """Create the demo's agreements with money in them; returns how many (0 when they exist already)."""
    if Agreement.objects.filter(kind=OfferKind.COMPLETION_FUND).exists() or not Offer.objects.exists():
        return 0
    with transaction.atomic():
        fund = offers_demo.demo_offer(
            "sanne.verhoeven@demo.example",
            "The Heart of the Water",
            offers_demo.completion_fund_terms(3_000_000),
        )
        made = [_accept(fund)]
        distribution = offers_demo.demo_offer(
            "irene.salvatierra@demo.example",
            "The Heart of the Water",
            offers_demo.distribution_terms(1_200_000),
        )
        made.append(_accept(distribution))
        sales_terms = copy.deepcopy(offers_demo.sales_terms())
        sales = offers_demo.demo_offer("jonas.breitner@demo.example", "Rooms for Rent", sales_terms)
        made.append(_accept(sales))
        # The services in kind agreed in the offers' demo: the first one has been delivered
        milestone = (
            Instalment.objects.filter(kind=InstalmentKind.MILESTONE, number=1)
            .select_related("schedule__agreement")
            .first()
        )
        if milestone is not None:
            producer = _producer(milestone.schedule.agreement.film_id)
            instalment_confirm_delivery(user=producer, instalment=milestone)
    return len(made)
