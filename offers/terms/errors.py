"""The one error bad terms raise, with a dotted field path for every problem.

Validators inside the schemas report cross-field problems through `fail()`, which carries the path
below the model being validated; `TermsInvalid.from_validation_error` joins it to pydantic's location.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

PathPart = str | int
Problem = tuple[tuple[PathPart, ...], str]  # (path below the model being validated, message)

ERROR_TYPE = "terms_invalid"


class FieldError(TypedDict):
    field: str  # dotted path such as "tranches.1.share_bp"; "" for the whole object
    message: str


def join_path(parts: Sequence[PathPart]) -> str:
    return ".".join(str(part) for part in parts)


class TermsInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        summary = "; ".join(f"{e['field'] or '(terms)'}: {e['message']}" for e in errors)
        super().__init__(f"Invalid terms: {summary}")

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> TermsInvalid:
        errors: list[FieldError] = []
        for error in exc.errors(include_url=False):
            location = tuple(error["loc"])
            ctx = error.get("ctx") or {}
            if error["type"] == ERROR_TYPE and "problems" in ctx:
                for sub_path, message in ctx["problems"]:
                    errors.append({"field": join_path(location + tuple(sub_path)), "message": message})
            else:
                errors.append({"field": join_path(location), "message": error["msg"]})
        return cls(errors)


def fail(problems: Sequence[Problem]) -> PydanticCustomError:
    """The error a validator raises: pydantic shows the first message, TermsInvalid shows them all."""
    first_path, first_message = problems[0]
    return PydanticCustomError(
        ERROR_TYPE,
        "{message}",
        {"message": first_message, "problems": tuple(problems), "path": join_path(first_path)},
    )


def invalid(message: str) -> PydanticCustomError:
    """The error a single-value validator raises (pydantic adds the location itself)."""
    return PydanticCustomError(ERROR_TYPE, "{message}", {"message": message})
