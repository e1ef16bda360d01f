"""Every audit entry of offers names who acted, for which organisation (the one the actor acted for, never
the other side's) and from where: over HTTP and over the thread's WebSocket alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import Organisation, User
from audit.models import AuditEntry
from config.asgi import application
from festival.models import FilmTeamMember
from offers.models import Offer, OfferVersion
from offers.services import negotiation
from offers.services import offers as services
from tests.conftest import World, make_user
from tests.offers.conftest import counter_terms, submitted_offer
from tests.offers.terms import examples


def _entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).select_related("actor", "organisation").latest("seq")


def _names(entry: AuditEntry, actor: User | None, organisation: Organisation | None) -> bool:
    return (entry.actor, entry.organisation) == (actor, organisation)


def _latest(offer: Offer) -> OfferVersion:
    return offer.versions.order_by("-number").first()  # type: ignore[return-value]


@pytest.fixture
def co_producer(world: World) -> User:
    """A second producer of the film, whose seat on its team is for another company."""
    user = make_user("coproducer@pampa.example")
    FilmTeamMember.objects.create(film=world.film, user=user, organisation=world.other_producer_org)
    return user


@pytest.mark.django_db
def test_each_side_acts_for_its_own_organisation(world: World, co_producer: User) -> None:
    offeror, producers = world.distributor_org, world.producer_org
    offer = submitted_offer(world)
    assert _names(_entry("offer.drafted"), world.pro, offeror)
    assert _names(_entry("offer.submitted"), world.pro, offeror)

    negotiation.thread_counter(user=world.producer, offer=offer, base_version=1, terms_data=counter_terms())
    assert _names(_entry("offer.countered"), world.producer, producers)  # not the offeror's organisation
    negotiation.thread_counter(
        user=world.pro, offer=offer, base_version=2, terms_data=counter_terms(2_600_000)
    )
    assert _names(_entry("offer.countered"), world.pro, offeror)
    negotiation.thread_counter(
        user=co_producer, offer=offer, base_version=3, terms_data=counter_terms(2_700_000)
    )
    assert _names(_entry("offer.countered"), co_producer, world.other_producer_org)  # their own seat's

    # The offeror accepts the producers' version: both entries name the offering organisation
    agreement = negotiation.thread_accept(
        user=world.pro, offer=offer, version=4, terms_hash=_latest(offer).terms_hash
    )
    assert _names(_entry("agreement.recorded"), world.pro, offeror)
    assert _names(_entry("offer.accepted"), world.pro, offeror)
    assert agreement.producer_organisation == world.other_producer_org  # who proposed the accepted version

    # The producers accept: both entries name the producers' company
    second = submitted_offer(world)
    negotiation.thread_accept(
        user=world.producer, offer=second, version=1, terms_hash=_latest(second).terms_hash
    )
    assert _names(_entry("agreement.recorded"), world.producer, producers)
    assert _names(_entry("offer.accepted"), world.producer, producers)

    # The producers decline; the offeror withdraws
    third = submitted_offer(world)
    negotiation.thread_decline(user=world.producer, offer=third, reason="No")
    assert _names(_entry("offer.declined"), world.producer, producers)
    fourth = submitted_offer(world)
    services.offer_withdraw(user=world.pro, offer=fourth)
    assert _names(_entry("offer.withdrawn"), world.pro, offeror)

    # A draft's edit is the offeror's
    draft = services.offer_create(
        user=world.pro, film=world.film, organisation=offeror, terms_data=examples.completion_fund()
    )
    services.offer_update_draft(user=world.pro, offer=draft, terms_data=counter_terms())
    assert _names(_entry("offer.draft_updated"), world.pro, offeror)


@pytest.mark.django_db
def test_the_offer_policy_names_the_producers_company_and_the_system_acts_for_none(world: World) -> None:
    services.offer_policy_set(user=world.producer, film=world.film, min_watched_share_bp=2_000)
    assert _names(_entry("film.offer_policy_changed"), world.producer, world.producer_org)
    services.offer_policy_set(user=world.admin, film=world.film, min_watched_share_bp=0)
    assert _names(_entry("film.offer_policy_changed"), world.admin, None)  # an admin acts for no company

    expiring = services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=examples.completion_fund(),
        expires_on=timezone.now().date() + dt.timedelta(days=1),
    )
    services.offer_submit(user=world.pro, offer=expiring)
    assert services.offers_expire(today=timezone.now().date() + dt.timedelta(days=2)) == 1
    assert _names(_entry("offer.expired"), None, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_thread_connections")
async def test_a_counter_over_the_socket_records_the_clients_address(world: World) -> None:
    offer = await database_sync_to_async(submitted_offer)(world)
    socket = WebsocketCommunicator(
        application,
        f"/ws/offers/{offer.pk}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    socket.scope["user"] = world.producer
    socket.scope["client"] = ("203.0.113.7", 50123)
    connected, code = await socket.connect()
    assert connected, code
    await socket.send_json_to({"type": "resume", "after": 0})
    await socket.send_json_to(
        {"type": "counter", "base_version": 1, "terms": counter_terms(), "client_id": "c1"}
    )
    while True:
        frame: dict[str, Any] = await socket.receive_json_from(timeout=5)
        if frame["type"] == "ack":
            break
        assert frame["type"] != "error", frame
    await socket.disconnect()

    entry = await database_sync_to_async(_entry)("offer.countered")
    assert (entry.actor_id, entry.organisation_id, entry.ip) == (
        world.producer.pk,
        world.producer_org.pk,
        "203.0.113.7",
    )
