"""parse_terms: every offer type parses a realistic example, and every kind of bad input names its field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from offers.terms import (
    SCHEMAS,
    CompletionFundTerms,
    DistributionTerms,
    PostProductionTerms,
    SalesTerms,
    TermsInvalid,
    parse_terms,
)
from offers.terms.common import Money
from offers.terms.territory_groups import WORLDWIDE
from offers.terms.types import Medium, RecoupmentPosition, ServiceCategory, ServiceUnit
from tests.offers.terms import examples
from tests.offers.terms.examples import DELETE, Data, changed


def refusal(data: Any) -> list[dict[str, str]]:
    with pytest.raises(TermsInvalid) as caught:
        parse_terms(data)
    assert caught.value.errors, "TermsInvalid without errors"
    return [dict(error) for error in caught.value.errors]


def refused_fields(data: Any) -> list[str]:
    return [error["field"] for error in refusal(data)]


# --- the realistic examples ---------------------------------------------------------------------------


def test_post_production_example() -> None:
    terms = parse_terms(examples.post_production())
    assert isinstance(terms, PostProductionTerms)
    follow_up, subtitles = terms.service_lines
    assert (follow_up.category, follow_up.quantity, follow_up.unit) == (
        ServiceCategory.OTHER,
        4,
        ServiceUnit.WEEK,
    )
    assert follow_up.value == Money(amount_minor=430_000, currency="EUR")
    assert follow_up.description == "post-production follow-up"
    assert subtitles.languages == ("en", "es", "fr")  # "spa" is stored as "es", the set sorted
    assert terms.total_value == Money(amount_minor=550_000, currency="EUR")
    assert terms.time_window.start == dt.date(2026, 3, 2)
    assert terms.facility.city == "Bogotá" and terms.facility.country == "CO"
    assert terms.consideration.co_production_share_bp == 250
    assert terms.consideration.rights_territories is None
    assert terms.signature_deadline == dt.date(2026, 2, 15)


def test_completion_fund_example() -> None:
    terms = parse_terms(examples.completion_fund())
    assert isinstance(terms, CompletionFundTerms)
    assert terms.amount == Money(amount_minor=3_000_000, currency="EUR")
    assert [tranche.share_bp for tranche in terms.tranches] == [7500, 2500]
    assert [tranche.trigger for tranche in terms.tranches] == ["on_signature", "on_delivery"]
    assert terms.tranches[1].description == "delivery with proof of expenses"
    assert terms.tranche_amounts == (
        Money(amount_minor=2_250_000, currency="EUR"),
        Money(amount_minor=750_000, currency="EUR"),
    )
    assert terms.recoupment_position is RecoupmentPosition.PARI_PASSU
    assert terms.report_deadlines == (dt.date(2026, 6, 30), dt.date(2026, 12, 31))


def test_distribution_example() -> None:
    terms = parse_terms(examples.distribution())
    assert isinstance(terms, DistributionTerms)
    assert terms.territories.countries() == {"ES"}
    assert terms.media == (Medium.SVOD, Medium.THEATRICAL, Medium.TVOD)
    assert terms.exclusive is True
    assert (terms.term.start, terms.term.years, terms.term.end) == (dt.date(2026, 6, 1), 7, None)
    assert terms.minimum_guarantee == Money(amount_minor=2_000_000, currency="EUR")
    assert [m.amount_minor for m in terms.instalment_amounts] == [1_000_000, 1_000_000]
    assert terms.payment_schedule[1].date == dt.date(2026, 9, 1)
    assert (terms.distributor_share_bp, terms.distribution_fee_bp) == (5000, 1250)
    assert terms.holdbacks[0].media is Medium.SVOD and terms.holdbacks[0].days == 120
    assert terms.release is not None and terms.release.min_screens == 25
    assert terms.minimum_pa_spend.amount_minor == 1_500_000


def test_sales_example() -> None:
    terms = parse_terms(examples.sales())
    assert isinstance(terms, SalesTerms)
    assert terms.territories.countries() == WORLDWIDE - {"FR", "ES"}
    assert terms.commission_bp == 1500
    assert terms.term_years == 10
    assert terms.minimum_guarantee == Money(amount_minor=5_000_000, currency="USD")
    assert terms.minimum_prices[1].price == Money(amount_minor=3_000_000, currency="JPY")


def test_distribution_term_can_end_on_a_date_and_zero_mg_needs_no_schedule() -> None:
    data = changed(examples.distribution(), "term", {"start": "2026-06-01", "end": "2031-05-31"})
    data = changed(data, "minimum_guarantee", {"amount_minor": 0, "currency": "EUR"})
    data = changed(data, "payment_schedule", [])
    terms = parse_terms(data)
    assert isinstance(terms, DistributionTerms)
    assert terms.term.end == dt.date(2031, 5, 31)
    assert terms.instalment_amounts == ()


def test_optional_fields_may_be_left_out() -> None:
    data = examples.sales()
    del data["minimum_guarantee"], data["minimum_prices"]
    terms = parse_terms(data)
    assert isinstance(terms, SalesTerms)
    assert terms.minimum_guarantee is None and terms.minimum_prices == ()


def test_terms_are_immutable() -> None:
    terms = parse_terms(examples.completion_fund())
    with pytest.raises(Exception, match="frozen"):
        terms.amount = Money(amount_minor=1, currency="EUR")  # type: ignore[misc]


# --- bad input: each names the right field --------------------------------------------------------------

Case = tuple[Callable[[], Data], str, Any, str]

CASES: dict[str, Case] = {
    # money
    "unknown currency": (examples.completion_fund, "amount.currency", "EUX", "amount.currency"),
    "unpayable currency": (examples.completion_fund, "amount.currency", "XXX", "amount.currency"),
    "negative money": (examples.completion_fund, "amount.amount_minor", -100, "amount.amount_minor"),
    "fractional minor units": (
        examples.completion_fund,
        "amount.amount_minor",
        3_000_000.5,
        "amount.amount_minor",
    ),
    "amount as a string": (examples.completion_fund, "amount.amount_minor", "3000000", "amount.amount_minor"),
    "unsafe integer": (examples.completion_fund, "amount.amount_minor", 2**53, "amount.amount_minor"),
    "zero completion fund": (examples.completion_fund, "amount.amount_minor", 0, "amount.amount_minor"),
    "mixed currencies": (
        examples.post_production,
        "service_lines.1.value.currency",
        "USD",
        "service_lines.1.value.currency",
    ),
    # territories
    "unknown country": (examples.distribution, "territories.include", ["ES", "ZZ"], "territories.include.1"),
    "unknown facility country": (examples.post_production, "facility.country", "XX", "facility.country"),
    "empty territories": (examples.distribution, "territories.include", [], "territories.include"),
    "exclusion not in set": (
        examples.sales,
        "territories",
        {"include": ["LATIN_AMERICA"], "exclude": ["FR"]},
        "territories.exclude",
    ),
    "nothing left": (examples.sales, "territories", {"include": ["FR"], "exclude": ["FR"]}, "territories"),
    "minimum price outside the deal": (
        examples.sales,
        "minimum_prices.1.territories.include",
        ["FR"],
        "minimum_prices.1.territories",
    ),
    "minimum prices overlapping": (
        examples.sales,
        "minimum_prices.1.territories.include",
        ["MX"],
        "minimum_prices.1.territories",
    ),
    # percentages and schedules
    "tranches not summing to 100 %": (examples.completion_fund, "tranches.1.share_bp", 2000, "tranches"),
    "tranches above 100 %": (examples.completion_fund, "tranches.1.share_bp", 3000, "tranches"),
    "zero tranche": (examples.completion_fund, "tranches.1.share_bp", 0, "tranches.1.share_bp"),
    "percentage as a float": (examples.completion_fund, "tranches.0.share_bp", 75.0, "tranches.0.share_bp"),
    "no tranches": (examples.completion_fund, "tranches", [], "tranches"),
    "unknown trigger": (examples.completion_fund, "tranches.0.trigger", "on_premiere", "tranches.0.trigger"),
    "on delivery without description": (
        examples.completion_fund,
        "tranches.1.description",
        DELETE,
        "tranches.1.description",
    ),
    "on date without date": (
        examples.distribution,
        "payment_schedule.1.date",
        DELETE,
        "payment_schedule.1.date",
    ),
    "date with on signature": (
        examples.distribution,
        "payment_schedule.0.date",
        "2026-07-01",
        "payment_schedule.0.date",
    ),
    "schedule not summing": (examples.distribution, "payment_schedule.1.share_bp", 4000, "payment_schedule"),
    "mg without schedule": (examples.distribution, "payment_schedule", [], "payment_schedule"),
    "commission above 100 %": (examples.sales, "commission_bp", 10_001, "commission_bp"),
    "negative fee": (examples.distribution, "distribution_fee_bp", -1, "distribution_fee_bp"),
    # dates
    "start after end": (examples.post_production, "time_window.start", "2026-04-01", "time_window.end"),
    "release window backwards": (
        examples.distribution,
        "release.window.end",
        "2026-08-01",
        "release.window.end",
    ),
    "term ends before it starts": (
        examples.distribution,
        "term",
        {"start": "2026-06-01", "end": "2026-05-01"},
        "term.end",
    ),
    "term with years and end": (
        examples.distribution,
        "term",
        {"start": "2026-06-01", "years": 3, "end": "2029-05-31"},
        "term",
    ),
    "impossible date": (examples.post_production, "signature_deadline", "2026-02-30", "signature_deadline"),
    "date and time": (
        examples.post_production,
        "signature_deadline",
        "2026-02-15T12:00",
        "signature_deadline",
    ),
    "report deadline not a date": (
        examples.completion_fund,
        "report_deadlines.1",
        "end of year",
        "report_deadlines.1",
    ),
    # service lines
    "subtitling without languages": (
        examples.post_production,
        "service_lines.1.languages",
        [],
        "service_lines.1.languages",
    ),
    "languages on colour grading": (
        examples.post_production,
        "service_lines.1.category",
        "colour_grading",
        "service_lines.1.languages",
    ),
    "unknown language": (
        examples.post_production,
        "service_lines.1.languages",
        ["es", "zz"],
        "service_lines.1.languages.1",
    ),
    "other without description": (
        examples.post_production,
        "service_lines.0.description",
        DELETE,
        "service_lines.0.description",
    ),
    "unknown category": (
        examples.post_production,
        "service_lines.0.category",
        "catering",
        "service_lines.0.category",
    ),
    "unknown unit": (examples.post_production, "service_lines.0.unit", "month", "service_lines.0.unit"),
    "zero quantity": (examples.post_production, "service_lines.0.quantity", 0, "service_lines.0.quantity"),
    "no service lines": (examples.post_production, "service_lines", [], "service_lines"),
    "credit as a string": (examples.post_production, "consideration.credit", "yes", "consideration.credit"),
    "empty deliverable": (examples.post_production, "deliverables.1", "  ", "deliverables.1"),
    # distribution specifics
    "no media": (examples.distribution, "media", [], "media"),
    "unknown medium": (examples.distribution, "media", ["theatrical", "cinema"], "media.1"),
    "holdback twice on one medium": (
        examples.distribution,
        "holdbacks",
        [{"media": "svod", "days": 120}, {"media": "svod", "days": 60}],
        "holdbacks.1.media",
    ),
    "sales term too long": (examples.sales, "term_years", 26, "term_years"),
    # shape
    "unknown field": (examples.sales, "surprise", 1, "surprise"),
    "missing field": (examples.completion_fund, "recoupment_position", DELETE, "recoupment_position"),
    "unknown recoupment position": (
        examples.completion_fund,
        "recoupment_position",
        "last",
        "recoupment_position",
    ),
    "unknown kind": (examples.sales, "kind", "loan", "kind"),
    "missing kind": (examples.sales, "kind", DELETE, "kind"),
    "unknown version": (examples.sales, "schema_version", 2, "schema_version"),
    "version as a string": (examples.sales, "schema_version", "1", "schema_version"),
    "version as a bool": (examples.sales, "schema_version", True, "schema_version"),
    "missing version": (examples.sales, "schema_version", DELETE, "schema_version"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_names_its_field(case: Case) -> None:
    example, path, value, field = case
    data = changed(example(), path, value)
    errors = refusal(data)
    assert [error["field"] for error in errors] == [field], errors
    assert all(error["message"] for error in errors)


def test_every_example_is_valid_before_it_is_broken() -> None:
    """The cases above break one thing each: the examples they start from must be valid."""
    for example in examples.EXAMPLES.values():
        parse_terms(example())


def test_several_problems_are_reported_together() -> None:
    data = changed(examples.completion_fund(), "amount.currency", "EUX")
    data = changed(data, "tranches.0.trigger", "on_date")
    data = changed(data, "recoupment_position", "last")
    assert refused_fields(data) == ["amount.currency", "tranches.0.date", "recoupment_position"]


def test_mixed_currencies_names_every_line_off_currency() -> None:
    data = examples.post_production()
    data["service_lines"].append(
        {
            "category": "vfx",
            "quantity": 3,
            "unit": "day",
            "value": {"amount_minor": 90_000, "currency": "USD"},
        }
    )
    data = changed(data, "service_lines.1.value.currency", "COP")
    assert refused_fields(data) == ["service_lines.1.value.currency", "service_lines.2.value.currency"]


def test_the_messages_are_clear() -> None:
    [unknown_kind] = refusal(changed(examples.sales(), "kind", "loan"))
    assert "loan" in unknown_kind["message"] and "completion_fund" in unknown_kind["message"]
    [unknown_version] = refusal(changed(examples.sales(), "schema_version", 2))
    assert "2" in unknown_version["message"] and "known: 1" in unknown_version["message"]
    [shares] = refusal(changed(examples.completion_fund(), "tranches.1.share_bp", 2000))
    assert "95 %" in shares["message"]
    [fraction] = refusal(changed(examples.completion_fund(), "amount.amount_minor", 3_000_000.5))
    assert "whole number of minor units" in fraction["message"]
    [excluded] = refusal(changed(examples.sales(), "territories.exclude", ["FR", "ES", "AQ", "ZZ"]))
    assert excluded["field"] == "territories.exclude.3" and "ZZ" in excluded["message"]


@pytest.mark.parametrize("data", [None, [], "terms", 42])
def test_not_an_object_is_refused(data: Any) -> None:
    assert refused_fields(data) == [""]


def test_invalid_terms_error_reads_well() -> None:
    with pytest.raises(TermsInvalid, match=r"Tranches: The shares add up to 95 %"):
        parse_terms(changed(examples.completion_fund(), "tranches.1.share_bp", 2000))


def test_every_kind_has_a_version_1_schema_naming_itself() -> None:
    for kind, versions in SCHEMAS.items():
        schema = versions[1]
        assert schema.model_fields["kind"].default == kind
        assert schema.model_fields["schema_version"].default == 1
        parsed = parse_terms(examples.EXAMPLES[kind]())
        assert type(parsed) is schema
