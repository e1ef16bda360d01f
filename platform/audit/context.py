"""The request's client IP, carried to ``audit_record`` without threading it through every service.

A ``ContextVar`` (not a thread-local) so it follows the request through async code and into
``sync_to_async`` threads, and never leaks between requests: the middleware resets it afterwards.
Code outside HTTP (a Channels consumer, a Celery task) can use ``client_ip_context`` the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def normalise_ip(value: str | None) -> str | None:
    """The canonical text of an IP address, or None when ``value`` is empty or not an address.

    IPv4-mapped IPv6 addresses are unpacked to IPv4 and IPv6 is compressed and lower-cased, which is
    also how PostgreSQL's ``inet`` prints them: the hashed value is the value read back.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def get_client_ip() -> str | None:
    return _client_ip.get()


def set_client_ip(ip: str | None) -> Token[str | None]:
    return _client_ip.set(normalise_ip(ip))


def reset_client_ip(token: Token[str | None]) -> None:
    _client_ip.reset(token)


@contextmanager
def client_ip_context(ip: str | None) -> Iterator[None]:
    token = set_client_ip(ip)
    try:
        yield
    finally:
        reset_client_ip(token)
