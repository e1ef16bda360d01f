"""Two parties acting on one thread at the same instant end with exactly one outcome (PostgreSQL row
locks). Each race is fired from two threads, each with its own database connection, released together
by a barrier, and repeated to give the interleavings a chance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from accounts.models import User
from core.errors import Conflict
from festival.models import FilmTeamMember
from offers.models import Agreement, Offer, OfferVersion, ThreadEvent
from offers.services import negotiation
from tests.conftest import World, make_user
from tests.offers.conftest import counter_terms, submitted_offer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"),
]
ROUNDS = 5


def _race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at once; returns each one's result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = action()
        except Exception as error:  # the losing side's refusal is the result under test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _second_producer(world: World) -> User:
    user = make_user("coproducer@andes.example")
    FilmTeamMember.objects.create(film=world.film, user=user, organisation=world.producer_org)
    return user


def test_two_acceptances_record_one_agreement(world: World) -> None:
    coproducer = _second_producer(world)
    for _round in range(ROUNDS):
        offer = submitted_offer(world)
        digest = OfferVersion.objects.get(offer=offer, number=1).terms_hash
        results = _race(
            lambda o=offer, digest=digest: negotiation.thread_accept(
                user=world.producer, offer=o, version=1, terms_hash=digest
            ),
            lambda o=offer, digest=digest: negotiation.thread_accept(
                user=coproducer, offer=o, version=1, terms_hash=digest
            ),
        )
        winners = [r for r in results if isinstance(r, Agreement)]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].code == "thread_closed"
        assert Agreement.objects.filter(offer=offer).count() == 1
        assert list(ThreadEvent.objects.filter(offer=offer).values_list("kind", flat=True)) == [
            "submitted",
            "accepted",
        ]


def test_an_acceptance_and_a_counter_racing_end_in_one_outcome(world: World) -> None:
    for _round in range(ROUNDS):
        offer = submitted_offer(world)
        digest = OfferVersion.objects.get(offer=offer, number=1).terms_hash
        results = _race(
            lambda o=offer, digest=digest: negotiation.thread_accept(
                user=world.producer, offer=o, version=1, terms_hash=digest
            ),
            lambda o=offer: negotiation.thread_counter(
                user=world.pro, offer=o, base_version=1, terms_data=counter_terms()
            ),
        )
        accepted, countered = results
        offer.refresh_from_db()
        if isinstance(accepted, Agreement):  # the acceptance won: the counter found the thread closed
            assert isinstance(countered, Conflict) and countered.code == "thread_closed"
            assert offer.status == "accepted" and offer.versions.count() == 1
        else:  # the counter won: version 1 is no longer the latest, so it cannot be accepted
            assert isinstance(accepted, Conflict) and accepted.code == "stale_version", results
            assert offer.status == "submitted" and offer.versions.count() == 2
            assert not Agreement.objects.filter(offer=offer).exists()


def test_two_counters_on_one_version_make_one_new_version(world: World) -> None:
    for _round in range(ROUNDS):
        offer: Offer = submitted_offer(world)
        results = _race(
            lambda o=offer: negotiation.thread_counter(
                user=world.producer, offer=o, base_version=1, terms_data=counter_terms(2_000_000)
            ),
            lambda o=offer: negotiation.thread_counter(
                user=world.pro, offer=o, base_version=1, terms_data=counter_terms(2_900_000)
            ),
        )
        assert sum(isinstance(r, negotiation.Posted) for r in results) == 1, results
        assert [r.code for r in results if isinstance(r, Conflict)] == ["stale_version"]
        assert list(offer.versions.values_list("number", flat=True)) == [1, 2]
        assert list(ThreadEvent.objects.filter(offer=offer).values_list("seq", flat=True)) == [1, 2]


def test_messages_racing_get_distinct_consecutive_numbers(world: World) -> None:
    offer = submitted_offer(world)
    results = _race(
        *[
            (
                lambda i=i: negotiation.thread_message(
                    user=world.pro if i % 2 else world.producer, offer=offer, body=f"m{i}"
                )
            )
            for i in range(6)
        ]
    )
    assert all(isinstance(r, negotiation.Posted) for r in results), results
    assert sorted(r.event.seq for r in results) == [2, 3, 4, 5, 6, 7]
