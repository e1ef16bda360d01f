"""A decided move, shared by accreditations and requests to join: the row moves along its machine
(``audit.transitions.transition``, with its audit entry), and when the move is a decision the row records
who decided, when and why (both models carry ``decided_by``, ``decided_at`` and ``decision_reason``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone

from accounts.models import Organisation, User
from audit.transitions import StateMachine, transition

M = TypeVar("M", bound=models.Model)


def decided_move(
    *,
    row: M,
    machine: StateMachine,
    decisions: frozenset[str],
    to: str,
    actor: User,
    acting_for: Organisation | None,
    reason: str,
    data: Mapping[str, Any],
) -> M:
    """Move ``row`` to ``to``; the caller holds the transaction. The entry's data carries ``reason`` and
    ``data``; ``acting_for`` is the organisation the actor acted for. ``row`` is re-read so that the
    caller's instance shows the new state too; returns the locked, saved row."""
    decision: dict[str, Any] = (
        {"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason}
        if to in decisions
        else {}
    )
    moved = transition(
        row,
        machine=machine,
        to=to,
        actor=actor,
        organisation=acting_for,
        data={"reason": reason, **data},
        **decision,
    )
    row.refresh_from_db()
    return moved.row
