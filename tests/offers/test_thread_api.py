"""The negotiation thread over the REST API (for clients without a WebSocket), and its page."""

from __future__ import annotations

from typing import Any

import pytest

from offers.models import Agreement, Offer, OfferVersion, ThreadEvent
from tests.conftest import World, api_client, logged_in_client
from tests.offers.conftest import counter_terms

pytestmark = pytest.mark.django_db


def _url(offer: Offer, action: str) -> str:
    return f"/api/offers/{offer.pk}/{action}/"


def test_a_thread_over_rest_from_message_to_agreement(world: World, offer: Offer) -> None:
    pro, producer = api_client(world.pro), api_client(world.producer)
    sent = pro.post(_url(offer, "messages"), {"body": "Hola", "client_id": "r1"}, format="json")
    assert sent.status_code == 201 and sent.json()["seq"] == 2
    again = pro.post(_url(offer, "messages"), {"body": "Hola", "client_id": "r1"}, format="json")
    assert again.status_code == 200 and again.json()["seq"] == 2  # a resend appears once

    countered = producer.post(
        _url(offer, "counter"), {"base_version": 1, "terms": counter_terms(), "body": "Menos"}, format="json"
    )
    assert countered.status_code == 201 and countered.json()["version"]["number"] == 2
    events = pro.get(_url(offer, "events") + "?after=2").json()["results"]
    assert [(e["seq"], e["kind"]) for e in events] == [(3, "counter")]

    digest = countered.json()["version"]["terms_hash"]
    accepted = pro.post(_url(offer, "accept"), {"version": 2, "terms_hash": digest}, format="json")
    assert accepted.status_code == 201
    assert accepted.json()["terms_hash"] == digest == Agreement.objects.get().terms_hash
    assert pro.post(_url(offer, "read"), {"seq": 4}, format="json").json() == {"seq": 4}


@pytest.mark.parametrize(
    ("action", "payload", "status", "field"),
    [
        ("messages", {"body": ""}, 400, "body"),
        ("messages", {"body": "x", "client_id": "no spaces"}, 400, "client_id"),
        ("counter", {"base_version": 1, "terms": "nope"}, 400, "terms"),
        ("counter", {"base_version": 1, "terms": {"kind": "completion_fund"}}, 400, "terms"),
        ("counter", {"base_version": 9, "terms": counter_terms()}, 409, None),
        ("accept", {"version": 1, "terms_hash": "nothex"}, 400, "terms_hash"),
        ("accept", {"version": 1, "terms_hash": "0" * 64}, 409, None),
        ("decline", {}, 409, None),  # the offeror withdraws instead
        ("read", {"seq": -1}, 400, "seq"),
    ],
)
def test_bad_requests_are_explained_and_change_nothing(
    world: World, offer: Offer, action: str, payload: dict[str, Any], status: int, field: str | None
) -> None:
    response = api_client(world.pro).post(_url(offer, action), payload, format="json")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()
    assert ThreadEvent.objects.filter(offer=offer).count() == 1
    assert OfferVersion.objects.filter(offer=offer).count() == 1


@pytest.mark.parametrize("who", ["other_producer", "no_mfa", None])
def test_outsiders_get_404_or_401_everywhere(world: World, offer: Offer, who: str | None) -> None:
    client = api_client(getattr(world, who) if who else None)
    expected = {401, 403} if who is None or who == "no_mfa" else {404}
    assert client.get(_url(offer, "events")).status_code in expected
    assert client.post(_url(offer, "messages"), {"body": "hola"}, format="json").status_code in expected
    assert ThreadEvent.objects.filter(offer=offer).count() == 1


def test_admins_read_the_thread_but_cannot_write(world: World, offer: Offer) -> None:
    admin = api_client(world.admin)
    assert admin.get(_url(offer, "events")).status_code == 200
    assert admin.post(_url(offer, "messages"), {"body": "hola"}, format="json").status_code == 403


def test_the_thread_page_for_each_party(world: World, offer: Offer) -> None:
    for user, side in ((world.producer, "producer"), (world.pro, "offeror"), (world.admin, "admin")):
        page = logged_in_client(user).get(f"/offers/{offer.pk}/")
        assert page.status_code == 200
        assert page.context["side"] == side and page.context["config"]["socket"] == f"/ws/offers/{offer.pk}/"
        assert b"thread-config" in page.content and b"offers-thread.js" in page.content
    assert b"data-composer" not in logged_in_client(world.admin).get(f"/offers/{offer.pk}/").content


def test_the_thread_page_is_404_for_outsiders(world: World, offer: Offer) -> None:
    assert logged_in_client(world.other_producer).get(f"/offers/{offer.pk}/").status_code == 404
    assert logged_in_client(world.producer).get("/offers/999999/").status_code == 404
    assert logged_in_client(world.no_mfa).get(f"/offers/{offer.pk}/").status_code == 403


def test_a_draft_opens_in_its_editor(world: World) -> None:
    from offers.services import offers as services
    from tests.offers.terms import examples

    draft = services.offer_create(
        user=world.pro, film=world.film, organisation=world.distributor_org, terms_data=examples.sales()
    )
    response = logged_in_client(world.pro).get(f"/offers/{draft.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/offers/{draft.pk}/edit/"
    assert logged_in_client(world.producer).get(f"/offers/{draft.pk}/").status_code == 404
