"""Writing to the audit log. ``audit_record`` is the only way entries are created."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit import actions
from audit.chain import GENESIS_HASH, entry_hash, entry_seal, head_seal
from audit.context import get_client_ip, normalise_ip
from audit.exceptions import AuditTransactionRequired
from audit.jsonsafe import redact_mapping
from audit.models import ACTION_PATTERN, AuditChainHead, AuditEntry
from audit.targets import target_ref

if TYPE_CHECKING:
    from accounts.models import Organisation, User

SYSTEM_ACTOR_LABEL = "system"
_ACTION_RE = re.compile(ACTION_PATTERN)
_ACTION_MAX_LENGTH = AuditEntry._meta.get_field("action").max_length or 100
_REPR_MAX_LENGTH = AuditEntry._meta.get_field("target_repr").max_length or 255


def _locked_head() -> AuditChainHead:
    """The chain head, row-locked until the caller's transaction ends (created on first use).

    ``select_for_update`` serialises appenders on PostgreSQL; on SQLite the IMMEDIATE transaction
    mode already gives the writer the whole database.
    """
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1,
        defaults={
            "last_seq": 0,
            "last_hash": GENESIS_HASH,
            "seal": head_seal(0, GENESIS_HASH, key=settings.AUDIT_SEAL_KEY),
        },
    )
    return head


def _clean_text(value: str, max_length: int) -> str:
    return value.replace("\x00", "\ufffd")[:max_length]


def audit_record(
    *,
    action: str,
    actor: User | None,
    target: models.Model | None = None,
    organisation: Organisation | None = None,
    data: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log, inside the caller's transaction.

    - ``action``: a name from the catalogue in ``audit.actions`` (``accreditation.approved``);
    - ``actor``: the user who acted, or None for the system;
    - ``target``: the saved model instance acted upon, if any;
    - ``data``: details, made JSON-safe with secrets redacted (rules in ``audit.jsonsafe``);
    - ``ip``: the client address; defaults to the current request's (``AuditContextMiddleware``).

    Raises ``AuditTransactionRequired`` outside ``transaction.atomic`` (the entry must live or die with
    the change it records) and ``ValueError`` for a malformed action, an unsaved actor or target, or an
    invalid IP address.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditTransactionRequired("audit_record must run inside transaction.atomic().")
    if len(action) > _ACTION_MAX_LENGTH or not _ACTION_RE.fullmatch(action):
        raise ValueError(f"Invalid audit action {action!r}: expected a dotted lower-case name.")
    if not actions.is_action(action):
        raise ValueError(f"Unknown audit action {action!r}: add it to the catalogue in audit.actions.")
    if actor is not None and actor.pk is None:
        raise ValueError("The audit actor must be a saved user (or None for the system).")
    if organisation is not None and organisation.pk is None:
        raise ValueError("The audit organisation must be saved.")
    if ip is None:
        ip = get_client_ip()
    elif (normalised := normalise_ip(ip)) is None:
        raise ValueError(f"Invalid IP address for the audit log: {ip!r}.")
    else:
        ip = normalised
    target_type, target_id = target_ref(target) if target is not None else ("", "")
    clean_data = redact_mapping(data or {})

    head = _locked_head()
    entry = AuditEntry(
        seq=head.last_seq + 1,
        created_at=timezone.now(),
        actor=actor,
        actor_label=_clean_text(actor.email, 254) if actor is not None else SYSTEM_ACTOR_LABEL,
        organisation=organisation,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=_clean_text(str(target), _REPR_MAX_LENGTH) if target is not None else "",
        data=clean_data,
        ip=ip,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(entry)
    entry.seal = entry_seal(entry.hash, key=settings.AUDIT_SEAL_KEY)
    entry.save()

    head.last_seq = entry.seq
    head.last_hash = entry.hash
    head.seal = head_seal(entry.seq, entry.hash, key=settings.AUDIT_SEAL_KEY)
    head.save(update_fields=["last_seq", "last_hash", "seal"])
    return entry
