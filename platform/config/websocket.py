"""WebSocket routes. Feature apps (negotiation threads, transcoding progress) add theirs here."""

from typing import Any

websocket_urlpatterns: list[Any] = []
