"""The canonical form of terms an agreement stores and hashes: RFC 8785 JSON and its SHA-256.

The JSON-safe form has dates as ISO strings, integers as integers and no floats anywhere; it parses
back with `parse_terms` to equal terms, so a stored agreement can always be re-hashed and verified.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from offers.terms.types import Terms


def terms_to_json(terms: Terms) -> dict[str, Any]:
    """The JSON-safe dict of the terms (what a JSONField stores), with every field, defaults included."""
    data = terms.model_dump(mode="json")
    _refuse_floats(data, "")
    return data


def canonical_json(terms: Terms) -> bytes:
    return bytes(rfc8785.dumps(terms_to_json(terms)))


def terms_hash(terms: Terms) -> str:
    """SHA-256 of the canonical JSON, in hex."""
    return hashlib.sha256(canonical_json(terms)).hexdigest()


def _refuse_floats(value: object, path: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"A float in terms at {path or '(root)'}: money and shares are integers")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_floats(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{path}.{index}" if path else str(index))
