"""Realistic terms of each offer type, as the JSON an API client would send. Each call is a fresh copy."""

from __future__ import annotations

import copy
from typing import Any

Data = dict[str, Any]


def post_production() -> Data:
    """4 weeks of post-production follow-up valued at EUR 4,300, plus subtitles in three languages."""
    return {
        "kind": "post_production",
        "schema_version": 1,
        "provider_organisation_id": 42,
        "service_lines": [
            {
                "category": "other",
                "description": "post-production follow-up",
                "quantity": 4,
                "unit": "week",
                "value": {"amount_minor": 430_000, "currency": "EUR"},
            },
            {
                "category": "subtitling",
                "quantity": 1,
                "unit": "lump_sum",
                "value": {"amount_minor": 120_000, "currency": "EUR"},
                "languages": ["fr", "en", "spa"],
            },
        ],
        "facility": {"country": "CO", "city": "Bogotá"},
        "time_window": {"start": "2026-03-02", "end": "2026-03-27"},
        "deliverables": ["DCP 2K", "ProRes 4444 master", "SRT subtitle files"],
        "consideration": {"credit": True, "logo": True, "co_production_share_bp": 250},
        "signature_deadline": "2026-02-15",
    }


def completion_fund() -> Data:
    """EUR 30,000 cash: 75 % on signature, 25 % on delivery with proof of expenses."""
    return {
        "kind": "completion_fund",
        "schema_version": 1,
        "amount": {"amount_minor": 3_000_000, "currency": "EUR"},
        "tranches": [
            {"share_bp": 7500, "trigger": "on_signature"},
            {"share_bp": 2500, "trigger": "on_delivery", "description": "delivery with proof of expenses"},
        ],
        "conditions": ["World premiere at an A-list festival", "Final cut approved by the director"],
        "recoupment_position": "pari_passu",
        "credit_obligations": "Logo in the opening credits and on the poster",
        "report_deadlines": ["2026-06-30", "2026-12-31"],
    }


def distribution() -> Data:
    """A distribution deal for Spain with an MG of EUR 20,000."""
    return {
        "kind": "distribution",
        "schema_version": 1,
        "territories": {"include": ["ES"]},
        "media": ["theatrical", "svod", "tvod"],
        "exclusive": True,
        "term": {"start": "2026-06-01", "years": 7},
        "minimum_guarantee": {"amount_minor": 2_000_000, "currency": "EUR"},
        "payment_schedule": [
            {"share_bp": 5000, "trigger": "on_signature"},
            {"share_bp": 5000, "trigger": "on_date", "date": "2026-09-01"},
        ],
        "distributor_share_bp": 5000,
        "distribution_fee_bp": 1250,
        "holdbacks": [{"media": "svod", "days": 120}],
        "release": {"min_screens": 25, "window": {"start": "2026-09-01", "end": "2026-12-31"}},
        "minimum_pa_spend": {"amount_minor": 1_500_000, "currency": "EUR"},
    }


def sales() -> Data:
    """A worldwide sales deal, excluding France and Spain."""
    return {
        "kind": "sales",
        "schema_version": 1,
        "territories": {"include": ["WORLDWIDE"], "exclude": ["FR", "ES"]},
        "commission_bp": 1500,
        "expenses_cap": {"amount_minor": 4_000_000, "currency": "USD"},
        "term_years": 10,
        "minimum_guarantee": {"amount_minor": 5_000_000, "currency": "USD"},
        "minimum_prices": [
            {
                "territories": {"include": ["LATIN_AMERICA"]},
                "price": {"amount_minor": 3_000_000, "currency": "USD"},
            },
            {"territories": {"include": ["JP"]}, "price": {"amount_minor": 3_000_000, "currency": "JPY"}},
        ],
    }


EXAMPLES = {
    "post_production": post_production,
    "completion_fund": completion_fund,
    "distribution": distribution,
    "sales": sales,
}


def changed(data: Data, path: str, value: Any) -> Data:
    """A copy of `data` with the value at a dotted path ("tranches.1.share_bp") set, or deleted if DELETE."""
    result = copy.deepcopy(data)
    *parents, last = path.split(".")
    target: Any = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return result


DELETE = object()
