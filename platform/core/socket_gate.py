"""The door every WebSocket handshake passes before any consumer: the Origin, and paths no route serves.

``SiteOriginValidator`` replaces Channels' ``AllowedHostsOriginValidator``, which compares host names only
(so ``http://127.0.0.1:9999`` or ``https://`` on a plain-HTTP site passed): the whole origin (scheme, host
and port) must be the site's own, either ``SITE_URL``'s or the origin of the handshake itself (its Host
header, when that is one of ``ALLOWED_HOSTS``, with the scheme it arrived on).

``refuse_unknown`` is the last route: a path that no consumer serves (``/ws/offers/abc/``,
``/ws/nowhere/``) is refused at the handshake with 4404, without a traceback.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

NOT_FOUND = 4404
FOREIGN_ORIGIN = 4403
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int] | None:
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host.lower().rstrip("."), port if port is not None else DEFAULT_PORTS[scheme]


def parse_origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin header value or a site URL; None when it is not one."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return _origin(parts.scheme.lower(), parts.hostname or "", port)


def site_origins(scope: dict[str, Any]) -> set[tuple[str, str, int]]:
    """The origins a page of this site can have, for this handshake."""
    origins = set()
    site = parse_origin(getattr(settings, "SITE_URL", "") or "")
    if site is not None:
        origins.add(site)
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    host_header = headers.get(b"host", b"").decode("latin1")
    if host_header and validate_host(split_domain_port(host_header)[0], settings.ALLOWED_HOSTS):
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        own = parse_origin(f"{scheme}://{host_header}")
        if own is not None:
            origins.add(own)
    return origins


async def _deny(receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": NOT_FOUND})


class SiteOriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        origin = None
        for name, value in scope.get("headers", []):
            if name.lower() == b"origin":
                origin = parse_origin(value.decode("latin1"))
        if origin is None or origin not in site_origins(scope):
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": FOREIGN_ORIGIN})
            return None
        return await self.application(scope, receive, send)


async def refuse_unknown(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The last WebSocket route: no consumer serves this path."""
    await _deny(receive, send)
