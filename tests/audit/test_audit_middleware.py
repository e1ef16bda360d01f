"""AuditContextMiddleware: the request's client IP reaches audit entries, and only for that request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from audit.context import get_client_ip
from audit.middleware import AuditContextMiddleware
from audit.services import audit_record


def ip_seen_by_view(**meta: Any) -> str | None:
    seen: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(get_client_ip())
        return HttpResponse("ok")

    AuditContextMiddleware(view)(RequestFactory().get("/", **meta))
    return seen[0]


def test_sets_remote_addr_and_resets_after_the_response() -> None:
    assert ip_seen_by_view(REMOTE_ADDR="203.0.113.5") == "203.0.113.5"
    assert get_client_ip() is None


def test_resets_even_when_the_view_raises() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        AuditContextMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR="203.0.113.5"))
    assert get_client_ip() is None


def test_forwarded_for_is_ignored_by_default() -> None:
    assert ip_seen_by_view(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1") == "10.0.0.1"


@override_settings(AUDIT_TRUST_X_FORWARDED_FOR=True)
def test_forwarded_for_first_hop_when_trusted() -> None:
    seen = ip_seen_by_view(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 10.0.0.2")
    assert seen == "198.51.100.1"


def test_unparseable_address_gives_none() -> None:
    assert ip_seen_by_view(REMOTE_ADDR="not an address") is None


def test_async_path_sets_and_resets() -> None:
    seen: list[str | None] = []

    async def view(request: HttpRequest) -> HttpResponse:
        seen.append(get_client_ip())
        return HttpResponse("ok")

    middleware = AuditContextMiddleware(view)
    response = asyncio.run(middleware(RequestFactory().get("/", REMOTE_ADDR="2001:db8::7")))  # type: ignore[arg-type]
    assert response.status_code == 200
    assert seen == ["2001:db8::7"]
    assert get_client_ip() is None


@pytest.mark.django_db
def test_entries_written_during_the_request_carry_its_ip() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            entry = audit_record(action="user.login", actor=None)
        return HttpResponse(entry.ip or "")

    response = AuditContextMiddleware(view)(RequestFactory().post("/", REMOTE_ADDR="192.0.2.77"))
    assert response.content == b"192.0.2.77"
