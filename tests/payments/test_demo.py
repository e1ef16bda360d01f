"""The demo's agreements carry schedules in several states."""

from __future__ import annotations

import pytest

from festival.demo import seed_demo
from offers.demo import seed_demo_offers
from payments.demo import seed_demo_payments
from payments.models import Instalment

pytestmark = pytest.mark.django_db


def test_the_demo_has_agreements_with_schedules_in_several_states() -> None:
    seed_demo(with_posters=False)
    seed_demo_offers()
    assert seed_demo_payments() == 3
    states = {
        (kind, source, status)
        for kind, source, status in Instalment.objects.values_list(
            "schedule__agreement__kind", "source", "status"
        )
    }
    assert states == {
        ("completion_fund", "tranche", "due"),
        ("completion_fund", "tranche", "scheduled"),
        ("distribution", "mg_instalment", "due"),
        ("distribution", "mg_instalment", "scheduled"),
        ("sales", "minimum_guarantee", "due"),
        ("post_production", "service", "delivered"),
        ("post_production", "service", "scheduled"),
    }
    assert seed_demo_payments() == 0  # once
