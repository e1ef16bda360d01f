"""The Stripe-shaped local server, for every payments test that talks to "Stripe"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from tests.payments.stripe_stub import StripeStub, handler_for


@pytest.fixture
def stripe_stub(settings: Any) -> Iterator[StripeStub]:
    stub = StripeStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = "sk_test_stub"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_stub"
    settings.STRIPE_API_BASE = stub.url
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
