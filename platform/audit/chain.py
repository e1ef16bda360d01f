"""The one way an audit entry's hash and seal are computed, shared by the writer and the verifier.

An entry's hash is SHA-256 over the RFC 8785 (JSON Canonicalization Scheme) form of its fields plus
the previous entry's hash, which makes every entry depend on all the entries before it. JCS gives the
same bytes however the JSON was stored (key order, ``1.0`` versus ``1``), so an entry read back from
SQLite text or PostgreSQL ``jsonb`` hashes the same as when it was written.

The hash alone only proves consistency: anyone able to write the table could recompute a whole chain.
The seal, an HMAC-SHA256 keyed with ``settings.AUDIT_SEAL_KEY`` over the hash, proves an entry was
written by someone holding the key. The chain head carries its own seal so that removing entries from
the end (which leaves a consistent, shorter chain) is detected too.

This module is pure: no database access, no Django models.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Protocol

import rfc8785

GENESIS_HASH = "0" * 64


class ChainedEntry(Protocol):
    """The stored fields of an entry that the hash covers (``AuditEntry`` satisfies this)."""

    seq: int
    created_at: datetime
    actor_id: Any
    actor_label: str
    organisation_id: Any
    action: str
    target_type: str
    target_id: str
    target_repr: str
    data: Any
    ip: str | None
    prev_hash: str


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. ``2026-11-27T12:00:00.123456Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Audit timestamps must be timezone-aware.")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key_value(value: Any) -> int | str | None:
    """Foreign-key ids as stored: integers stay integers, anything else (a UUID) becomes text."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return str(value)


def entry_payload(entry: ChainedEntry) -> dict[str, Any]:
    """The dictionary whose canonical JSON is hashed."""
    return {
        "seq": entry.seq,
        "created_at": format_timestamp(entry.created_at),
        "actor_id": _key_value(entry.actor_id),
        "actor_label": entry.actor_label,
        "organisation_id": _key_value(entry.organisation_id),
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "data": entry.data,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }


def canonical_bytes(payload: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(payload))


def entry_hash(entry: ChainedEntry) -> str:
    """SHA-256 hex of the entry's canonical JSON."""
    return hashlib.sha256(canonical_bytes(entry_payload(entry))).hexdigest()


def _hmac(key: str | bytes, message: str) -> str:
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, message.encode("ascii"), hashlib.sha256).hexdigest()


def entry_seal(entry_hash_hex: str, *, key: str | bytes) -> str:
    """HMAC-SHA256 over the entry hash."""
    return _hmac(key, entry_hash_hex)


def head_seal(last_seq: int, last_hash: str, *, key: str | bytes) -> str:
    """HMAC over the head's position; the ``head:`` prefix keeps it from ever equalling an entry seal."""
    return _hmac(key, f"head:{last_seq}:{last_hash}")


def seal_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
