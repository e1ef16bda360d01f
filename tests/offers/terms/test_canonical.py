"""Canonical JSON (RFC 8785) and the terms hash: stable for equal terms, different for different ones."""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Any

import pytest

from offers.terms import canonical_json, parse_terms, terms_hash, terms_to_json
from offers.terms.common import Money
from tests.offers.terms import examples
from tests.offers.terms.examples import changed


def reversed_keys(value: Any) -> Any:
    """The same data with every object's keys in the opposite order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def independent_canonical(value: Any) -> bytes:
    """RFC 8785 for data without floats or non-BMP keys is sorted keys, no whitespace, raw UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_key_order_does_not_change_the_hash(kind: str) -> None:
    data = examples.EXAMPLES[kind]()
    shuffled = reversed_keys(data)
    assert list(shuffled) != list(data)
    assert canonical_json(parse_terms(shuffled)) == canonical_json(parse_terms(data))
    assert terms_hash(parse_terms(shuffled)) == terms_hash(parse_terms(data))


@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_hash_matches_an_independent_recomputation(kind: str) -> None:
    terms = parse_terms(examples.EXAMPLES[kind]())
    expected = hashlib.sha256(independent_canonical(terms_to_json(terms))).hexdigest()
    assert terms_hash(terms) == expected
    assert len(expected) == 64 and int(expected, 16) >= 0


def test_canonical_json_of_the_completion_fund_is_exactly_this() -> None:
    """Written out by hand: every field (defaults too), keys sorted, dates ISO, integers, no spaces."""
    terms = parse_terms(examples.completion_fund())
    expected = (
        b'{"amount":{"amount_minor":3000000,"currency":"EUR"},'
        b'"conditions":["World premiere at an A-list festival","Final cut approved by the director"],'
        b'"credit_obligations":"Logo in the opening credits and on the poster",'
        b'"kind":"completion_fund",'
        b'"recoupment_position":"pari_passu",'
        b'"report_deadlines":["2026-06-30","2026-12-31"],'
        b'"schema_version":1,'
        b'"tranches":['
        b'{"date":null,"description":null,"share_bp":7500,"trigger":"on_signature"},'
        b'{"date":null,"description":"delivery with proof of expenses",'
        b'"share_bp":2500,"trigger":"on_delivery"}'
        b"]}"
    )
    assert canonical_json(terms) == expected
    assert terms_hash(terms) == hashlib.sha256(expected).hexdigest()


def test_non_ascii_text_is_raw_utf8() -> None:
    payload = canonical_json(parse_terms(examples.post_production()))
    assert '"city":"Bogotá"'.encode() in payload
    assert b"\\u00e1" not in payload


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("completion_fund", "amount.amount_minor", 3_000_001),
        ("completion_fund", "amount.currency", "USD"),
        ("completion_fund", "tranches", [{"share_bp": 10000, "trigger": "on_signature"}]),
        ("post_production", "service_lines.0.value.amount_minor", 430_100),
        ("distribution", "exclusive", False),
        ("distribution", "term.years", 8),
        ("sales", "territories.exclude", ["FR"]),
        ("sales", "commission_bp", 1501),
    ],
)
def test_one_change_changes_the_hash(kind: str, path: str, value: Any) -> None:
    original = parse_terms(examples.EXAMPLES[kind]())
    modified = parse_terms(changed(examples.EXAMPLES[kind](), path, value))
    assert terms_hash(modified) != terms_hash(original)


def test_equal_terms_written_differently_hash_equally() -> None:
    """Codes in other cases and orders, "spa" for "es", an optional field left out or given as null."""
    plain = examples.sales()
    written_differently = changed(
        plain, "territories", {"include": ["worldwide"], "exclude": ["es", "fr", "FR"]}
    )
    assert terms_hash(parse_terms(written_differently)) == terms_hash(parse_terms(plain))

    post = examples.post_production()
    other = changed(post, "service_lines.1.languages", ["es", "EN", "fra"])
    other = changed(other, "consideration.rights_territories", None)
    assert terms_hash(parse_terms(other)) == terms_hash(parse_terms(post))


@pytest.mark.parametrize("kind", examples.EXAMPLES)
def test_stored_json_parses_back_to_equal_terms_and_the_same_hash(kind: str) -> None:
    terms = parse_terms(examples.EXAMPLES[kind]())
    stored = json.loads(canonical_json(terms))  # what an agreement keeps, read back from the database
    again = parse_terms(stored)
    assert again == terms
    assert terms_hash(again) == terms_hash(terms)


def test_canonical_json_has_no_floats() -> None:
    floats: list[str] = []
    for example in examples.EXAMPLES.values():
        decoded = json.loads(canonical_json(parse_terms(example())), parse_float=floats.append)
        assert isinstance(decoded, dict) and decoded["schema_version"] == 1
    assert floats == []


def test_a_float_smuggled_past_validation_is_refused_rather_than_hashed() -> None:
    terms = parse_terms(examples.completion_fund())
    smuggled = terms.model_copy(update={"amount": Money.model_construct(amount_minor=1.5, currency="EUR")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns that it serializes a float where an int belongs
        with pytest.raises(TypeError, match=r"amount\.amount_minor"):
            canonical_json(smuggled)
