"""The one check every untrusted text goes through before it reaches a service or the database.

Forms, the REST API, allauth's headless API and WebSocket frames all call ``check_untrusted`` (HTTP
through ``core.middleware.UntrustedInputMiddleware``, sockets through ``decode_frame``), so a class of
bad input is refused in one place and never half-stored:

- NUL characters (PostgreSQL ``text`` and ``jsonb`` refuse them; C libraries truncate at them);
- lone surrogates (``"\\ud800"`` in JSON decodes to a Python string no UTF-8 encoder accepts);
- other C0 control characters than tab, line feed and carriage return, and DEL;
- nesting deeper than ``MAX_DEPTH`` (a recursion bomb for every JSON walker after us);
- more than ``MAX_ITEMS`` values in one document.

Each refusal names the field at fault as a path (``terms.lines[2].description``) so that a form or an
error frame can point at it, and carries a stable machine code.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from core.errors import InvalidInput

MAX_DEPTH = 32
MAX_ITEMS = 20_000

# NUL and the other C0 controls but tab (\x09), LF (\x0a) and CR (\x0d); DEL; every surrogate code point.
# A well-formed Python str from UTF-8 never holds a surrogate: one here came from a JSON escape or
# from a decoder told to let it through, and no encoder will write it back out.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class UnsafeText(InvalidInput):
    default_code = "invalid_text"


def _reason(char: str) -> str:
    if char == "\x00":
        return _("contains a NUL character")
    if "\ud800" <= char <= "\udfff":
        return _("contains an unpaired surrogate (not valid Unicode text)")
    return _("contains a control character")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_text(value: str, *, field: str) -> None:
    """Refuse one string; ``field`` names it in the error."""
    found = FORBIDDEN.search(value)
    if found is not None:
        raise UnsafeText(
            _("%(field)s %(reason)s.") % {"field": field or _("The input"), "reason": _reason(found.group())},
            field=field or None,
        )


def check_untrusted(value: Any, *, field: str = "", max_depth: int = MAX_DEPTH) -> None:
    """Walk a decoded value (JSON-like: dicts, lists, strings, numbers) and refuse what no service
    should see. Keys are checked as well as values. Raises ``UnsafeText``; returns nothing."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        count += 1
        if count > MAX_ITEMS:
            raise UnsafeText(_("The input holds too many values."), code="too_large", field=field or None)
        if isinstance(item, str):
            check_text(item, field=path)
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise UnsafeText(
                    _("%(field)s is nested too deeply.") % {"field": path or _("The input")},
                    code="too_deep",
                    field=path or None,
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    key_text = str(key)
                    check_text(key_text, field=_join(path, "<key>"))
                    stack.append((child, _join(path, key_text), depth + 1))
            else:
                stack.extend((child, _join(path, i), depth + 1) for i, child in enumerate(item))


def loads_untrusted(text: str | bytes, *, field: str = "") -> Any:
    """``json.loads`` for input from outside: a clear ``UnsafeText`` for what is not JSON, too deep
    (the C decoder raises RecursionError well before Python's own limit hurts us) or unsafe."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeText(_("The input is nested too deeply."), code="too_deep", field=field or None) from None
    except (ValueError, UnicodeDecodeError):
        raise UnsafeText(_("The input is not valid JSON."), code="bad_json", field=field or None) from None
    check_untrusted(value, field=field)
    return value


def decode_frame(text: str) -> Any:
    """A WebSocket text frame, decoded and checked (consumers call this from ``decode_json``)."""
    return loads_untrusted(text)
