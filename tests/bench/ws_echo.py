"""A bare echo consumer: the floor that ``make bench`` measures the negotiation thread against.

The same stack as the thread (uvicorn, Channels, the session and origin checks of the ASGI app, the Redis
channel layer, one group per thread) with nothing of the product: no database, no checks, no numbering.
A text frame is relayed as it came to every socket of the thread's group, the sender's included, as the
thread does with its events. Routed only when BENCH_ECHO=1 (platform/config/websocket.py imports this
module then, from the repository root that tests/bench/ws_stack.py puts on the servers' PYTHONPATH); never
in production.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class BenchEchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"bench-echo-{int(self.scope['url_route']['kwargs']['thread'])}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(self.group, {"type": "echo.frame", "text": text_data})

    async def echo_frame(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


urlpatterns: list[Any] = [path("ws/bench-echo/<int:thread>/", BenchEchoConsumer.as_asgi())]
