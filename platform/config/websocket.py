"""WebSocket routes. Each feature app adds its consumers here."""

from typing import Any

from django.urls import path

from screening.consumers import CutProgressConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/films/<int:film_id>/cuts/", CutProgressConsumer.as_asgi()),
]
