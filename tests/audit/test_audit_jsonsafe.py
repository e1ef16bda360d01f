"""Audit data: converted to JSON that survives the database unchanged, with secrets redacted."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from audit.jsonsafe import REDACTED, is_secret_key, json_safe, redact_mapping
from audit.models import AuditEntry
from audit.verify import verify_chain


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "new_password1",
        "client_secret",
        "access_token",
        "sessionToken",
        "key",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "idempotency_key",
        "code",
        "otp",
        "totp",
        "totp_code",
        "recovery_code",
        "recovery_codes",
        "PASSWORD",
    ],
)
def test_secret_names_are_redacted(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name", ["monkey", "keys", "currency_code", "country_code", "keyword", "category", "user_id", "reason"]
)
def test_ordinary_names_are_kept(name: str) -> None:
    assert not is_secret_key(name)


def test_redaction_at_any_depth() -> None:
    data = {
        "password": "hunter2hunter2",
        "reason": "ok",
        "profile": {"name": "Ana", "auth": {"totp_code": "123456", "apiKey": {"nested": "x"}}},
        "attempts": [{"token": "abc", "at": 1}, {"recovery_codes": ["a", "b"], "currency_code": "USD"}],
        "monkey": "banana",
    }
    assert redact_mapping(data) == {
        "password": REDACTED,
        "reason": "ok",
        "profile": {"name": "Ana", "auth": {"totp_code": REDACTED, "apiKey": REDACTED}},
        "attempts": [{"token": REDACTED, "at": 1}, {"recovery_codes": REDACTED, "currency_code": "USD"}],
        "monkey": "banana",
    }


@pytest.mark.django_db
def test_recorded_data_is_redacted_in_the_database(record: Callable[..., AuditEntry], user: Any) -> None:
    entry = record(
        action="user.password_changed",
        actor=user,
        data={"changes": [{"field": "password", "new_password": "s3cret-value-here"}]},
    )
    entry.refresh_from_db()
    assert entry.data == {"changes": [{"field": "password", "new_password": REDACTED}]}
    assert "s3cret-value-here" not in str(AuditEntry.objects.values_list("data", flat=True).get())


def test_values_become_json_natives() -> None:
    moment = dt.datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert json_safe(
        {
            "at": moment,
            "day": dt.date(2026, 11, 27),
            "amount": Decimal("10.50"),
            "id": ident,
            "tags": {"b", "a", "c"},
            "pair": (1, 2),
            "huge": 2**60,
            "hugefloat": 1e300,
            "nul": "a\x00b",
            3: "int key",
        }
    ) == {
        "at": "2026-11-27T12:00:00.123456+00:00",
        "day": "2026-11-27",
        "amount": "10.50",
        "id": "12345678-1234-5678-1234-567812345678",
        "tags": ["a", "b", "c"],
        "pair": [1, 2],
        "huge": str(2**60),
        "hugefloat": "1e+300",
        "nul": "a\ufffdb",
        "3": "int key",
    }


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object(), b"bytes"])
def test_unrepresentable_values_are_refused(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        json_safe({"value": bad})


@pytest.mark.django_db
def test_model_instances_become_their_pk(record: Callable[..., AuditEntry], user: Any) -> None:
    entry = record(action="user.viewed", actor=None, data={"who": user, "many": [user]})
    entry.refresh_from_db()
    assert entry.data == {"who": user.pk, "many": [user.pk]}


@pytest.mark.django_db
def test_awkward_data_still_verifies_after_the_database_round_trip(
    record: Callable[..., AuditEntry], user: Any
) -> None:
    record(
        action="offer.terms_changed",
        actor=user,
        data={
            "floats": [0.1, 1.0, 1e-7, 0.30000000000000004, 1e20, -0.0],
            "text": "línea\u2028nueva \U0001f3ac",
            "empty": {},
            "flags": [True, False, None],
            "big": 2**53 + 1,
        },
    )
    result = verify_chain()
    assert result.ok, result.message
