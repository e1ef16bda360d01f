"""The catalogue of audit actions and the one way state moves with its entry."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction

from accounts.models import Accreditation, AccreditationStatus
from audit.actions import ACTIONS, RENAMED, current_name, move_action
from audit.models import ACTION_PATTERN, AuditEntry
from audit.transitions import StateMachine, transition
from core.errors import Conflict
from festival.models import Edition
from tests.conftest import accredit, make_org, make_session, make_user


def test_every_name_follows_the_scheme_and_old_names_map_to_current_ones() -> None:
    assert all(re.fullmatch(ACTION_PATTERN, name) and name.count(".") == 1 for name in ACTIONS)
    assert set(RENAMED.values()) <= ACTIONS
    assert not set(RENAMED) & ACTIONS
    assert current_name("payments.instalment_paid") == "instalment.paid"
    assert current_name("cut.ready") == "cut.ready"


def test_a_machine_whose_states_are_not_all_in_the_catalogue_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="cut"):
        StateMachine(subject="cut", transitions={"ready": frozenset({"melted"})}, refusal="")
    with pytest.raises(ValueError, match="no action"):
        move_action("cut", "melted")


MACHINE = StateMachine(
    subject="accreditation",
    transitions={
        "pending": frozenset({"approved"}),
        "approved": frozenset({"revoked"}),
        "revoked": frozenset(),
    },
    refusal="This accreditation is %(status)s and cannot become %(target)s.",
)


@pytest.fixture
def accreditation(db: None) -> Accreditation:
    edition = Edition.objects.create(year=2026, name="Ventana Sur 2026")
    session = make_session(edition, "Primer Corte", starts=dt.date(2026, 12, 1))
    return accredit(
        make_user("applicant@example.com"), make_org(), session, status=AccreditationStatus.PENDING
    )


def test_a_move_saves_the_state_and_its_entry_together(accreditation: Accreditation) -> None:
    with transaction.atomic():
        moved = transition(
            accreditation,
            machine=MACHINE,
            to="approved",
            actor=None,
            data={"reason": "ok"},
            decision_reason="ok",
        )
    assert moved.previous == AccreditationStatus.PENDING
    assert moved.row.status == AccreditationStatus.APPROVED and moved.row.decision_reason == "ok"
    entry = AuditEntry.objects.get()
    assert entry.action == "accreditation.approved"
    assert entry.data == {"from": "pending", "to": "approved", "reason": "ok"}


def test_an_illegal_move_changes_nothing_and_writes_nothing(accreditation: Accreditation) -> None:
    refusal = "is Pending review and cannot become Revoked"
    with pytest.raises(Conflict, match=refusal) as refused, transaction.atomic():
        transition(accreditation, machine=MACHINE, to="revoked", actor=None)
    assert refused.value.code == "illegal_transition"
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.PENDING
    assert not AuditEntry.objects.exists()
