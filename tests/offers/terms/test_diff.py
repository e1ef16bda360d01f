"""diff_terms: a counter-offer shown as the difference from the version before."""

from __future__ import annotations

from typing import Any

import pytest

from offers.terms import Change, diff_terms, parse_terms
from tests.offers.terms import examples
from tests.offers.terms.examples import DELETE, changed


def diff(kind: str, *edits: tuple[str, Any]) -> list[Change]:
    old = examples.EXAMPLES[kind]()
    new = old
    for path, value in edits:
        new = changed(new, path, value)
    return diff_terms(parse_terms(old), parse_terms(new))


@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_equal_terms_have_no_difference(kind: str) -> None:
    data = examples.EXAMPLES[kind]()
    assert diff_terms(parse_terms(data), parse_terms(examples.EXAMPLES[kind]())) == []


def test_a_counter_offer_on_amount_and_tranches() -> None:
    changes = diff(
        "completion_fund",
        ("amount.amount_minor", 3_500_000),
        ("tranches.0.share_bp", 6000),
        ("tranches.1.share_bp", 4000),
    )
    assert changes == [
        Change("amount.amount_minor", 3_000_000, 3_500_000, "changed"),
        Change("tranches.0.share_bp", 7500, 6000, "changed"),
        Change("tranches.1.share_bp", 2500, 4000, "changed"),
    ]


def test_an_added_tranche_is_reported_whole() -> None:
    changes = diff(
        "completion_fund",
        ("tranches", [*examples.completion_fund()["tranches"][:1], {}, {}]),
        ("tranches.1", {"share_bp": 1500, "trigger": "on_delivery", "description": "rough cut"}),
        ("tranches.2", {"share_bp": 1000, "trigger": "on_date", "date": "2027-01-15"}),
    )
    assert changes == [
        Change("tranches.1.share_bp", 2500, 1500, "changed"),
        Change("tranches.1.description", "delivery with proof of expenses", "rough cut", "changed"),
        Change(
            "tranches.2",
            None,
            {"share_bp": 1000, "trigger": "on_date", "date": "2027-01-15", "description": None},
            "added",
        ),
    ]


def test_a_removed_service_line_is_reported_whole() -> None:
    data = examples.post_production()
    removed = data["service_lines"][1]
    changes = diff("post_production", ("service_lines", data["service_lines"][:1]))
    assert changes == [
        Change(
            "service_lines.1",
            {
                "category": "subtitling",
                "quantity": 1,
                "unit": "lump_sum",
                "value": removed["value"],
                "languages": ["en", "es", "fr"],
                "description": None,
            },
            None,
            "removed",
        )
    ]


def test_sets_are_compared_as_one_value() -> None:
    """Dropping Spain from the exclusions is one change, not an index shuffle in a sorted list."""
    assert diff("sales", ("territories.exclude", ["FR"])) == [
        Change("territories.exclude", ["ES", "FR"], ["FR"], "changed")
    ]
    assert diff("distribution", ("media", ["theatrical", "svod", "tvod", "avod"])) == [
        Change("media", ["svod", "theatrical", "tvod"], ["avod", "svod", "theatrical", "tvod"], "changed")
    ]


def test_optional_values_appear_and_disappear() -> None:
    changes = diff(
        "post_production",
        ("consideration.rights_territories", {"include": ["LATIN_AMERICA"]}),
        ("consideration.co_production_share_bp", DELETE),
    )
    assert changes == [
        Change("consideration.co_production_share_bp", 250, None, "removed"),
        Change(
            "consideration.rights_territories", None, {"include": ["LATIN_AMERICA"], "exclude": []}, "added"
        ),
    ]
    assert diff("distribution", ("release", None)) == [
        Change(
            "release",
            {"min_screens": 25, "window": {"start": "2026-09-01", "end": "2026-12-31"}},
            None,
            "removed",
        )
    ]


def test_dates_triggers_and_enums_come_out_json_safe() -> None:
    changes = diff(
        "distribution",
        ("payment_schedule.0", {"share_bp": 5000, "trigger": "on_date", "date": "2026-07-01"}),
        ("term.start", "2026-07-01"),
    )
    assert changes == [
        Change("term.start", "2026-06-01", "2026-07-01", "changed"),
        Change("payment_schedule.0.trigger", "on_signature", "on_date", "changed"),
        Change("payment_schedule.0.date", None, "2026-07-01", "added"),
    ]
    assert all(type(change.old) in (str, type(None)) for change in changes)


def test_terms_of_different_kinds_cannot_be_compared() -> None:
    with pytest.raises(ValueError, match="completion_fund"):
        diff_terms(parse_terms(examples.completion_fund()), parse_terms(examples.sales()))
