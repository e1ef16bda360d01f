"""Each agreement's schedule, drawn from its terms in the transaction that records it, and its triggers."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from core.errors import Conflict, Forbidden
from offers import negotiation
from offers.models import Agreement
from payments.models import Instalment, InstalmentKind, InstalmentStatus, PaymentSchedule
from payments.schedules import instalment_confirm_delivery, instalments_release
from tests.conftest import World, audit_actions
from tests.offers.conftest import submitted_offer
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db


def agree(world: World, terms: dict[str, Any]) -> Agreement:
    offer = submitted_offer(world, terms)
    version = offer.versions.get(number=1)
    return negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=version.terms_hash
    )


def rows(agreement: Agreement) -> list[tuple[Any, ...]]:
    return list(
        Instalment.objects.filter(schedule__agreement=agreement)
        .order_by("number")
        .values_list("number", "kind", "source", "amount_minor", "currency", "trigger", "status")
    )


def test_a_completion_fund_pays_its_tranches(world: World) -> None:
    agreement = agree(world, examples.completion_fund())
    assert rows(agreement) == [
        (1, "payment", "tranche", 2_250_000, "EUR", "on_signature", "due"),
        (2, "payment", "tranche", 750_000, "EUR", "on_delivery", "scheduled"),
    ]
    schedule = PaymentSchedule.objects.get(agreement=agreement)
    assert schedule.transfer_group == f"agreement-{agreement.public_id}"
    second = schedule.instalments.get(number=2)
    assert second.delivery == "delivery with proof of expenses"
    assert (second.payer_organisation, second.payee_organisation) == (
        world.distributor_org,
        world.producer_org,
    )
    assert "payments.schedule_created" in audit_actions()


def test_a_distribution_deal_pays_its_minimum_guarantee_by_date(world: World) -> None:
    terms = copy.deepcopy(examples.distribution())
    future = timezone.localdate() + dt.timedelta(days=30)
    terms["payment_schedule"][1]["date"] = future.isoformat()
    agreement = agree(world, terms)
    assert [r[3:] for r in rows(agreement)] == [
        (1_000_000, "EUR", "on_signature", "due"),
        (1_000_000, "EUR", "on_date", "scheduled"),
    ]
    assert instalments_release(today=future - dt.timedelta(days=1)) == 0
    assert instalments_release(today=future) == 1
    assert instalments_release(today=future) == 0  # once
    assert rows(agreement)[1][-1] == "due"
    assert "payments.instalment_due" in audit_actions()


def test_a_past_date_is_due_at_signature(world: World) -> None:
    agreement = agree(world, examples.distribution())  # its second date, 2026-09-01, has passed
    assert [r[-1] for r in rows(agreement)] == ["due", "due"]


def test_a_sales_deal_pays_its_minimum_guarantee_on_signature_and_none_without(world: World) -> None:
    assert rows(agree(world, examples.sales())) == [
        (1, "payment", "minimum_guarantee", 5_000_000, "USD", "on_signature", "due")
    ]
    terms = copy.deepcopy(examples.sales())
    del terms["minimum_guarantee"]
    assert rows(agree(world, terms)) == []


def test_services_in_kind_are_milestones_the_producers_confirm(world: World) -> None:
    terms = copy.deepcopy(examples.post_production())
    terms["provider_organisation_id"] = world.distributor_org.pk
    agreement = agree(world, terms)
    assert rows(agreement) == [
        (1, "milestone", "service", 430_000, "EUR", "on_delivery", "scheduled"),
        (2, "milestone", "service", 120_000, "EUR", "on_delivery", "scheduled"),
    ]
    follow_up = Instalment.objects.get(schedule__agreement=agreement, number=1)
    assert follow_up.kind == InstalmentKind.MILESTONE
    with pytest.raises(Forbidden):  # the provider does not confirm its own delivery
        instalment_confirm_delivery(user=world.pro, instalment=follow_up)
    with pytest.raises(Forbidden):  # nor does an account without two-factor login
        instalment_confirm_delivery(user=world.no_mfa, instalment=follow_up)
    done = instalment_confirm_delivery(user=world.producer, instalment=follow_up)
    assert done.status == InstalmentStatus.DELIVERED and done.delivered_by == world.producer
    with pytest.raises(Conflict):  # once
        instalment_confirm_delivery(user=world.producer, instalment=done)


def test_a_step_that_does_not_wait_for_delivery_cannot_be_confirmed(world: World) -> None:
    agreement = agree(world, examples.completion_fund())
    first = Instalment.objects.get(schedule__agreement=agreement, number=1)
    with pytest.raises(Conflict) as refused:
        instalment_confirm_delivery(user=world.pro, instalment=first)
    assert refused.value.code == "not_on_delivery"
