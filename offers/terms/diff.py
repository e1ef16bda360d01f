"""What a counter-offer changes: the structured difference between two versions of one offer's terms.

Fields are compared one by one, down to the leaves. Lists are compared by index, with items past the
end of the shorter list reported as added or removed. Set-like fields (territories, languages, media:
stored sorted) are compared as one value, since an index into a sorted set means nothing to a reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from pydantic import BaseModel

from offers.terms.common import is_unordered
from offers.terms.errors import PathPart, join_path
from offers.terms.types import Terms

Json = None | bool | int | str | list["Json"] | dict[str, "Json"]
Action = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class Change:
    path: str  # dotted, as in TermsInvalid: "tranches.1.share_bp"
    old: Json  # None when added
    new: Json  # None when removed
    action: Action


def diff_terms(old: Terms, new: Terms) -> list[Change]:
    """The changes from `old` to `new`, in field order; [] when they are equal."""
    if type(old) is not type(new):
        raise ValueError(
            f"Cannot compare {old.kind} v{old.schema_version} with {new.kind} v{new.schema_version}"
        )
    changes: list[Change] = []
    _compare(old, new, (), unordered=False, changes=changes)
    return changes


Path = tuple[PathPart, ...]


def _compare(old: object, new: object, path: Path, *, unordered: bool, changes: list[Change]) -> None:
    if isinstance(old, BaseModel) and isinstance(new, BaseModel) and type(old) is type(new):
        for name, info in type(old).model_fields.items():
            old_value, new_value = getattr(old, name), getattr(new, name)
            _compare(old_value, new_value, (*path, name), unordered=is_unordered(info), changes=changes)
    elif isinstance(old, tuple) and isinstance(new, tuple) and not unordered:
        for index in range(max(len(old), len(new))):
            if index >= len(old):
                changes.append(Change(join_path((*path, index)), None, _json(new[index]), "added"))
            elif index >= len(new):
                changes.append(Change(join_path((*path, index)), _json(old[index]), None, "removed"))
            else:
                _compare(old[index], new[index], (*path, index), unordered=False, changes=changes)
    elif old != new:
        action: Action = "added" if old is None else "removed" if new is None else "changed"
        changes.append(Change(join_path(path), _json(old), _json(new), action))


def _json(value: object) -> Json:
    """The JSON-safe form of a value, as in the canonical JSON."""
    if isinstance(value, BaseModel):
        data: dict[str, Json] = value.model_dump(mode="json")
        return data
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if isinstance(value, Enum):
        return _json(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"Not a terms value: {value!r}")
