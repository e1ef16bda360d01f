"""The one way a model's ``status`` moves: along its machine's table of allowed transitions, with its
audit entry in the same transaction (docs/architecture.md, invariant 4).

Each domain declares a ``StateMachine`` beside its model's choices (django-oscar's status pipeline); its
services call ``transition``, which locks and re-reads the row, refuses an illegal move with a clear
Conflict that changes nothing, saves the new status and any other fields, and appends the entry
``<subject>.<new state>`` from the catalogue (``audit.actions``). The caller holds the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models
from django.utils.functional import Promise

from audit.actions import ACTIONS, move_action
from audit.services import audit_record
from core.errors import Conflict

if TYPE_CHECKING:
    from accounts.models import Organisation, User

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class StateMachine:
    """``subject`` names the audit actions (``cut`` -> ``cut.ready``); ``refusal`` is a translated
    message with ``%(status)s`` and ``%(target)s`` (the choices' labels)."""

    subject: str
    transitions: Mapping[str, frozenset[str]]
    refusal: str | Promise

    def __post_init__(self) -> None:
        targets = set().union(*self.transitions.values())
        missing = [state for state in targets if f"{self.subject}.{state}" not in ACTIONS]
        if missing:
            raise ValueError(f"audit.actions lacks {self.subject}.{{{','.join(sorted(missing))}}}")

    def allows(self, previous: str, to: str) -> bool:
        return to in self.transitions[previous]


@dataclass(frozen=True)
class Moved(Generic[M]):
    row: M
    previous: str


def transition(
    instance: M,
    *,
    machine: StateMachine,
    to: str,
    actor: User | None,
    organisation: Organisation | None = None,
    data: Mapping[str, Any] | None = None,
    action: str | None = None,
    ip: str | None = None,
    **fields: Any,
) -> Moved[M]:
    """Move ``instance`` to ``to`` and record it; returns the locked, saved row and the previous state.

    ``action`` overrides the entry's name when the move means more than its new state (an instalment
    that falls due because a delivery was confirmed is ``instalment.delivery_confirmed``). ``data`` adds
    details to the entry's ``from`` and ``to``; ``organisation`` is the one the actor acted for.
    """
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    previous: str = locked.status  # type: ignore[attr-defined]
    if not machine.allows(previous, to):
        labels = dict(model._meta.get_field("status").flatchoices)  # type: ignore[union-attr]
        message = str(machine.refusal) % {"status": labels[previous], "target": labels[to]}
        raise Conflict(message, code="illegal_transition")
    locked.status = to  # type: ignore[attr-defined]
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    audit_record(
        action=action or move_action(machine.subject, to),
        actor=actor,
        organisation=organisation,
        target=locked,
        data={"from": previous, "to": to, **(data or {})},
        ip=ip,
    )
    return Moved(locked, previous)
