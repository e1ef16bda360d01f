"""Signed checkpoints of the audit chain: proof against rewriting history (docs/architecture.md, invariant 4).

The chain's hashes and HMAC seals show that an entry was edited, removed or inserted, but someone who holds
the database and the seal key could rebuild the whole chain consistently. A checkpoint closes that door: the
platform signs, with an Ed25519 key kept in the settings (``AUDIT_CHECKPOINT_KEY``, never in the database),
the statement "entry N of the chain has hash H". Checkpoints are published on a schedule and on demand;
anyone who kept one (a party to a deal, their lawyer) can later check it against the chain of that day:
the signature must be the platform's, the chain must verify from its start up to N, and entry N must still
have hash H. A history rewritten before N fails the last test even when it was re-hashed and re-sealed.

A checkpoint's document is JSON: ``format``, ``seq``, ``hash``, ``signed_at`` (UTC, ISO 8601), the signer's
``public_key`` and the ``signature``, both urlsafe base64. The signed bytes are the RFC 8785 canonical JSON of
the first four.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.chain import canonical_bytes, format_timestamp
from audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from audit.targets import target_ref
from audit.verify import verify_chain
from core.insecure import DEV_MARKER

FORMAT = "films-in-progress/audit-checkpoint/1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key() -> Ed25519PrivateKey:
    configured = settings.AUDIT_CHECKPOINT_KEY.removeprefix(DEV_MARKER).strip()
    try:
        seed = _unb64(configured)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_KEY is not urlsafe base64.") from None
    if len(seed) != 32:
        raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_KEY must decode to 32 bytes, not {len(seed)}.")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text() -> str:
    """The platform's public key, as checkpoints carry it."""
    return _b64(signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def _statement(*, seq: int, hash_hex: str, signed_at: str) -> bytes:
    return canonical_bytes({"format": FORMAT, "seq": seq, "hash": hash_hex, "signed_at": signed_at})


def checkpoint_publish() -> AuditCheckpoint | None:
    """Sign the chain's head as it is now (the existing checkpoint when the head has not moved; None for
    an empty chain)."""
    with transaction.atomic():
        head = AuditChainHead.objects.filter(pk=1).first()
        seq, hash_hex = (head.last_seq, head.last_hash) if head is not None else (0, "")
        if seq == 0:
            return None
        existing = AuditCheckpoint.objects.filter(seq=seq).first()
        if existing is not None:
            return existing
        signed_at = timezone.now()
        signature = signing_key().sign(
            _statement(seq=seq, hash_hex=hash_hex, signed_at=format_timestamp(signed_at))
        )
        return AuditCheckpoint.objects.create(
            seq=seq,
            hash=hash_hex,
            signed_at=signed_at,
            public_key=public_key_text(),
            signature=_b64(signature),
        )


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "signed_at": format_timestamp(checkpoint.signed_at),
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def checkpoint_covering(*, seq: int) -> AuditCheckpoint | None:
    """The earliest checkpoint at or after entry ``seq`` (the one that covers it)."""
    return AuditCheckpoint.objects.filter(seq__gte=seq).order_by("seq").first()


def checkpoint_for(*, target: models.Model) -> AuditCheckpoint | None:
    """The checkpoint covering every entry about ``target`` so far (None until one is published)."""
    target_type, target_id = target_ref(target)
    last = AuditEntry.objects.filter(target_type=target_type, target_id=target_id).aggregate(seq=Max("seq"))
    return checkpoint_covering(seq=last["seq"]) if last["seq"] is not None else None


@dataclass(frozen=True)
class CheckpointVerdict:
    ok: bool
    code: str  # "ok", "malformed", "foreign_key", "bad_signature", "chain_broken", "rewritten", "too_new"
    message: str
    seq: int | None = None  # the first bad entry, when the chain itself is broken


def _refused(code: str, message: str, seq: int | None = None) -> CheckpointVerdict:
    return CheckpointVerdict(ok=False, code=code, message=message, seq=seq)


def checkpoint_verify(*, document: object) -> CheckpointVerdict:
    """Check a kept checkpoint against today's chain (see the module's docstring)."""
    fields = ("format", "seq", "hash", "signed_at", "public_key", "signature")
    if not isinstance(document, dict) or any(name not in document for name in fields):
        return _refused("malformed", _("This is not an audit checkpoint."))
    seq, hash_hex = document["seq"], document["hash"]
    well_formed = (
        document["format"] == FORMAT
        and isinstance(seq, int)
        and not isinstance(seq, bool)
        and seq > 0
        and isinstance(hash_hex, str)
        and len(hash_hex) == 64
        and all(isinstance(document[name], str) for name in ("signed_at", "public_key", "signature"))
        and parse_datetime(document["signed_at"]) is not None
    )
    if not well_formed:
        return _refused("malformed", _("This is not an audit checkpoint."))
    if document["public_key"] != public_key_text():
        return _refused("foreign_key", _("This checkpoint was not signed by this platform's key."))
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(document["public_key"])).verify(
            _unb64(document["signature"]),
            _statement(seq=seq, hash_hex=hash_hex, signed_at=document["signed_at"]),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return _refused("bad_signature", _("The checkpoint's signature does not match its contents."))
    result = verify_chain(through_seq=seq)
    if not result.ok:
        return _refused("chain_broken", result.message, result.seq)
    if result.checked < seq:
        return _refused("too_new", _("The chain has no entry %(seq)d.") % {"seq": seq})
    if result.last_hash != hash_hex:
        return _refused(
            "rewritten",
            _(
                "History up to entry %(seq)d was rewritten: that entry's hash is no longer the one this "
                "checkpoint signed."
            )
            % {"seq": seq},
            seq,
        )
    return CheckpointVerdict(
        ok=True,
        code="ok",
        message=_("The chain up to entry %(seq)d is the one this checkpoint signed.") % {"seq": seq},
    )
