"""Query parameters, parsed in one place: a value that does not parse is a 400 naming the parameter,
never a 500 from deep inside the ORM (``/api/films/?session=abc``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.text import check_text

MAX_PARAM_LENGTH = 200


def _raw(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    text = str(value)
    check_text(text, field=name)
    if len(text) > MAX_PARAM_LENGTH:
        raise InvalidInput(_("%(name)s is too long.") % {"name": name}, code="invalid_parameter", field=name)
    return text


def int_param(params: Mapping[str, Any], name: str, *, minimum: int = 1) -> int | None:
    """A positive integer id (or ``minimum`` and above); None when absent or empty."""
    text = _raw(params, name)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < minimum or int(text) > 2**63 - 1:
        raise InvalidInput(
            _("%(name)s must be a whole number of at least %(minimum)s.")
            % {"name": name, "minimum": minimum},
            code="invalid_parameter",
            field=name,
        )
    return int(text)


def choice_param(params: Mapping[str, Any], name: str, choices: Sequence[str]) -> str | None:
    """One of ``choices``; None when absent or empty."""
    text = _raw(params, name)
    if text is None:
        return None
    if text not in choices:
        raise InvalidInput(
            _("%(name)s must be one of: %(choices)s.") % {"name": name, "choices": ", ".join(choices)},
            code="invalid_parameter",
            field=name,
        )
    return text
