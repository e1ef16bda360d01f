"""render_terms: label/value lines in English, Spanish and French.

The es/fr catalogues for these labels come later, so for es/fr the tests check the structure and what
is already localized (numbers, dates, country and language names), not the wording of the labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation

from offers.terms import parse_terms, render_terms
from offers.terms.common import Trigger
from offers.terms.render import (
    CATEGORY_LABELS,
    GROUP_LABELS,
    KIND_LABELS,
    MEDIUM_LABELS,
    RECOUPMENT_LABELS,
    UNIT_QUANTITIES,
)
from offers.terms.territory_groups import TERRITORY_GROUPS
from offers.terms.types import SCHEMAS, Medium, RecoupmentPosition, ServiceCategory, ServiceUnit
from tests.offers.terms import examples
from tests.offers.terms.examples import changed

NBSP_OR_SPACE = "[\u00a0\u202f .]"  # a thousands separator, whichever the locale uses


def digits(text: str) -> str:
    return "".join(re.findall(r"\d", text))


def render(kind: str, language: str, **edits: Any) -> list[tuple[str, str]]:
    data = examples.EXAMPLES[kind]()
    for path, value in edits.items():
        data = changed(data, path.replace("__", "."), value)
    return render_terms(parse_terms(data), language)


# --- English reads well ---------------------------------------------------------------------------------


def test_completion_fund_in_english() -> None:
    assert render("completion_fund", "en") == [
        ("Offer type", "Completion fund"),
        ("Amount", "EUR 30,000.00"),
        ("Tranche 1", "75 % (EUR 22,500.00) on signature"),
        ("Tranche 2", "25 % (EUR 7,500.00) on delivery: delivery with proof of expenses"),
        ("Condition 1", "World premiere at an A-list festival"),
        ("Condition 2", "Final cut approved by the director"),
        ("Recoupment position", "Pari passu"),
        ("Credit obligations", "Logo in the opening credits and on the poster"),
        ("Report deadlines", "June 30, 2026; Dec. 31, 2026"),
    ]


def test_post_production_in_english() -> None:
    lines = render("post_production", "en", consideration__rights_territories={"include": ["LATIN_AMERICA"]})
    assert lines == [
        ("Offer type", "Post-production services in kind"),
        ("Provider organisation", "Organisation #42"),
        ("Service 1", "Other service: post-production follow-up — 4 weeks — EUR 4,300.00"),
        ("Service 2", "Subtitling (English, French, Spanish) — 1 lump sum — EUR 1,200.00"),
        ("Total value", "EUR 5,500.00"),
        ("Facility", "Bogotá, Colombia"),
        ("Time window", "From March 2, 2026 to March 27, 2026"),
        ("Deliverables", "DCP 2K; ProRes 4444 master; SRT subtitle files"),
        ("Credit", "Yes"),
        ("Logo", "Yes"),
        ("Co-production share", "2.5 %"),
        ("Rights in territories", "Latin America"),
        ("Signature deadline", "Feb. 15, 2026"),
    ]


def test_distribution_in_english() -> None:
    assert render("distribution", "en") == [
        ("Offer type", "Distribution"),
        ("Territories", "Spain"),
        ("Media and rights", "Theatrical, SVOD, TVOD"),
        ("Exclusivity", "Exclusive"),
        ("Term", "7 years from June 1, 2026"),
        ("Minimum guarantee", "EUR 20,000.00"),
        ("Instalment 1", "50 % (EUR 10,000.00) on signature"),
        ("Instalment 2", "50 % (EUR 10,000.00) on Sept. 1, 2026"),
        ("Distributor's share of revenue", "50 %"),
        ("Distribution fee", "12.5 %"),
        ("Holdback 1", "SVOD: 120 days"),
        ("Minimum screens", "25"),
        ("Release window", "From Sept. 1, 2026 to Dec. 31, 2026"),
        ("Minimum P&A spend", "EUR 15,000.00"),
    ]


def test_sales_in_english() -> None:
    assert render("sales", "en") == [
        ("Offer type", "Sales and representation"),
        ("Territories", "Worldwide, excluding France, Spain"),
        ("Commission", "15 %"),
        ("Expenses cap", "USD 40,000.00"),
        ("Term", "10 years"),
        ("Minimum guarantee", "USD 50,000.00"),
        ("Minimum price 1", "Latin America: USD 30,000.00"),
        ("Minimum price 2", "Japan: JPY 3,000,000"),
    ]


def test_singulars_and_alternatives_in_english() -> None:
    lines = dict(
        render(
            "distribution",
            "en",
            term={"start": "2026-06-01", "years": 1},
            exclusive=False,
            holdbacks=[{"media": "free_tv", "days": 1}],
            distribution_fee_bp=1234,
        )
    )
    assert lines["Term"] == "1 year from June 1, 2026"
    assert lines["Exclusivity"] == "Non-exclusive"
    assert lines["Holdback 1"] == "Free TV: 1 day"
    assert lines["Distribution fee"] == "12.34 %"

    ended = dict(render("distribution", "en", term={"start": "2026-06-01", "end": "2028-05-31"}))
    assert ended["Term"] == "From June 1, 2026 to May 31, 2028"

    sales = dict(render("sales", "en", term_years=1, minimum_guarantee=None))
    assert sales["Term"] == "1 year"
    assert "Minimum guarantee" not in sales

    post = dict(
        render("post_production", "en", consideration={"credit": False, "logo": False}, deliverables=[])
    )
    assert (post["Credit"], post["Logo"], post["Deliverables"]) == ("No", "No", "None")
    assert "Co-production share" not in post and "Rights in territories" not in post


# --- Spanish and French: structure, and what is already localized ---------------------------------------


@pytest.mark.parametrize("language", ["es", "fr"])
@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_spanish_and_french_have_the_english_structure(kind: str, language: str) -> None:
    english, other = render(kind, "en"), render(kind, language)
    assert len(other) == len(english)
    for (en_label, en_value), (label, value) in zip(english, other, strict=True):
        assert isinstance(label, str) and label.strip(), (en_label, label)
        assert isinstance(value, str) and value.strip(), (en_label, value)
        # the same numbers, amounts and dates, whatever the separators and month names
        assert digits(label) == digits(en_label), (en_label, label)
        assert digits(value) == digits(en_value), (en_value, value)


@pytest.mark.parametrize(
    ("language", "amount", "percent", "spain", "month", "spanish"),
    [
        ("es", rf"EUR 30{NBSP_OR_SPACE}000,00", "12,5 %", "España", "junio", "Español"),
        ("fr", rf"EUR 30{NBSP_OR_SPACE}000,00", "12,5 %", "Espagne", "juin", "Espagnol"),
    ],
)
def test_numbers_dates_and_names_are_localized(
    language: str, amount: str, percent: str, spain: str, month: str, spanish: str
) -> None:
    fund = render("completion_fund", language)
    assert re.fullmatch(amount, fund[1][1]), fund[1]

    distribution = render("distribution", language)
    values = [value for _, value in distribution]
    assert values[1] == spain  # territories
    assert percent in values
    assert month in values[4]  # the term starts on 1 June 2026

    post = render("post_production", language)
    assert spanish in post[3][1]  # the subtitling languages

    sales = render("sales", language)
    assert re.search(rf"JPY 3{NBSP_OR_SPACE}000{NBSP_OR_SPACE}000$", sales[-1][1]), sales[-1]


def test_rendering_leaves_the_active_language_alone() -> None:
    with translation.override("fr"):
        render("sales", "es")
        assert translation.get_language() == "fr"


@pytest.mark.parametrize("language", ["de", "pt", "", "EN"])
def test_other_languages_are_refused(language: str) -> None:
    with pytest.raises(ValueError, match="es, fr, en"):
        render("sales", language)


# --- every label is translatable --------------------------------------------------------------------------


@pytest.fixture
def marked_gettext(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wraps every message Django's gettext and ngettext return (lazy ones too) in ‹ ›."""
    trans: Any = translation._trans
    gettext: Callable[[str], str] = trans.gettext
    ngettext: Callable[[str, str, int], str] = trans.ngettext
    monkeypatch.setattr(trans, "gettext", lambda message: f"‹{gettext(message)}›")
    monkeypatch.setattr(trans, "ngettext", lambda one, many, n: f"‹{ngettext(one, many, n)}›")
    yield


@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_every_label_goes_through_gettext(kind: str, marked_gettext: None) -> None:
    lines = render(kind, "en")
    assert lines[0][0] == "‹Offer type›"
    for label, _ in lines:
        assert label.startswith("‹") and label.endswith("›"), label
    offer_type = lines[0][1]
    assert offer_type.startswith("‹") and offer_type.endswith("›"), offer_type


def test_every_choice_has_a_label() -> None:
    assert set(KIND_LABELS) == set(SCHEMAS)
    assert set(GROUP_LABELS) == set(TERRITORY_GROUPS)
    assert set(CATEGORY_LABELS) == set(ServiceCategory)
    assert set(UNIT_QUANTITIES) == set(ServiceUnit)
    assert set(MEDIUM_LABELS) == set(Medium)
    assert set(RECOUPMENT_LABELS) == set(RecoupmentPosition)
    assert {trigger.value for trigger in Trigger} == {"on_signature", "on_date", "on_delivery"}


def test_the_provider_is_named_when_its_name_is_known() -> None:
    terms = parse_terms(examples.post_production())
    assert ("Provider organisation", "Organisation #42") in render_terms(terms, "en")
    named = render_terms(terms, "es", organisation_names={42: "Ibaia Post"})
    assert ("Organización proveedora", "Ibaia Post") in named
