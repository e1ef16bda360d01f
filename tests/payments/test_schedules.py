"""Each agreement's schedule, drawn from its terms in the transaction that records it, and its triggers."""

from __future__ import annotations

import copy
import datetime as dt
import importlib
from io import StringIO
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from core.errors import Conflict, Forbidden
from offers.models import Agreement
from offers.services import negotiation
from offers.signals import agreement_recorded
from payments.models import ConnectedAccount, Instalment, InstalmentKind, InstalmentStatus, PaymentSchedule
from payments.services.checkout import instalment_pay
from payments.services.schedules import (
    instalment_confirm_delivery,
    instalment_release,
    instalments_release,
    schedules_backfill,
)
from tests.conftest import World, audit_actions
from tests.offers.conftest import submitted_offer
from tests.offers.terms import examples
from tests.offers.test_memo import make_agreement
from tests.payments.helpers import URLS
from tests.payments.stripe_stub import StripeStub

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
    assert "schedule.created" in audit_actions()


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
    assert "instalment.due" in audit_actions()


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
    entry = AuditEntry.objects.get(action="instalment.delivery_confirmed")
    assert (entry.actor, entry.organisation) == (world.producer, world.producer_org)  # the producers'
    assert (entry.data["from"], entry.data["to"], entry.data["instalment"]) == ("scheduled", "delivered", 1)
    with pytest.raises(Conflict):  # once
        instalment_confirm_delivery(user=world.producer, instalment=done)


def test_a_step_that_does_not_wait_for_delivery_cannot_be_confirmed(world: World) -> None:
    agreement = agree(world, examples.completion_fund())
    first = Instalment.objects.get(schedule__agreement=agreement, number=1)
    with pytest.raises(Conflict) as refused:
        instalment_confirm_delivery(user=world.pro, instalment=first)
    assert refused.value.code == "not_on_delivery"


# --- who the schedule's entry names ----------------------------------------------------------------------


def agree_before_payments(world: World, terms: dict[str, Any]) -> Agreement:
    """An agreement recorded as before payments existed: nothing receives ``agreement_recorded``."""
    receivers = agreement_recorded.receivers[:]
    agreement_recorded.disconnect(dispatch_uid="payments.schedule_agreement")
    try:
        agreement = agree(world, terms)
    finally:
        agreement_recorded.receivers[:] = receivers
        agreement_recorded.sender_receivers_cache.clear()
    assert not PaymentSchedule.objects.filter(agreement=agreement).exists()
    return agreement


def schedule_entry(agreement: Agreement) -> AuditEntry:
    schedule = PaymentSchedule.objects.get(agreement=agreement)
    return AuditEntry.objects.get(action="schedule.created", target_id=str(schedule.pk))


@pytest.mark.parametrize(
    ("who", "organisation"),
    [("producer", "producer_org"), ("pro", "distributor_org"), (None, "producer_org")],
)
def test_the_schedule_entry_names_who_accepted_and_the_side_they_signed_for(
    world: World, who: str | None, organisation: str
) -> None:
    """``agreement_recorded`` carries the user who accepted; the entry names them and the organisation
    they signed for. A sender that names no actor (offers before it carried one) gets the system and the
    producers' company, whose money the schedule moves."""
    agreement = make_agreement(world)  # written directly: no signal sent yet, no schedule
    extra = {} if who is None else {"actor": getattr(world, who)}
    agreement_recorded.send(sender=Agreement, agreement=agreement, **extra)
    entry = schedule_entry(agreement)
    assert entry.actor == (getattr(world, who) if who else None)
    assert entry.organisation == getattr(world, organisation)
    assert "backfill" not in entry.data


def test_accepting_a_deal_names_the_acceptor_on_its_schedule(world: World) -> None:
    agreement = agree(world, examples.completion_fund())  # the producers accept
    entry = schedule_entry(agreement)
    assert (entry.actor, entry.organisation) == (world.producer, world.producer_org)


# --- agreements recorded before payments existed ---------------------------------------------------------


def test_the_backfill_makes_the_missing_schedules_once(world: World) -> None:
    scheduled = agree(world, examples.completion_fund())  # recorded with its schedule
    old = agree_before_payments(world, examples.completion_fund())
    older = agree_before_payments(world, examples.sales())
    kept = PaymentSchedule.objects.get(agreement=scheduled)
    entries = AuditEntry.objects.count()

    made = schedules_backfill()
    assert sorted(s.agreement_id for s in made) == sorted([old.pk, older.pk])
    assert AuditEntry.objects.count() == entries + 2
    for agreement in (old, older):
        entry = schedule_entry(agreement)
        assert (entry.actor, entry.organisation) == (None, world.producer_org)
        assert entry.data["backfill"] is True
    assert [r[-1] for r in rows(old)] == ["due", "scheduled"]
    assert rows(older) == [(1, "payment", "minimum_guarantee", 5_000_000, "USD", "on_signature", "due")]
    assert PaymentSchedule.objects.get(agreement=scheduled) == kept

    counts = (PaymentSchedule.objects.count(), Instalment.objects.count(), AuditEntry.objects.count())
    assert schedules_backfill() == []  # once
    out = StringIO()
    call_command("backfill_payment_schedules", stdout=out)
    assert "0 payment schedules made." in out.getvalue()
    assert (PaymentSchedule.objects.count(), Instalment.objects.count(), AuditEntry.objects.count()) == counts


def test_the_migration_and_the_command_backfill_through_the_same_service(world: World) -> None:
    migration = importlib.import_module("payments.migrations.0004_backfill_payment_schedules")
    migration.backfill(django_apps, None)  # nothing to do
    old = agree_before_payments(world, examples.completion_fund())
    migration.backfill(django_apps, None)
    assert schedule_entry(old).data["backfill"] is True
    other = agree_before_payments(world, examples.sales())
    out = StringIO()
    call_command("backfill_payment_schedules", stdout=out)
    schedule = PaymentSchedule.objects.get(agreement=other)
    assert f"Scheduled {schedule.transfer_group}" in out.getvalue()
    assert "1 payment schedules made." in out.getvalue()


# --- paying one instalment releases that one only --------------------------------------------------------


def due_by_date(world: World) -> Instalment:
    """A distribution deal's second instalment, whose date has come while the beat has not run yet."""
    terms = copy.deepcopy(examples.distribution())
    terms["payment_schedule"][1]["date"] = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    agreement = agree(world, terms)
    second = Instalment.objects.get(schedule__agreement=agreement, number=2)
    Instalment.objects.filter(pk=second.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    second.refresh_from_db()
    assert (second.status, second.trigger) == (InstalmentStatus.SCHEDULED, "on_date")
    return second


def test_paying_an_instalment_releases_it_and_leaves_other_agreements_to_the_beat(
    world: World, stripe_stub: StripeStub, connected: ConnectedAccount
) -> None:
    paid_now, elsewhere = due_by_date(world), due_by_date(world)
    before = audit_actions().count("instalment.due")
    instalment_pay(user=world.pro, instalment=paid_now, **URLS)
    paid_now.refresh_from_db()
    elsewhere.refresh_from_db()
    assert paid_now.status == InstalmentStatus.PROCESSING and paid_now.due_at is not None
    assert elsewhere.status == InstalmentStatus.SCHEDULED and elsewhere.due_at is None
    assert audit_actions().count("instalment.due") == before + 1
    assert instalments_release() == 1  # the beat still releases everything due
    elsewhere.refresh_from_db()
    assert elsewhere.status == InstalmentStatus.DUE


def test_paying_one_that_is_due_already_releases_nothing(
    world: World, stripe_stub: StripeStub, connected: ConnectedAccount, agreement: Agreement
) -> None:
    elsewhere = due_by_date(world)
    first = Instalment.objects.get(schedule__agreement=agreement, number=1)
    instalment_pay(user=world.pro, instalment=first, **URLS)
    elsewhere.refresh_from_db()
    assert elsewhere.status == InstalmentStatus.SCHEDULED
    assert instalment_release(instalment=elsewhere, today=elsewhere.due_on - dt.timedelta(days=1)) is False
    assert instalment_release(instalment=elsewhere) is True
    assert instalment_release(instalment=elsewhere) is False  # once
