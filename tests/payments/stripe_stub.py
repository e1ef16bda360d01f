"""A local HTTP server that answers like Stripe for the calls the product makes, and records what it was
sent (path, form fields, headers), so tests can check idempotency keys, amounts and destinations.

Stripe's servers are out of reach here; stripe-python itself talks to this one (``STRIPE_API_BASE``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class StripeStub:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def answer(self, request: Request) -> tuple[int, dict[str, Any]]:
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key in self.by_idempotency_key:
            return 200, self.by_idempotency_key[key]  # Stripe replays the first answer
        if request.method == "POST" and request.path == "/v1/accounts":
            body = {
                "id": f"acct_stub{next(self.ids)}",
                "object": "account",
                "type": request.form.get("type", "express"),
                "country": request.form.get("country"),
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
                "requirements": {"currently_due": ["external_account"]},
            }
        elif request.method == "POST" and request.path == "/v1/account_links":
            body = {
                "object": "account_link",
                "url": f"{self.url}/onboarding/{request.form.get('account')}",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
            }
        elif request.method == "GET" and request.path in self.objects:
            return 200, self.objects[request.path]
        else:
            return 404, {
                "error": {"type": "invalid_request_error", "message": f"No such route {request.path}"}
            }
        if "id" in body:
            self.objects[f"{request.path}/{body['id']}"] = body
        if key:
            self.by_idempotency_key[key] = body
        return 200, body


def handler_for(stub: StripeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            request = Request(
                self.command,
                path,
                dict(parse_qsl(raw or query)),
                {k.lower(): v for k, v in self.headers.items()},
            )
            stub.requests.append(request)
            status, body = stub.answer(request)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_stub{len(stub.requests)}")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            pass

    return Handler
