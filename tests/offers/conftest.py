"""A submitted offer to negotiate: Marie Dupont (Cine Sur) offers a completion fund to La Sombra."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accounts.models import Membership, User
from offers.models import Offer
from offers.services import offers as services
from tests.conftest import World, make_user
from tests.offers.terms import examples


def submitted_offer(world: World, terms: dict[str, Any] | None = None) -> Offer:
    draft = services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=terms or examples.completion_fund(),
    )
    return services.offer_submit(user=world.pro, offer=draft)


def counter_terms(amount_minor: int = 2_500_000) -> dict[str, Any]:
    """The example completion fund with another amount."""
    terms = copy.deepcopy(examples.completion_fund())
    terms["amount"]["amount_minor"] = amount_minor
    return terms


@pytest.fixture
def offer(world: World) -> Offer:
    return submitted_offer(world)


@pytest.fixture
def colleague(world: World) -> User:
    """Another member of the offering organisation (same side as world.pro)."""
    user = make_user("colleague@cinesur.example", full_name="Luc Martin", language="fr")
    Membership.objects.create(user=user, organisation=world.distributor_org)
    return user
