"""Every text that enters over HTTP passes ``core.text`` here, before any view, form or serializer.

``UntrustedInputMiddleware`` checks, for every request Django routes to a view (pages, forms, the REST
API, allauth and its headless API, the Django admin):

- the decoded path;
- every query parameter, names and values, read from the raw query string so that invalid UTF-8
  (a percent-encoded CESU surrogate such as ``%ED%A0%80``) is seen as the lone surrogate it encodes
  instead of being silently replaced by Django's decoder;
- the ``X-Session-Token`` header (allauth's headless session key, looked up in the database);
- urlencoded form fields (from the raw body, as for the query string) and multipart form fields (names
  and values; file contents are never read here);
- JSON bodies, parsed with ``core.text.loads_untrusted`` (NUL, lone surrogates, control characters,
  depth, number of values), and JSON that a form field or a ``text/plain`` body carries (the offer form
  posts its terms as JSON in a field; ``navigator.sendBeacon`` sends ``text/plain``).

A refusal is a 400 that names the field, and nothing reaches a view: ``{"detail", "code", "field"}`` (the
shape ``config.api.exception_handler`` gives a ``DomainError`` with a field) for the API, allauth and
JSON requests; a small page in the reader's language for browsers. A JSON body larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413.

A view that must receive its body exactly as sent (Stripe's webhook stores what it received, byte for
byte, once its signature holds) opts out of the body check with ``@raw_body_allowed``; its path and query
string are still checked.

Cost: a GET or HEAD without a query string and without a session token header does nothing but a regex
search of its path. The playback doors (``/play/...``) are answered by ``screening.asgi`` before Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.text import FORBIDDEN, MAX_DEPTH, UnsafeText, check_text, check_untrusted, loads_untrusted

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])

RAW_BODY_ATTRIBUTE = "raw_body_allowed"

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_TOKEN_HEADER = "HTTP_X_SESSION_TOKEN"  # noqa: S105 (a header name, not a secret)

_JSON_TYPE = re.compile(r"^application/([\w.+-]+\+)?json$")


def raw_body_allowed(view: ViewFunc) -> ViewFunc:
    """Mark a view whose request body must reach it untouched (like ``csrf_exempt``): the middleware
    then checks its path and query string but never reads or judges its body."""
    setattr(view, RAW_BODY_ATTRIBUTE, True)
    return view


class Refusal(Exception):
    """A request refused before any view: status, message, machine code and the field at fault."""

    def __init__(self, message: str, *, code: str, field: str | None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status

    @classmethod
    def from_unsafe(cls, error: UnsafeText) -> Refusal:
        return cls(error.message, code=error.code, field=error.field)


def error_body(*, detail: str, code: str, field: str | None) -> dict[str, Any]:
    """The one JSON shape of a refused input, shared with ``config.api.exception_handler``:
    ``detail`` and ``code`` always, ``field`` when one input is at fault, and DRF's own
    ``{field: [message]}`` beside them so that clients reading serializer errors keep working."""
    body: dict[str, Any] = {"detail": detail, "code": code, "field": field}
    if field and field not in body:
        body[field] = [detail]
    return body


def _printable(name: str) -> str:
    """A name fit to show in a message even when the name itself is what is wrong."""
    return FORBIDDEN.sub(lambda match: ascii(match.group())[1:-1], name)


def _text(value: str, *, field: str) -> None:
    try:
        check_text(value, field=field)
    except UnsafeText as error:
        raise Refusal.from_unsafe(error) from None


def _embedded_json(value: str, *, field: str) -> None:
    """A field that holds JSON (an object or a list) is checked as the JSON it decodes to; a field
    that merely starts with a bracket and is not JSON is plain text, already checked."""
    stripped = value.lstrip()
    if not stripped or stripped[0] not in "[{":
        return
    try:
        decoded = json.loads(stripped)
    except RecursionError:
        raise Refusal(
            _("%(field)s is nested too deeply.") % {"field": field}, code="too_deep", field=field
        ) from None
    except ValueError:
        return
    try:
        check_untrusted(decoded, field=field, max_depth=MAX_DEPTH)
    except UnsafeText as error:
        raise Refusal.from_unsafe(error) from None


def _pairs(pairs: Iterable[tuple[str, str]], *, where: str) -> None:
    for name, value in pairs:
        if FORBIDDEN.search(name):
            shown = _printable(name)
            raise Refusal(
                _("The name of the %(where)s “%(name)s” is not valid text.")
                % {"where": where, "name": shown},
                code="invalid_text",
                field=shown,
            )
        _text(value, field=name)
        _embedded_json(value, field=name)


def _urlencoded(raw: bytes, *, where: str) -> None:
    """Parse a query string or urlencoded body as Django does, but keep bytes that are not UTF-8 as lone
    surrogates (``surrogateescape``) so that the text check refuses them by name."""
    text = raw.decode("utf-8", "surrogateescape")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="surrogateescape",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError:
        raise Refusal(_("The request has too many fields."), code="too_large", field=None) from None
    _pairs(pairs, where=where)


def _query_bytes(request: HttpRequest) -> bytes:
    raw = request.META.get("QUERY_STRING", "")
    try:
        return raw.encode("latin-1")  # WSGI: the raw bytes, one character each (PEP 3333)
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogatepass")  # ASGI: Django decoded it as UTF-8 already


def _content_type(request: HttpRequest) -> str:
    return (request.content_type or "").strip().lower()


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(("/api/", "/_allauth/")):
        return True
    if _JSON_TYPE.match(_content_type(request)):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def _body_limit() -> int | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return None if limit is None else int(limit)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read_body(request: HttpRequest) -> bytes:
    limit = _body_limit()
    if limit is not None and _declared_length(request) > limit:
        raise Refusal(_("The request body is too large."), code="too_large", field=None, status=413)
    try:
        body = request.body
    except RequestDataTooBig:
        raise Refusal(_("The request body is too large."), code="too_large", field=None, status=413) from None
    if limit is not None and len(body) > limit:
        raise Refusal(_("The request body is too large."), code="too_large", field=None, status=413)
    return body


def _check_body(request: HttpRequest) -> None:
    content_type = _content_type(request)
    if content_type == "application/x-www-form-urlencoded":
        _urlencoded(_read_body(request), where=_("form field"))
    elif content_type == "multipart/form-data":
        limit = _body_limit()
        try:
            if limit is None or _declared_length(request) <= limit:
                # Read (and keep) the body first: the parser then works on the copy, and a view that reads
                # ``request.body`` itself (allauth's headless views) still can. A larger upload streams.
                request.body  # noqa: B018
            fields = request.POST
        except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig, SuspiciousOperation):
            raise Refusal(_("The form could not be read."), code="bad_form", field=None) from None
        _pairs(((name, value) for name, values in fields.lists() for value in values), where=_("form field"))
        for name in request.FILES:
            if FORBIDDEN.search(name):
                _pairs([(name, "")], where=_("form field"))
            for upload in request.FILES.getlist(name):
                _text(upload.name or "", field=name)
    elif _JSON_TYPE.match(content_type):
        body = _read_body(request)
        if body.strip():
            try:
                loads_untrusted(body)
            except UnsafeText as error:
                raise Refusal.from_unsafe(error) from None
    elif content_type == "text/plain" and _declared_length(request):
        # sendBeacon-style JSON: judged only if it is JSON; any other text/plain body is the view's.
        body = _read_body(request)
        try:
            _embedded_json(body.decode("utf-8"), field="")
        except UnicodeDecodeError:
            return


def refusal_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """The answer to refused input: JSON for API clients, a page in the reader's language otherwise."""
    if _wants_json(request):
        return JsonResponse(
            error_body(detail=refusal.message, code=refusal.code, field=refusal.field), status=refusal.status
        )
    html = render_to_string(
        "bad_input.html",
        {"message": refusal.message, "code": refusal.code, "field": refusal.field},
        request=request,
    )
    return HttpResponse(html, status=refusal.status)


class UntrustedInputMiddleware:
    """Refuses requests whose path, query string, session token, form fields or JSON body hold unsafe
    text (``core.text``), before the view is called (``process_view`` runs once the URL is resolved, so a
    view can opt out of the body check with ``@raw_body_allowed``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        try:
            self.check(request, view_func)
        except Refusal as refusal:
            return refusal_response(request, refusal)
        return None

    def check(self, request: HttpRequest, view_func: Callable[..., Any]) -> None:
        _text(request.path, field="path")
        if request.META.get("QUERY_STRING"):
            _urlencoded(_query_bytes(request), where=_("query parameter"))
        token = request.META.get(SESSION_TOKEN_HEADER)
        if token:
            _text(token, field="X-Session-Token")
        if request.method not in BODY_METHODS:
            return
        if getattr(view_func, RAW_BODY_ATTRIBUTE, False):
            return
        _check_body(request)
