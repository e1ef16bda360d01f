"""Records the client IP of each request for the audit log (see ``audit.context``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from audit.context import client_ip_context


def request_client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the first hop of X-Forwarded-For when ``AUDIT_TRUST_X_FORWARDED_FOR`` is true.

    The header is trivially forged by any client, so it is trusted only behind a proxy that sets it
    (and the setting says so); an unparseable address gives None rather than a made-up value.
    """
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class AuditContextMiddleware:
    """Sets the audit client IP for the duration of the request, then restores the previous value."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._is_async:
            return self.__acall__(request)
        with client_ip_context(request_client_ip(request)):
            response: HttpResponseBase = self.get_response(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        with client_ip_context(request_client_ip(request)):
            response: HttpResponseBase = await self.get_response(request)
        return response
