"""Every refusal of terms names its field as the form labels it, in the reader's language, and never
passes pydantic's own English text through: for every type, every field, every kind of bad value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from offers.selectors.offers import terms_form_schema
from offers.terms import SCHEMAS, TermsInvalid, parse_terms
from offers.terms import errors as errors_module
from offers.terms.labels import FIELD_LABELS, ROW_LABELS, field_label, split_path
from tests.offers.terms import examples
from tests.offers.terms.examples import DELETE, changed

# What pydantic writes when its message leaks through (its wording as of pydantic 2).
PYDANTIC_WORDING = re.compile(
    r"Input should|Field required|Extra inputs|should have at (least|most)|"
    r"Value error|Assertion failed|valid (integer|string|boolean|dictionary|tuple|list)",
    re.IGNORECASE,
)


def _refusal(data: Any) -> list[Any]:
    with pytest.raises(TermsInvalid) as caught:
        parse_terms(data)
    return list(caught.value.errors)


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    if path and path[0] not in ("kind", "schema_version"):
        yield path


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _breakages(example: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """One broken copy of ``example`` per field and per kind of fault: wrong type, out of range, empty,
    missing, and an unknown field beside it."""
    for path in _leaves(example):
        dotted = _dotted(path)
        for name, bad in (
            ("object", {"surplus_field": 1}),
            ("huge", 10**20),
            ("negative", -5),
            ("text", "not a value"),
            ("empty", ""),
            ("bool", True),
            ("float", 1.5),
        ):
            yield f"{dotted}={name}", changed(example, dotted, bad)
        yield f"{dotted} missing", changed(example, dotted, DELETE)
        parent = path[:-1]
        if isinstance(path[-1], str):
            yield f"{dotted} sibling", changed(example, _dotted((*parent, "surplus_field")), 1)


CASES = [
    pytest.param(example, broken, id=f"{kind}:{name}")
    for kind, example in examples.EXAMPLES.items()
    for name, broken in _breakages(example())
]


def _well_formed(error: dict[str, Any]) -> None:
    assert set(error) >= {"field", "label", "code", "message"}, error
    assert not PYDANTIC_WORDING.search(error["message"]), error
    assert error["label"] and error["message"].startswith(error["label"] + ": "), error
    for part in split_path(error["field"]):
        if isinstance(part, str) and part != "surplus_field":
            assert part in FIELD_LABELS, f"no label for {part!r}"
    if error["field"]:
        assert error["label"] == field_label(error["field"])


@pytest.mark.parametrize(("example", "broken"), CASES)
def test_every_fault_of_every_field_is_named_by_its_label_in_plain_words(
    example: Any, broken: dict[str, Any]
) -> None:
    try:
        parse_terms(broken)
    except TermsInvalid as invalid:
        assert invalid.errors
        for error in invalid.errors:
            _well_formed(dict(error))


def test_the_case_a_new_user_hit_reads_as_the_form_labels_it() -> None:
    [error] = _refusal(changed(examples.sales(), "commission_bp", 20_000))
    assert error == {
        "field": "commission_bp",
        "label": "Commission",
        "code": "too_large",
        "message": "Commission: Give at most 100 %.",
    }


def test_a_row_is_named_by_its_number_and_a_money_amount_by_its_field() -> None:
    [share] = _refusal(changed(examples.completion_fund(), "tranches.1.share_bp", "25 %"))
    assert share["label"] == "Tranche 2 › Share"
    [amount] = _refusal(changed(examples.completion_fund(), "amount.amount_minor", -1))
    assert amount["label"] == "Amount" and amount["message"] == "Amount: Give at least 0."
    [currency] = _refusal(changed(examples.completion_fund(), "amount.currency", "XAU"))
    assert currency["message"] == "Amount › Currency: XAU is not a currency an offer can be paid in."


def test_in_spanish_the_label_is_the_catalogues_and_the_message_goes_through_gettext(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def marking_gettext(message: str) -> str:
        seen.append(message)
        return translation.gettext(message)

    monkeypatch.setattr(errors_module, "gettext", marking_gettext)
    with translation.override("es"):
        [error] = _refusal(changed(examples.sales(), "commission_bp", 20_000))
    assert error["label"] == "Comisión"  # from the Spanish catalogue, as the form's title
    assert "Give at most %(limit)s." in seen and "%(field)s: %(problem)s" in seen
    assert error["message"].startswith("Comisión: ")
    assert "100 %" in error["message"] and "Input should" not in error["message"]


def test_the_schema_titles_every_field_with_its_label_in_the_readers_language() -> None:
    with translation.override("es"):
        schema = terms_form_schema("sales")
        row_title = str(ROW_LABELS["minimum_prices"])
    assert schema is not None
    assert schema["properties"]["commission_bp"]["title"] == "Comisión"
    assert schema["properties"]["minimum_prices"]["x-row-title"] == row_title != "Minimum price"


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_every_field_of_every_schema_has_a_label(kind: str) -> None:
    schema = terms_form_schema(kind)
    assert schema is not None
    for properties in [schema["properties"], *(d.get("properties", {}) for d in schema["$defs"].values())]:
        for key, node in properties.items():
            assert key in FIELD_LABELS, f"{kind}: no label for {key!r}"
            assert node["title"] == str(FIELD_LABELS[key])


def test_whole_object_and_kind_errors_are_worded_too() -> None:
    [not_an_object] = _refusal(["terms"])
    assert not_an_object["label"] == "Terms" and not_an_object["code"] == "not_an_object"
    [kind] = _refusal(changed(examples.sales(), "kind", "loan"))
    assert kind["label"] == "Type of offer" and "loan" in kind["message"]


def test_core_text_paths_read_the_same() -> None:
    assert field_label("service_lines[1].description") == "Service 2 › Description"
    assert field_label("territories.exclude.3") == "Territories › Territories excluded"
