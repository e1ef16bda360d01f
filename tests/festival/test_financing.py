"""One definition of what a film has secured, everywhere it shows: the film page, the film list, the
financing gap and the API. Secured = what the producers recorded on their needs (found outside the
platform) + what agreements recorded on the platform commit (in kind and cash), per currency."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from core import money as core_money
from festival.selectors import film_financing
from festival.templatetags.money import money
from offers.support import film_committed_support
from offers.terms.common import Money
from offers.terms.render import format_money
from tests.conftest import World, api_client, logged_in_client
from tests.offers.terms import examples
from tests.offers.test_committed_support import _agree

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("\xa0", " ")


@pytest.fixture
def agreed(world: World) -> World:
    # The world's film needs EUR 15,000, of which the producers recorded EUR 5,000 as secured.
    _agree(world, examples.post_production(), "c@post.example")  # EUR 5,500 in kind
    _agree(world, examples.sales(), "d@sales.example")  # USD 50,000 minimum guarantee, cash
    return world


def test_secured_counts_the_producers_record_and_the_agreements(agreed: World) -> None:
    lines = {line.currency: line for line in film_financing(film=agreed.film)}
    eur, usd = lines["EUR"], lines["USD"]
    assert (eur.estimated_minor, eur.recorded_minor, eur.committed_minor) == (1_500_000, 500_000, 550_000)
    assert (eur.secured_minor, eur.gap_minor, eur.surplus_minor) == (1_050_000, 450_000, 0)
    # Support in a currency the needs do not list still counts, in its own currency.
    assert (usd.estimated_minor, usd.secured_minor, usd.gap_minor, usd.surplus_minor) == (
        0,
        5_000_000,
        0,
        5_000_000,
    )
    support = film_committed_support(film=agreed.film)
    assert eur.committed_minor == support.in_kind.get("EUR", 0) + support.cash.get("EUR", 0)


def test_the_film_page_says_one_secured_amount(agreed: World) -> None:
    html = (
        logged_in_client(agreed.pro)
        .get(reverse("festival:film-detail", args=[agreed.film.pk]))
        .content.decode()
    )
    text = _text(html)
    assert "secured EUR 10,500.00" in text and "Gap: EUR 4,500.00" in text
    assert "secured EUR 5,000.00" not in text  # the producers' record alone is no longer called secured
    assert "EUR 5,500.00" in text  # the committed support, in kind, formatted the same way
    assert "EUR 5,000.00 recorded by the producers and EUR 5,500.00 committed by agreements" in text


def test_the_film_list_says_the_same(agreed: World) -> None:
    text = _text(logged_in_client(agreed.pro).get(reverse("festival:film-list")).content.decode())
    assert "secured EUR 10,500.00, gap EUR 4,500.00" in text
    assert "secured USD 50,000.00, gap USD 0.00" in text


def test_the_api_says_the_same(agreed: World) -> None:
    film = api_client(agreed.pro).get(f"/api/films/{agreed.film.pk}/").json()
    financing = {line["currency"]: line for line in film["financing"]}
    assert financing["EUR"]["secured_minor"] == 1_050_000 and financing["EUR"]["gap_minor"] == 450_000
    assert financing["USD"]["secured_minor"] == 5_000_000 and financing["USD"]["gap_minor"] == 0


def test_without_agreements_secured_is_the_producers_record(world: World) -> None:
    [eur] = film_financing(film=world.film)
    assert (eur.secured_minor, eur.committed_minor, eur.gap_minor) == (500_000, 0, 1_000_000)


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_money_has_one_formatter(language: str) -> None:
    with translation.override(language):
        expected = core_money.format_money(123_456_789, "EUR")
        assert money(123_456_789, "EUR") == expected
        assert format_money(Money(amount_minor=123_456_789, currency="EUR")) == expected
        assert core_money.format_money(1_500, "JPY") == format_money(
            Money(amount_minor=1_500, currency="JPY")
        )
    assert expected.startswith("EUR ") and "1" in expected
