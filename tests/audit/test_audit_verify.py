"""verify_audit: passes on a sound log, and names the first entry of each kind of tampering."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from audit.chain import GENESIS_HASH, entry_hash, entry_seal, head_seal
from audit.models import AuditChainHead, AuditEntry
from audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def run_verify(**options: Any) -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out, **options)
    return out.getvalue()


def broken_message(**options: Any) -> str:
    with pytest.raises(CommandError) as caught:
        run_verify(**options)
    assert caught.value.returncode == 1
    return str(caught.value)


def test_intact_chain_passes(entries: list[AuditEntry]) -> None:
    assert run_verify().strip() == "Audit chain intact: 5 entries."
    assert run_verify(chunk_size=2).strip() == "Audit chain intact: 5 entries."


def test_empty_log_passes_with_or_without_a_head() -> None:
    assert run_verify().strip() == "Audit chain intact: 0 entries."
    AuditChainHead.objects.create(
        pk=1, last_seq=0, last_hash=GENESIS_HASH, seal=head_seal(0, GENESIS_HASH, key=settings.AUDIT_SEAL_KEY)
    )
    assert verify_chain().ok


def test_detects_an_entry_edited_in_the_database(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    with tampering():
        raw("UPDATE audit_auditentry SET actor_label = 'someone.else@example.com' WHERE seq = 4")
    entry = AuditEntry.objects.get(seq=4)
    assert broken_message(chunk_size=2) == (
        f"Audit chain broken at entry seq=4 (id={entry.pk}): hash does not match its contents (edited)"
    )


def test_detects_edited_data(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    with tampering():
        raw("UPDATE audit_auditentry SET data = %s WHERE seq = 2", ['{"step": 200}'])
    result = verify_chain()
    assert (result.ok, result.seq, result.reason) == (False, 2, "hash does not match its contents (edited)")


def test_detects_an_entry_deleted_in_the_middle(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    with tampering():
        raw("DELETE FROM audit_auditentry WHERE seq = 3")
    entry = AuditEntry.objects.get(seq=4)
    assert broken_message() == f"Audit chain broken at entry seq=4 (id={entry.pk}): sequence gap: expected 3"


def test_detects_a_rewritten_entry_with_a_recomputed_hash(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    entry = AuditEntry.objects.get(seq=3)
    entry.target_repr = "forged"
    forged_hash = entry_hash(entry)
    with tampering():
        raw("UPDATE audit_auditentry SET target_repr = 'forged', hash = %s WHERE seq = 3", [forged_hash])
    result = verify_chain()
    assert (result.ok, result.seq, result.entry_id, result.reason) == (False, 3, entry.pk, "seal invalid")


def test_detects_an_inserted_entry_with_a_forged_self_consistent_hash(entries: list[AuditEntry]) -> None:
    last = AuditEntry.objects.get(seq=5)
    forged = AuditEntry(
        seq=6,
        created_at=last.created_at,
        actor_label="system",
        action="payment.released",
        data={"amount": 100000, "currency": "USD"},
        prev_hash=last.hash,
    )
    forged.hash = entry_hash(forged)
    forged.seal = entry_seal(forged.hash, key="the-attacker-does-not-have-the-key")
    forged.save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=6,
        last_hash=forged.hash,
        seal=head_seal(6, forged.hash, key="the-attacker-does-not-have-the-key"),
    )
    assert broken_message() == f"Audit chain broken at entry seq=6 (id={forged.pk}): seal invalid"


def test_detects_entries_removed_from_the_end(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    with tampering():
        raw("DELETE FROM audit_auditentry WHERE seq >= 4")
    entry = AuditEntry.objects.get(seq=3)
    assert broken_message() == (
        f"Audit chain broken at entry seq=3 (id={entry.pk}): "
        "head does not match the last entry (entries removed from the end)"
    )


def test_detects_a_head_moved_back_without_the_key(
    entries: list[AuditEntry], tampering: Callable[..., Any], raw: Callable[..., None]
) -> None:
    third = AuditEntry.objects.get(seq=3)
    with tampering():
        raw("DELETE FROM audit_auditentry WHERE seq >= 4")
    AuditChainHead.objects.filter(pk=1).update(last_seq=3, last_hash=third.hash, seal="0" * 64)
    result = verify_chain()
    assert (result.ok, result.seq, result.reason) == (False, 3, "head seal invalid")


def test_detects_a_missing_head(entries: list[AuditEntry]) -> None:
    AuditChainHead.objects.all().delete()
    result = verify_chain()
    assert (result.ok, result.seq, result.reason) == (False, 5, "the chain head is missing")


def test_detects_the_whole_log_removed() -> None:
    AuditChainHead.objects.create(
        pk=1, last_seq=7, last_hash="a" * 64, seal=head_seal(7, "a" * 64, key=settings.AUDIT_SEAL_KEY)
    )
    assert broken_message() == (
        "Audit chain broken at the head: head does not match the last entry (entries removed from the end)"
    )


def test_seals_depend_on_the_key(entries: list[AuditEntry]) -> None:
    with override_settings(AUDIT_SEAL_KEY="a-different-key"):
        result = verify_chain()
    assert (result.ok, result.seq, result.reason) == (False, 1, "seal invalid")
    assert verify_chain().ok


def test_entries_appended_after_the_head_was_read_still_verify(
    entries: list[AuditEntry], record: Callable[..., AuditEntry]
) -> None:
    # A head lagging behind sound, sealed entries is what a concurrent append looks like mid-check.
    head = AuditChainHead.objects.get(pk=1)
    record(action="user.login", actor=None)
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=head.last_seq, last_hash=head.last_hash, seal=head.seal
    )
    result = verify_chain()
    assert (result.ok, result.checked) == (True, 6)
