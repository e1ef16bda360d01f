"""The shared value types: money, exact splits, territories and their groups, languages, dates."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pycountry
import pytest
from pydantic import ValidationError

from offers.terms.common import (
    DateRange,
    Instalment,
    Money,
    Territories,
    basis_points_to_decimal,
    currency_exponent,
    split_by_shares,
)
from offers.terms.errors import TermsInvalid
from offers.terms.render import format_money, format_percent
from offers.terms.territory_groups import (
    EU,
    EUROPE,
    LATIN_AMERICA,
    NORTH_AMERICA,
    TERRITORY_GROUPS,
    WORLDWIDE,
)


def fields(exc: ValidationError) -> list[str]:
    return [error["field"] for error in TermsInvalid.from_validation_error(exc).errors]


# --- money --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minor", "exponent", "decimal", "formatted"),
    [
        ("EUR", 430_000, 2, Decimal("4300.00"), "EUR 4,300.00"),
        ("JPY", 1_500, 0, Decimal("1500"), "JPY 1,500"),
        ("CLP", 2_500_000, 0, Decimal("2500000"), "CLP 2,500,000"),
        ("KWD", 1_250, 3, Decimal("1.250"), "KWD 1.250"),
        ("CLF", 12_345, 4, Decimal("1.2345"), "CLF 1.2345"),
        ("ARS", 5, 2, Decimal("0.05"), "ARS 0.05"),
    ],
)
def test_money_uses_the_currency_exponent(
    currency: str, minor: int, exponent: int, decimal: Decimal, formatted: str
) -> None:
    money = Money(amount_minor=minor, currency=currency)
    assert money.exponent == currency_exponent(currency) == exponent
    assert money.amount == decimal
    assert str(money.amount) == str(decimal)  # the exponent shows: 4300.00, not 4300
    assert format_money(money) == formatted  # the one formatter (core.money), in English


def test_currency_codes_are_stored_upper_case() -> None:
    assert Money(amount_minor=1, currency="eur").currency == "EUR"


@pytest.mark.parametrize("currency", ["EUX", "EU", "EURO", "", "XXX", "XTS", "XAU", "€", 978])
def test_unknown_or_unpayable_currencies_are_refused(currency: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount_minor=100, currency=currency)
    assert fields(caught.value) == ["currency"]


@pytest.mark.parametrize("amount", [-1, 12.5, 12.0, "1200", True, None, 2**53])
def test_amounts_are_whole_non_negative_safe_integers(amount: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount_minor=amount, currency="EUR")
    assert fields(caught.value) == ["amount_minor"]


def test_the_largest_safe_integer_is_accepted() -> None:
    assert Money(amount_minor=2**53 - 1, currency="EUR").amount_minor == 2**53 - 1


def test_money_total_refuses_mixed_currencies() -> None:
    eur, usd = Money(amount_minor=100, currency="EUR"), Money(amount_minor=100, currency="USD")
    assert Money.total([eur, eur]) == Money(amount_minor=200, currency="EUR")
    with pytest.raises(ValueError, match="currencies"):
        Money.total([eur, usd])


# --- exact splits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shares", "expected"),
    [
        (3_000_000, [7500, 2500], [2_250_000, 750_000]),
        (100, [3334, 3333, 3333], [34, 33, 33]),
        (100, [3333, 3333, 3334], [33, 33, 34]),
        (1, [5000, 5000], [1, 0]),  # a tie goes to the earlier part
        (2, [3333, 3333, 3334], [1, 0, 1]),  # remainders 6666, 6666, 6668: the largest first, then the tie
        (0, [2500, 7500], [0, 0]),
        (999, [10000], [999]),
    ],
)
def test_split_by_largest_remainder(amount: int, shares: list[int], expected: list[int]) -> None:
    parts = split_by_shares(Money(amount_minor=amount, currency="EUR"), shares)
    assert [part.amount_minor for part in parts] == expected
    assert {part.currency for part in parts} == {"EUR"}


def test_split_parts_always_add_up_exactly_and_stay_within_one_unit_of_the_exact_share() -> None:
    rng = random.Random(20260201)
    for _ in range(3000):
        amount = rng.choice([rng.randrange(0, 100), rng.randrange(0, 10**7), rng.randrange(0, 2**53)])
        count = rng.randint(1, 8)
        cuts = sorted(rng.sample(range(1, 10_000), count - 1))
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
        parts = [
            part.amount_minor for part in split_by_shares(Money(amount_minor=amount, currency="CLP"), shares)
        ]
        assert sum(parts) == amount, (amount, shares, parts)
        for part, share in zip(parts, shares, strict=True):  # |part - amount * share / 10000| < 1
            assert abs(part * 10_000 - amount * share) < 10_000, (amount, shares, parts)


def test_split_refuses_shares_that_do_not_make_100_percent() -> None:
    with pytest.raises(ValueError, match="add up"):
        split_by_shares(Money(amount_minor=100, currency="EUR"), [5000, 4000])


# --- percentages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis_points", "text"),
    [
        (1250, "12.5 %"),
        (7500, "75 %"),
        (1234, "12.34 %"),
        (1, "0.01 %"),
        (10, "0.1 %"),
        (10000, "100 %"),
        (0, "0 %"),
    ],
)
def test_basis_points_print_as_percentages(basis_points: int, text: str) -> None:
    assert format_percent(basis_points) == text  # the one percentage formatter, in English
    assert basis_points_to_decimal(basis_points) * 100 == basis_points


@pytest.mark.parametrize("share", [0, -5, 10001, 75.0, "7500"])
def test_instalment_shares_are_whole_basis_points_between_1_and_10000(share: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Instalment(share_bp=share, trigger="on_signature")
    assert fields(caught.value) == ["share_bp"]


# --- dates --------------------------------------------------------------------------------------------


def test_date_range_accepts_iso_strings_and_dates_and_one_day() -> None:
    window = DateRange.model_validate({"start": "2026-03-02", "end": dt.date(2026, 3, 2)})
    assert window.start == window.end == dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-04-01", "2026-03-01", "end"),  # start after end
        ("2026-02-30", "2026-03-01", "start"),  # no such day
        ("20260301", "2026-03-01", "start"),  # not YYYY-MM-DD
        ("2026-W09-1", "2026-03-01", "start"),  # an ISO week date
        ("2026-03-01T10:00:00", "2026-03-01", "start"),
        (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "2026-03-01", "start"),
        (1767225600, "2026-03-01", "start"),  # a timestamp
    ],
)
def test_date_range_refuses_bad_dates(start: Any, end: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DateRange.model_validate({"start": start, "end": end})
    assert fields(caught.value) == [field]


# --- territories --------------------------------------------------------------------------------------


def test_every_group_member_is_an_iso_country_code() -> None:
    known = {country.alpha_2 for country in pycountry.countries}
    for name, members in TERRITORY_GROUPS.items():
        assert members, name
        assert members <= known, (name, sorted(members - known))


def test_groups_have_the_members_they_promise() -> None:
    assert len(EU) == 27
    assert EU <= EUROPE
    assert {
        "AR",
        "BO",
        "BR",
        "CL",
        "CO",
        "CR",
        "CU",
        "DO",
        "EC",
        "SV",
        "GT",
        "HN",
        "MX",
        "NI",
        "PA",
    } <= LATIN_AMERICA
    assert {"PY", "PE", "PR", "UY", "VE"} <= LATIN_AMERICA
    assert not LATIN_AMERICA & {"ES", "PT", "US", "CA", "GF"}
    assert {"US", "CA"} <= NORTH_AMERICA and "MX" not in NORTH_AMERICA
    assert {"GB", "CH", "NO", "UA"} <= EUROPE and not EUROPE & {"TR", "US"}
    assert len(WORLDWIDE) == len(pycountry.countries)


def test_worldwide_excluding_france_and_spain() -> None:
    territories = Territories.model_validate({"include": ["WORLDWIDE"], "exclude": ["FR", "ES"]})
    countries = territories.countries()
    assert "FR" not in countries and "ES" not in countries
    assert {"AR", "US", "JP", "DE"} <= countries
    assert len(countries) == len(WORLDWIDE) - 2


def test_groups_and_countries_combine_and_a_group_can_be_excluded() -> None:
    territories = Territories.model_validate(
        {"include": ["latin_america", "es", "EUROPE"], "exclude": ["EU"]}
    )
    assert territories.countries() == (LATIN_AMERICA | EUROPE | {"ES"}) - EU
    assert "ES" not in territories.countries()  # ES is in the EU, excluded after being included


def test_territories_are_stored_sorted_upper_case_and_once() -> None:
    one = Territories.model_validate({"include": ["fr", "ES", "FR"], "exclude": []})
    other = Territories.model_validate({"include": ["ES", "FR"]})
    assert one == other
    assert one.include == ("ES", "FR")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"include": ["ES", "ZZ"]}, "include.1", "ZZ"),
        ({"include": ["MARS"]}, "include.0", "MARS"),
        ({"include": ["ESP"]}, "include.0", "ESP"),
        ({"include": ["FR"], "exclude": ["XK"]}, "exclude.0", "XK"),  # Kosovo has no ISO 3166-1 code
        ({"include": []}, "include", "at least one"),
        ({"include": ["LATIN_AMERICA"], "exclude": ["FR"]}, "exclude", "Excluded but not included: FR"),
        ({"include": ["EU"], "exclude": ["EUROPE"]}, "exclude", "Excluded but not included: EUROPE"),
        ({"include": ["ES", "FR"], "exclude": ["FR", "ES"]}, "", "no country"),
    ],
)
def test_bad_territories_are_refused(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Territories.model_validate(data)
    [error] = TermsInvalid.from_validation_error(caught.value).errors
    assert error["field"] == field
    assert message in error["message"]


# --- languages ----------------------------------------------------------------------------------------


def _languages(codes: list[Any]) -> tuple[str, ...]:
    from offers.terms.types import ServiceLine

    line = ServiceLine.model_validate(
        {
            "category": "subtitling",
            "quantity": 1,
            "unit": "lump_sum",
            "value": {"amount_minor": 1, "currency": "EUR"},
            "languages": codes,
        }
    )
    return line.languages


def test_languages_accept_iso_639_1_and_639_3_and_store_one_code_per_language() -> None:
    assert _languages(["fr", "EN", "spa", "es"]) == ("en", "es", "fr")  # spa is es
    assert _languages(["quz", "gn", "ay"]) == ("ay", "gn", "quz")  # Cusco Quechua has no 639-1 code


@pytest.mark.parametrize(
    ("codes", "field"), [(["es", "zz"], "languages.1"), (["xyz1"], "languages.0"), ([7], "languages.0")]
)
def test_unknown_languages_are_refused(codes: list[Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _languages(codes)
    assert fields(caught.value) == [field]
