"""Turn an audit entry's ``data`` into plain JSON that hashes the same after a database round trip,
with secrets redacted.

Why each conversion:
- datetimes, dates, times become ISO 8601 text (aware datetimes in UTC); durations ISO 8601 durations;
- ``Decimal`` becomes its exact text, never a float (money is integers in minor units anyway);
- UUIDs, lazy translations and other string-like values become text, enums their value;
- sets become lists sorted by their canonical JSON, so the same set always hashes the same;
- model instances become their primary key;
- integers outside +-(2**53 - 1), and floats of that magnitude, become text: RFC 8785 refuses such
  integers, and PostgreSQL ``jsonb`` returns a float like ``1e20`` as an integer;
- NaN and infinities are refused (neither JSON nor RFC 8785 can carry them);
- NUL characters become U+FFFD (PostgreSQL text and ``jsonb`` refuse NUL);
- mapping keys become text, as JSON requires.

Redaction rule (secrets never reach the log). A key's name is normalised first: camelCase split with
underscores, hyphens turned into underscores, lower-cased (``apiKey`` -> ``api_key``,
``X-Api-Key`` -> ``x_api_key``). Its value, whatever it is, is replaced by ``"[redacted]"`` when the
normalised name:
- contains ``password``, ``secret`` or ``token``; or
- is ``key`` or ends with ``_key`` (``api_key``, ``idempotency_key``; not ``monkey``, not ``keys``); or
- is one of ``code``, ``otp``, ``totp``, ``totp_code``, ``recovery_code``, ``recovery_codes``
  (one-time codes; ``currency_code`` and ``country_code`` are kept).
This applies at any depth, inside nested mappings and inside lists.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import rfc8785
from django.db import models
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise

REDACTED = "[redacted]"
MAX_SAFE_INTEGER = 2**53 - 1

_SECRET_FRAGMENTS = ("password", "secret", "token")
_ONE_TIME_CODE_NAMES = frozenset({"code", "otp", "totp", "totp_code", "recovery_code", "recovery_codes"})
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


def normalise_key_name(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


def is_secret_key(name: str) -> bool:
    """Whether a value stored under this key must be redacted (see the module docstring)."""
    normalised = normalise_key_name(name)
    return (
        any(fragment in normalised for fragment in _SECRET_FRAGMENTS)
        or normalised == "key"
        or normalised.endswith("_key")
        or normalised in _ONE_TIME_CODE_NAMES
    )


def _text(value: str) -> str:
    return value.replace("\x00", "\ufffd")


def _number(value: int | float) -> int | float | str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Audit data cannot hold {value!r}.")
        return repr(value) if abs(value) > MAX_SAFE_INTEGER else value
    return str(value) if abs(value) > MAX_SAFE_INTEGER else value


def _datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(dt.UTC)
    return value.isoformat()


def json_safe(value: Any) -> JSONValue:
    """Convert one value (recursively) to JSON-native types, redacting secrets in mappings."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Promise):
        return _text(str(value))
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        if value.pk is None:
            raise ValueError(f"Cannot record an unsaved {type(value).__name__} in audit data.")
        return json_safe(value.pk)
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=rfc8785.dumps)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    raise TypeError(f"Audit data cannot hold a {type(value).__name__}; convert it first.")


def redact_mapping(mapping: Mapping[Any, Any]) -> dict[str, JSONValue]:
    """A JSON-safe copy of ``mapping`` with secret values replaced by ``"[redacted]"``."""
    result: dict[str, JSONValue] = {}
    for raw_key, raw_value in mapping.items():
        key = _text(str(raw_key.value if isinstance(raw_key, enum.Enum) else raw_key))
        result[key] = REDACTED if is_secret_key(key) else json_safe(raw_value)
    return result
