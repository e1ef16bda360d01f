"""Records the client IP of each request, and of each WebSocket frame, for the audit log (see
``audit.context``): one rule for both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from audit.context import client_ip_context


def client_ip(*, peer: str | None, forwarded_for: str) -> str | None:
    """The peer's address, or the first hop of X-Forwarded-For when ``AUDIT_TRUST_X_FORWARDED_FOR`` is
    true.

    The header is trivially forged by any client, so it is trusted only behind a proxy that sets it
    (and the setting says so); an unparseable address gives None rather than a made-up value.
    """
    if settings.AUDIT_TRUST_X_FORWARDED_FOR and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return peer


def request_client_ip(request: HttpRequest) -> str | None:
    return client_ip(
        peer=request.META.get("REMOTE_ADDR"), forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def scope_client_ip(scope: dict[str, Any]) -> str | None:
    """The same rule for an ASGI scope (a WebSocket's handshake)."""
    peer = scope.get("client")
    headers = dict(scope.get("headers") or ())
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    return client_ip(peer=peer[0] if peer else None, forwarded_for=forwarded)


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
