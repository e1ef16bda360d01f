"""Signed checkpoints of the audit chain (audit.checkpoints): a kept checkpoint verifies against a chain
that only grew, and fails, naming why, against one whose history was rewritten, even consistently."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.chain import entry_hash, entry_seal, head_seal
from audit.checkpoints import checkpoint_covering, checkpoint_document, checkpoint_publish, checkpoint_verify
from audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from audit.verify import verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept(entries: list[AuditEntry]) -> dict[str, Any]:
    """A checkpoint of the five-entry chain, as a party would keep it: a JSON document."""
    checkpoint = checkpoint_publish()
    assert checkpoint is not None and checkpoint.seq == 5
    return json.loads(json.dumps(checkpoint_document(checkpoint)))


def test_a_kept_checkpoint_verifies_against_a_chain_that_only_grew(
    kept: dict[str, Any], record: Callable[..., AuditEntry]
) -> None:
    for n in range(3):
        record(action="user.login", actor=None, data={"n": n})
    verdict = checkpoint_verify(document=kept)
    assert (verdict.ok, verdict.code) == (True, "ok")
    newer = checkpoint_publish()
    assert newer is not None and newer.seq == 8
    assert checkpoint_publish() == newer  # the head has not moved: no second checkpoint
    assert checkpoint_covering(seq=3) == AuditCheckpoint.objects.get(seq=5)
    assert checkpoint_covering(seq=6) == newer and checkpoint_covering(seq=9) is None


def test_a_consistently_rewritten_history_passes_the_chain_check_but_not_the_checkpoint(
    kept: dict[str, Any], tampering: Callable[[], AbstractContextManager[None]], raw: Callable[..., None]
) -> None:
    """Whoever holds the database and the seal key re-hashes and re-seals every entry after the one they
    changed, and the head: the chain verifies, the kept checkpoint does not."""
    key = settings.AUDIT_SEAL_KEY
    with tampering():
        previous = None
        for entry in AuditEntry.objects.order_by("seq"):
            if entry.seq == 2:
                entry.data = {"step": 200}
            if previous is not None:
                entry.prev_hash = previous.hash
            entry.hash = entry_hash(entry)
            entry.seal = entry_seal(entry.hash, key=key)
            raw(
                "UPDATE audit_auditentry SET data = %s::jsonb, prev_hash = %s, hash = %s, seal = %s "
                "WHERE id = %s",
                [json.dumps(entry.data), entry.prev_hash, entry.hash, entry.seal, entry.pk],
            )
            previous = entry
        AuditChainHead.objects.filter(pk=1).update(
            last_hash=previous.hash, seal=head_seal(previous.seq, previous.hash, key=key)
        )
    assert verify_chain().ok
    verdict = checkpoint_verify(document=kept)
    assert (verdict.ok, verdict.code, verdict.seq) == (False, "rewritten", 5)
    assert "up to entry 5 was rewritten" in verdict.message


def test_an_edited_entry_is_named(
    kept: dict[str, Any], tampering: Callable[[], AbstractContextManager[None]], raw: Callable[..., None]
) -> None:
    with tampering():
        raw("UPDATE audit_auditentry SET target_repr = 'forged' WHERE seq = 3")
    verdict = checkpoint_verify(document=kept)
    assert (verdict.ok, verdict.code, verdict.seq) == (False, "chain_broken", 3)
    assert "seq=3" in verdict.message


def test_a_checkpoint_beyond_the_chain_is_refused(kept: dict[str, Any], tampering: Any, raw: Any) -> None:
    with tampering():
        raw("DELETE FROM audit_auditentry WHERE seq >= 4")
    verdict = checkpoint_verify(document=kept)
    assert (verdict.ok, verdict.code) == (False, "too_new")


def _resigned(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**document, **changes}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"seq": 4}, "bad_signature"),  # a kept checkpoint moved to another entry
        ({"hash": "0" * 64}, "bad_signature"),
        ({"signed_at": "2020-01-01T00:00:00.000000Z"}, "bad_signature"),
        ({"signature": "A" * 86}, "bad_signature"),
        ({"signature": "not base64 at all!"}, "bad_signature"),
        ({"public_key": base64.urlsafe_b64encode(b"\x01" * 32).decode().rstrip("=")}, "foreign_key"),
        ({"seq": "5"}, "malformed"),
        ({"seq": True}, "malformed"),
        ({"seq": 0}, "malformed"),
        ({"hash": ["nested", {"deep": []}]}, "malformed"),
        ({"format": "something-else/1"}, "malformed"),
        ({"signed_at": "yesterday"}, "malformed"),
        ({"signature": None}, "malformed"),
    ],
)
def test_a_tampered_or_malformed_checkpoint_is_refused(
    kept: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    verdict = checkpoint_verify(document=_resigned(kept, **change))
    assert (verdict.ok, verdict.code) == (False, code)


@pytest.mark.parametrize("document", [None, [], "checkpoint", 5, {"seq": 5}, {"\x00": "\ud800"}])
def test_what_is_not_a_checkpoint_is_refused(entries: list[AuditEntry], document: Any) -> None:
    verdict = checkpoint_verify(document=document)
    assert (verdict.ok, verdict.code) == (False, "malformed")


def test_the_command_signs_and_checks(
    kept: dict[str, Any], tmp_path: Path, capsys: Any, tampering: Any, raw: Any
) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(kept))
    call_command("audit_checkpoint", verify=str(path))
    assert "up to entry 5" in capsys.readouterr().out
    with tampering():
        raw("UPDATE audit_auditentry SET target_repr = 'forged' WHERE seq = 2")
    with pytest.raises(CommandError, match="chain_broken"):
        call_command("audit_checkpoint", verify=str(path))
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("audit_checkpoint", verify=str(tmp_path / "junk.json"))
