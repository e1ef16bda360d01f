"""The film's page shows what its agreements commit, per type, in kind and in cash by currency."""

from __future__ import annotations

import pytest

from accounts.models import Membership
from offers.services import negotiation
from offers.services import offers as services
from offers.support import film_committed_support
from tests.conftest import World, accredit, logged_in_client, make_org, make_user
from tests.offers.conftest import submitted_offer
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db


def _agree(world: World, terms: dict, email: str) -> None:  # type: ignore[type-arg]
    user = make_user(email)
    organisation = make_org(email, "ES", "distributor")
    Membership.objects.create(user=user, organisation=organisation)
    accredit(user, organisation, world.toulouse)
    offer = services.offer_submit(
        user=user,
        offer=services.offer_create(user=user, film=world.film, organisation=organisation, terms_data=terms),
    )
    version = offer.versions.get()
    negotiation.thread_accept(user=world.producer, offer=offer, version=1, terms_hash=version.terms_hash)


def test_support_adds_agreements_per_type_and_currency(world: World) -> None:
    assert film_committed_support(film=world.film).empty
    _agree(world, examples.completion_fund(), "a@fund.example")  # EUR 30,000 cash
    _agree(world, examples.completion_fund(), "b@fund.example")  # EUR 30,000 cash
    _agree(world, examples.post_production(), "c@post.example")  # EUR 5,500 in kind
    _agree(world, examples.sales(), "d@sales.example")  # USD 50,000 minimum guarantee
    submitted_offer(world)  # not agreed: counts for nothing
    support = film_committed_support(film=world.film)
    rows = {k.kind: (k.agreements, dict(k.in_kind), dict(k.cash)) for k in support.kinds}
    assert rows == {
        "post_production": (1, {"EUR": 550_000}, {}),
        "completion_fund": (2, {}, {"EUR": 6_000_000}),
        "sales": (1, {}, {"USD": 5_000_000}),
    }
    assert [k.kind for k in support.kinds] == ["post_production", "completion_fund", "sales"]
    assert (support.in_kind, support.cash) == ({"EUR": 550_000}, {"EUR": 6_000_000, "USD": 5_000_000})


def test_the_film_page_shows_the_totals(world: World) -> None:
    _agree(world, examples.completion_fund(), "a@fund.example")
    page = logged_in_client(world.pro).get(f"/films/{world.film.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Committed support" in html and "30,000" in html.replace("\xa0", " ")
    other = logged_in_client(world.other_producer).get(f"/films/{world.other_film.pk}/").content.decode()
    assert "No agreement has been recorded for this film yet." in other
