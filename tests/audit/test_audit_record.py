"""audit_record: chaining, canonical hashing, seals and argument handling."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
import rfc8785
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from audit import actions
from audit.chain import GENESIS_HASH
from audit.context import client_ip_context
from audit.models import AuditChainHead, AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def independent_hash(entry: AuditEntry) -> str:
    """The documented formula, written out again without using audit.chain."""
    payload = {
        "seq": entry.seq,
        "created_at": entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "organisation_id": entry.organisation_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "data": entry.data,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def test_entries_chain_in_sequence(entries: list[AuditEntry]) -> None:
    stored = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS_HASH
    for previous, current in zip(stored, stored[1:], strict=False):
        assert current.prev_hash == previous.hash
    assert len({e.hash for e in stored}) == 5
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (5, stored[-1].hash)


def test_hash_is_sha256_of_rfc8785_form_after_reload(
    record: Callable[..., AuditEntry], user: Any, organisation: Any
) -> None:
    written = record(
        action="organisation.created",
        actor=user,
        organisation=organisation,
        target=organisation,
        data={"name": "Cine Sur", "ratio": 0.1, "big": 1e20, "nested": {"b": [1, 2.5], "a": "ñ"}},
        ip="203.0.113.9",
    )
    reloaded = AuditEntry.objects.get(pk=written.pk)
    assert reloaded.hash == written.hash == independent_hash(reloaded)
    assert reloaded.created_at.microsecond == written.created_at.microsecond


def test_seal_is_hmac_of_hash_with_the_seal_key(record: Callable[..., AuditEntry]) -> None:
    entry = record(action="system.started", actor=None)
    expected = hmac.new(settings.AUDIT_SEAL_KEY.encode(), entry.hash.encode(), hashlib.sha256).hexdigest()
    assert entry.seal == expected
    with override_settings(AUDIT_SEAL_KEY="another-key"):
        other = record(action="system.started", actor=None)
    assert (
        other.seal
        != hmac.new(settings.AUDIT_SEAL_KEY.encode(), other.hash.encode(), hashlib.sha256).hexdigest()
    )


def test_fields_describe_actor_target_and_organisation(
    record: Callable[..., AuditEntry], user: Any, organisation: Any
) -> None:
    entry = record(action="organisation.renamed", actor=user, organisation=organisation, target=organisation)
    entry.refresh_from_db()
    assert entry.actor_id == user.pk
    assert entry.actor_label == "auditor@example.com"
    assert entry.organisation_id == organisation.pk
    assert entry.target_type == "accounts.organisation"
    assert entry.target_id == str(organisation.pk)
    assert entry.target_repr == str(organisation)
    assert entry.created_at.utcoffset() is not None and entry.created_at.utcoffset().total_seconds() == 0


def test_system_action_has_no_actor(record: Callable[..., AuditEntry]) -> None:
    entry = record(action="festival.edition_closed", actor=None)
    assert entry.actor_id is None
    assert entry.actor_label == "system"
    assert (entry.target_type, entry.target_id, entry.target_repr) == ("", "", "")
    assert entry.data == {}


@pytest.mark.parametrize(
    "action", ["approved", "Accreditation.approved", "accreditation.", "a..b", "1a.b", "a.b-c"]
)
def test_malformed_action_is_refused(record: Callable[..., AuditEntry], action: str) -> None:
    with pytest.raises(ValueError, match="Invalid audit action"):
        record(action=action, actor=None)
    assert not AuditEntry.objects.exists()


def test_unsaved_target_is_refused(record: Callable[..., AuditEntry]) -> None:
    from accounts.models import Organisation

    with pytest.raises(ValueError, match="unsaved"):
        record(action="organisation.created", actor=None, target=Organisation(name="x", country="AR"))
    assert not AuditEntry.objects.exists()


def test_ip_explicit_is_normalised_and_invalid_refused(record: Callable[..., AuditEntry]) -> None:
    assert record(action="user.login", actor=None, ip="2001:DB8:0:0::1").ip == "2001:db8::1"
    assert record(action="user.login", actor=None, ip="::ffff:192.0.2.1").ip == "192.0.2.1"
    assert AuditEntry.objects.get(seq=1).ip == "2001:db8::1"
    with pytest.raises(ValueError, match="Invalid IP"):
        record(action="user.login", actor=None, ip="not-an-ip")


def test_ip_defaults_to_the_request_context(record: Callable[..., AuditEntry]) -> None:
    with client_ip_context("198.51.100.7"):
        inside = record(action="user.login", actor=None)
        explicit = record(action="user.login", actor=None, ip="192.0.2.44")
    outside = record(action="user.login", actor=None)
    assert (inside.ip, explicit.ip, outside.ip) == ("198.51.100.7", "192.0.2.44", None)


def test_rolled_back_change_leaves_no_entry_and_no_gap(record: Callable[..., AuditEntry]) -> None:
    record(action="user.login", actor=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="user.login", actor=None)
        raise RuntimeError("the change failed")
    after = record(action="user.login", actor=None)
    assert after.seq == 2
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_refused_outside_a_transaction() -> None:
    from audit.exceptions import AuditTransactionRequired

    with pytest.raises(AuditTransactionRequired):
        audit_record(action="user.login", actor=None)
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        assert audit_record(action="user.login", actor=None).seq == 1


@pytest.mark.django_db
def test_an_action_missing_from_the_catalogue_is_refused_and_nothing_is_written(
    record: Callable[..., AuditEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "ACTIONS", frozenset({"organisation.created"}))
    with pytest.raises(ValueError, match="Unknown audit action"):
        record(action="organisation.dissolved", actor=None)
    assert not AuditEntry.objects.exists()
    assert record(action="organisation.created", actor=None).seq == 1
