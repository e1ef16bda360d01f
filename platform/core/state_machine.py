"""The one mechanism that moves a model's ``status`` along a table of allowed transitions.

Each domain keeps its own table and its own audit entry; this does the part they share: lock and re-read
the row, refuse an illegal move with a clear Conflict, set the new status and any other fields, save.
The caller holds the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models

from core.errors import Conflict

M = TypeVar("M", bound=models.Model)


def move_state(
    instance: M, *, to: str, transitions: Mapping[str, frozenset[str]], refusal: str, **fields: Any
) -> tuple[M, str]:
    """Returns the locked, updated row and the status it moved from.

    ``refusal`` is a translated message with ``%(status)s`` and ``%(target)s`` (the choices' labels).
    """
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    previous: str = locked.status  # type: ignore[attr-defined]
    if to not in transitions[previous]:
        labels = dict(model._meta.get_field("status").flatchoices)  # type: ignore[union-attr]
        raise Conflict(
            refusal % {"status": labels[previous], "target": labels[to]}, code="illegal_transition"
        )
    locked.status = to  # type: ignore[attr-defined]
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    return locked, previous
