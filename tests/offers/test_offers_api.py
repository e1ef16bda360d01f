"""The offers API: parties only (404 for everyone else), drafts private to the offeror, clear 400s."""

from __future__ import annotations

import pytest

from offers.models import Offer, OfferStatus
from tests.conftest import World, api_client, make_user
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db


def _create(world: World, **overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "film": world.film.pk,
        "organisation": world.distributor_org.pk,
        "terms": examples.completion_fund(),
    }
    payload.update(overrides)
    response = api_client(world.pro).post("/api/offers/", payload, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_draft_submit_and_the_producer_sees_it(world: World) -> None:
    offer = _create(world)
    producer = api_client(world.producer)
    assert producer.get(f"/api/offers/{offer['id']}/").status_code == 404  # drafts are the offeror's alone
    submitted = api_client(world.pro).post(f"/api/offers/{offer['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    seen = producer.get(f"/api/offers/?film={world.film.pk}").json()["results"]
    assert [o["id"] for o in seen] == [offer["id"]]
    assert seen[0]["versions"][0]["terms_hash"]


def test_non_parties_get_not_found(world: World) -> None:
    offer = _create(world)
    api_client(world.pro).post(f"/api/offers/{offer['id']}/submit/")
    outsider = make_user("outsider@elsewhere.example")
    for user in (world.other_producer, outsider):
        client = api_client(user)
        assert client.get(f"/api/offers/{offer['id']}/").status_code == 404
        assert client.post(f"/api/offers/{offer['id']}/withdraw/").status_code == 404
        assert client.get("/api/offers/").json()["results"] == []
    assert Offer.objects.get().status == OfferStatus.SUBMITTED


def test_the_producer_cannot_withdraw_the_offerors_offer(world: World) -> None:
    offer = _create(world)
    api_client(world.pro).post(f"/api/offers/{offer['id']}/submit/")
    assert api_client(world.producer).post(f"/api/offers/{offer['id']}/withdraw/").status_code == 404
    assert Offer.objects.get().status == OfferStatus.SUBMITTED


def test_invalid_terms_get_400_naming_the_fields(world: World) -> None:
    terms = examples.completion_fund()
    terms["amount"]["currency"] = "ZZZ"
    response = api_client(world.pro).post(
        "/api/offers/",
        {"film": world.film.pk, "organisation": world.distributor_org.pk, "terms": terms},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    [error] = [e for e in body["errors"] if e["field"] == "amount.currency"]
    assert error["message"] in body["terms"] and error["message"].startswith(error["label"])
    assert not Offer.objects.exists()


def test_a_film_the_caller_cannot_see_is_not_found(world: World) -> None:
    response = api_client(world.pro).post(
        "/api/offers/",
        {
            "film": world.other_film.pk,
            "organisation": world.distributor_org.pk,
            "terms": examples.completion_fund(),
        },
        format="json",
    )
    assert response.status_code == 404
    assert not Offer.objects.exists()


def test_rewrite_a_draft_then_not_after_submitting(world: World) -> None:
    offer = _create(world)
    terms = examples.completion_fund()
    terms["amount"]["amount_minor"] = 4_000_000
    client = api_client(world.pro)
    assert client.put(f"/api/offers/{offer['id']}/terms/", {"terms": terms}, format="json").status_code == 200
    client.post(f"/api/offers/{offer['id']}/submit/")
    again = client.put(f"/api/offers/{offer['id']}/terms/", {"terms": terms}, format="json")
    assert again.status_code == 409


def test_producers_require_a_watched_share_before_an_offer(world: World) -> None:
    from django.utils import timezone

    from screening.models import Cut, CutStatus, PlaybackGrant

    producer, pro = api_client(world.producer), api_client(world.pro)
    assert (
        producer.put(
            f"/api/films/{world.film.pk}/offer-policy/", {"min_watched_share_bp": 20_000}, format="json"
        ).status_code
        == 400
    )
    assert (
        pro.put(
            f"/api/films/{world.film.pk}/offer-policy/", {"min_watched_share_bp": 5000}, format="json"
        ).status_code
        == 403
    )
    assert (
        producer.put(
            f"/api/films/{world.film.pk}/offer-policy/", {"min_watched_share_bp": 5000}, format="json"
        ).status_code
        == 200
    )
    cut = Cut.objects.create(
        film=world.film,
        number=1,
        uploaded_by=world.producer,
        source_filename="a.mp4",
        source_size=1,
        status=CutStatus.READY,
        segment_count=4,
        published_at=timezone.now(),
    )
    grant = PlaybackGrant.objects.create(
        viewer=world.pro,
        organisation=world.distributor_org,
        cut=cut,
        device_hash="d",
        expires_at=timezone.now(),
        watched_segments=[0],
    )
    offer = _create(world)
    refused = pro.post(f"/api/offers/{offer['id']}/submit/")
    assert refused.status_code == 403 and "50%" in refused.json()["detail"]
    assert Offer.objects.get().status == OfferStatus.DRAFT
    PlaybackGrant.objects.filter(pk=grant.pk).update(watched_segments=[0, 1, 2])
    submitted = pro.post(f"/api/offers/{offer['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["watched_share_bp"] == 7500
