"""What an offer is worth, in kind and in cash per currency, and the producers' comparison built on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from offers.models import Offer, OfferStatus, OfferVersion
from offers.selectors.offers import OfferValues, film_offer_comparison, offer_values
from offers.services import offers as services
from tests.conftest import World, accredit, make_org, make_user
from tests.offers.terms import examples
from tests.offers.terms.examples import changed


def _values(data: dict[str, Any]) -> OfferValues:
    return offer_values(OfferVersion(terms=data))


def test_post_production_is_worth_its_service_lines_in_kind() -> None:
    values = _values(examples.post_production())
    assert values.in_kind == {"EUR": 430_000 + 120_000}
    assert values.cash == {}


def test_a_completion_fund_is_its_amount_in_cash() -> None:
    values = _values(changed(examples.completion_fund(), "amount.currency", "USD"))
    assert values.cash == {"USD": 3_000_000}
    assert values.in_kind == {}


def test_distribution_counts_the_minimum_guarantee_not_the_p_and_a_spend() -> None:
    values = _values(examples.distribution())
    assert values.cash == {"EUR": 2_000_000}  # minimum_pa_spend (EUR 15,000) is not paid to the film
    assert values.in_kind == {}


def test_distribution_without_a_minimum_guarantee_is_worth_nothing_in_cash() -> None:
    data = changed(examples.distribution(), "minimum_guarantee.amount_minor", 0)
    data["payment_schedule"] = []
    assert _values(data) == OfferValues()


def test_sales_counts_the_minimum_guarantee_not_the_expenses_cap() -> None:
    assert _values(examples.sales()).cash == {"USD": 5_000_000}
    without_mg = examples.sales()
    del without_mg["minimum_guarantee"]
    assert _values(without_mg).cash == {}


def test_headline_is_the_largest_amount() -> None:
    assert OfferValues(in_kind={"EUR": 5}, cash={"EUR": 7}).headline() == ("EUR", 7)
    assert OfferValues().headline() == ("", 0)


# --- the comparison --------------------------------------------------------------------------------------


def _offeror(world: World, name: str) -> Any:
    user = make_user(f"someone@{name.lower().replace(' ', '')}.example")
    org = make_org(name, "ES", "distributor")
    accredit(user, org, world.toulouse)
    return user, org


def _offer(world: World, user: Any, org: Any, data: dict[str, Any], *, submit: bool = True) -> Offer:
    offer = services.offer_create(user=user, film=world.film, organisation=org, terms_data=data)
    return services.offer_submit(user=user, offer=offer) if submit else offer


def _usd_fund() -> dict[str, Any]:
    return changed(examples.completion_fund(), "amount.currency", "USD")


@pytest.fixture
def offers(world: World) -> dict[str, Offer]:
    """Five offers to the film: four submitted (EUR and USD), one withdrawn; and a draft."""
    made = {
        "fund_eur": _offer(world, world.pro, world.distributor_org, examples.completion_fund()),
        "post_eur": _offer(world, *_offeror(world, "Sonido Sur"), examples.post_production()),
        "sales_usd": _offer(world, *_offeror(world, "World Sales"), examples.sales()),
        "fund_usd": _offer(
            world,
            *_offeror(world, "Fondo Norte"),
            changed(
                changed(examples.completion_fund(), "amount.currency", "USD"), "amount.amount_minor", 900_000
            ),
        ),
        "dist_withdrawn": _offer(world, *_offeror(world, "Cine Este"), examples.distribution()),
        "draft": _offer(world, *_offeror(world, "Borrador"), examples.completion_fund(), submit=False),
    }
    services.offer_withdraw(user=made["dist_withdrawn"].created_by, offer=made["dist_withdrawn"])
    # Spread the activity over time so the default order is well defined.
    for hours, key in enumerate(["fund_eur", "post_eur", "sales_usd", "fund_usd", "dist_withdrawn"]):
        moment = timezone.now() - dt.timedelta(hours=10 - hours)
        Offer.objects.filter(pk=made[key].pk).update(updated_at=moment, last_activity_at=moment)
    return made


@pytest.mark.django_db
def test_comparison_lists_every_non_draft_offer_newest_activity_first(
    world: World, offers: dict[str, Offer]
) -> None:
    comparison = film_offer_comparison(film=world.film)
    assert [row.offer.pk for row in comparison.rows] == [
        offers[key].pk for key in ["dist_withdrawn", "fund_usd", "sales_usd", "post_eur", "fund_eur"]
    ]


@pytest.mark.django_db
def test_totals_per_currency_leave_out_withdrawn_offers(world: World, offers: dict[str, Offer]) -> None:
    comparison = film_offer_comparison(film=world.film)
    assert comparison.totals.in_kind == {"EUR": 550_000}
    assert comparison.totals.cash == {"EUR": 3_000_000, "USD": 5_000_000 + 900_000}
    by_kind = {summary.kind: summary for summary in comparison.by_kind}
    assert by_kind["completion_fund"].count == 2
    assert by_kind["completion_fund"].values.cash == {"EUR": 3_000_000, "USD": 900_000}
    assert by_kind["distribution"].count == 1 and by_kind["distribution"].values.cash == {}


@pytest.mark.django_db
def test_sort_by_value_groups_currencies_largest_first(world: World, offers: dict[str, Offer]) -> None:
    rows = film_offer_comparison(film=world.film, sort="value").rows
    assert [row.offer.pk for row in rows] == [
        offers[key].pk for key in ["fund_eur", "dist_withdrawn", "post_eur", "sales_usd", "fund_usd"]
    ]


@pytest.mark.django_db
def test_sort_by_status_then_activity(world: World, offers: dict[str, Offer]) -> None:
    rows = film_offer_comparison(film=world.film, sort="status").rows
    assert [row.offer.status for row in rows] == [OfferStatus.SUBMITTED] * 4 + [OfferStatus.WITHDRAWN]
    assert rows[0].offer.pk == offers["fund_usd"].pk


@pytest.mark.django_db
def test_filters_by_kind_and_status(world: World, offers: dict[str, Offer]) -> None:
    funds = film_offer_comparison(film=world.film, kind="completion_fund").rows
    assert {row.offer.pk for row in funds} == {offers["fund_eur"].pk, offers["fund_usd"].pk}
    withdrawn = film_offer_comparison(film=world.film, status="withdrawn")
    assert [row.offer.pk for row in withdrawn.rows] == [offers["dist_withdrawn"].pk]
    assert withdrawn.totals == OfferValues()


@pytest.mark.django_db
def test_values_follow_the_latest_version(world: World, offers: dict[str, Offer]) -> None:
    offer = offers["fund_eur"]
    counter = changed(examples.completion_fund(), "amount.amount_minor", 4_000_000)
    OfferVersion.objects.create(
        offer=offer, number=2, author=world.producer, schema_version=1, terms=counter, terms_hash="x" * 64
    )
    row = next(row for row in film_offer_comparison(film=world.film).rows if row.offer.pk == offer.pk)
    assert row.version.number == 2 and row.values.cash == {"EUR": 4_000_000}
