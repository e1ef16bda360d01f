"""The one error bad terms raise, with a dotted field path, the field's label and a message in the
reader's language for every problem.

Validators inside the schemas report cross-field problems through `fail()`, which carries the path
below the model being validated; `TermsInvalid.from_validation_error` joins it to pydantic's location.
Pydantic's own English messages never reach a person: each of its error types that terms can raise has
a gettext'd sentence here, with the limit or the choices in the reader's formats (a `_bp` field's limit
reads as a percentage). Messages are built when the error is raised, in the language then active (the
request's, set by LocaleMiddleware).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from django.utils import formats
from django.utils.translation import gettext, gettext_noop
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from offers.terms.labels import PathPart, field_label

Problem = tuple[tuple[PathPart, ...], str]  # (path below the model being validated, message)

ERROR_TYPE = "terms_invalid"


class FieldError(TypedDict):
    field: str  # dotted path such as "tranches.1.share_bp"; "" for the whole object
    # Every error built here carries both (``field_error``); they are optional in the type so that a
    # caller's fallback of field and message alone still type-checks.
    label: NotRequired[str]  # the field as the form labels it, in the reader's language: "Tranche 2 › Share"
    code: NotRequired[str]  # what is wrong, for programs: "missing", "too_large", "invalid", ...
    message: str  # for people, in the reader's language, naming the field by its label


def join_path(parts: Sequence[PathPart]) -> str:
    return ".".join(str(part) for part in parts)


def field_error(path: Sequence[PathPart], problem: str, code: str = "invalid") -> FieldError:
    """One problem of one field: ``problem`` is a sentence already in the reader's language."""
    label = field_label(tuple(path))
    message = gettext("%(field)s: %(problem)s") % {"field": label, "problem": problem}
    return {"field": join_path(path), "label": label, "code": code, "message": message}


class TermsInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(error["message"] for error in errors))

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> TermsInvalid:
        errors: list[FieldError] = []
        for error in exc.errors(include_url=False):
            location = tuple(error["loc"])
            ctx = error.get("ctx") or {}
            if error["type"] == ERROR_TYPE and "problems" in ctx:
                for sub_path, message in ctx["problems"]:
                    errors.append(field_error(location + tuple(sub_path), message))
            elif error["type"] == ERROR_TYPE:
                errors.append(field_error(location, str(ctx.get("message", ""))))
            else:
                code, problem = _problem(error["type"], location, ctx, error.get("input"))
                errors.append(field_error(location, problem, code))
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


# --- pydantic's error types, in words -------------------------------------------------------------------


def _number(value: object, location: Sequence[PathPart]) -> str:
    """A limit as the field reads it: basis points as a percentage, anything else as a number."""
    keys = [part for part in location if isinstance(part, str)]
    if isinstance(value, int) and keys and keys[-1].endswith("_bp"):
        from offers.terms.common import format_percent  # here: common imports this module

        return format_percent(value)
    if isinstance(value, int | float | Decimal):
        return formats.number_format(value, force_grouping=True)
    return str(value)


def _choices(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "")


_Sentence = Callable[[Mapping[str, Any], Sequence[PathPart]], str]


def _fixed(code: str, message: str) -> tuple[str, _Sentence]:
    """A sentence that needs nothing from pydantic; ``message`` is marked with gettext_noop and translated
    when the error is raised, in the reader's language."""
    return code, lambda ctx, loc: gettext(message)


def _limit(code: str, message: str, bound: str) -> tuple[str, _Sentence]:
    """A limit pydantic names in ``ctx[bound]``, as the field reads it. ``message`` is marked with
    gettext_noop and translated when the error is raised, in the reader's language."""
    return code, lambda ctx, loc: gettext(message) % {"limit": _number(ctx.get(bound), loc)}


_SENTENCES: dict[str, tuple[str, _Sentence]] = {
    "missing": _fixed("missing", gettext_noop("This is required.")),
    "extra_forbidden": _fixed(
        "unknown_field", gettext_noop("This field is not part of the terms of this type of offer.")
    ),
    "int_type": _fixed("not_a_whole_number", gettext_noop("Give a whole number.")),
    "int_parsing": _fixed("not_a_whole_number", gettext_noop("Give a whole number.")),
    "int_from_float": _fixed("not_a_whole_number", gettext_noop("Give a whole number.")),
    "bool_type": _fixed("not_yes_or_no", gettext_noop("Give yes or no (true or false).")),
    "bool_parsing": _fixed("not_yes_or_no", gettext_noop("Give yes or no (true or false).")),
    "string_type": _fixed("not_text", gettext_noop("Give a text.")),
    "string_too_short": _fixed("missing", gettext_noop("This is required.")),
    "string_too_long": (
        "too_long",
        lambda ctx, loc: (
            gettext("Write at most %(count)s characters.") % {"count": _number(ctx.get("max_length"), ())}
        ),
    ),
    "greater_than_equal": _limit("too_small", gettext_noop("Give at least %(limit)s."), "ge"),
    "greater_than": _limit("too_small", gettext_noop("Give more than %(limit)s."), "gt"),
    "less_than_equal": _limit("too_large", gettext_noop("Give at most %(limit)s."), "le"),
    "less_than": _limit("too_large", gettext_noop("Give less than %(limit)s."), "lt"),
    "enum": (
        "not_a_choice",
        lambda ctx, loc: gettext("Choose one of: %(choices)s.") % {"choices": _choices(ctx)},
    ),
    "literal_error": (
        "not_a_choice",
        lambda ctx, loc: gettext("Give %(choices)s.") % {"choices": _choices(ctx)},
    ),
    "tuple_type": _fixed("not_a_list", gettext_noop("Give a list.")),
    "list_type": _fixed("not_a_list", gettext_noop("Give a list.")),
    "model_type": _fixed("not_an_object", gettext_noop("Give an object with its fields.")),
    "model_attributes_type": _fixed("not_an_object", gettext_noop("Give an object with its fields.")),
    "dict_type": _fixed("not_an_object", gettext_noop("Give an object with its fields.")),
    "date_type": _fixed("not_a_date", gettext_noop("Give a date in the form YYYY-MM-DD.")),
    "date_parsing": _fixed("not_a_date", gettext_noop("Give a date in the form YYYY-MM-DD.")),
    "date_from_datetime_inexact": _fixed("not_a_date", gettext_noop("Give a date in the form YYYY-MM-DD.")),
}


def _problem(
    kind: str, location: Sequence[PathPart], ctx: Mapping[str, Any], value: object
) -> tuple[str, str]:
    """(code, sentence) for one of pydantic's errors; never pydantic's own English text."""
    known = _SENTENCES.get(kind)
    if known is None:
        return "invalid", gettext("This value is not valid here.")
    code, sentence = known
    return code, sentence(ctx, location)
