"""WebSocket routes. Each feature app adds its consumers here; the last route refuses every other path."""

import os
from typing import Any

from django.urls import path, re_path

from core.socket_gate import refuse_unknown
from offers.consumers import ThreadConsumer
from payments.consumers import PaymentStatusConsumer
from screening.consumers import CutProgressConsumer
from screening.forensics.consumers import TraceProgressConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/films/<int:film_id>/cuts/", CutProgressConsumer.as_asgi()),
    path("ws/offers/<int:offer_id>/", ThreadConsumer.as_asgi()),
    path("ws/agreements/<uuid:public_id>/payments/", PaymentStatusConsumer.as_asgi()),
    path("ws/forensics/traces/<uuid:trace_id>/", TraceProgressConsumer.as_asgi()),
]

if os.environ.get("BENCH_ECHO") == "1":  # the floor of `make bench` (tests/bench/test_ws_bench.py) only
    from tests.bench.ws_echo import urlpatterns as bench_echo_urlpatterns

    websocket_urlpatterns += bench_echo_urlpatterns

websocket_urlpatterns.append(re_path(r"", refuse_unknown))  # type: ignore[arg-type]  # last: no traceback for unknown paths
