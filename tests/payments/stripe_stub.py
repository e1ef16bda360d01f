"""A local HTTP server that answers like Stripe for the calls the product makes, and records what it was
sent (path, form fields, headers), so tests can check idempotency keys, amounts and destinations.

Stripe's servers are out of reach here; stripe-python itself talks to this one (``STRIPE_API_BASE``).
What a customer does on Stripe's side (paying on the Checkout page, a card decline, a bank opening a
dispute) is played by the test through ``pay``, ``decline`` and ``open_dispute``; ``webhook`` then signs
the event as Stripe does, for the product's webhook endpoint.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

WEBHOOK_SECRET = "whsec_stub"
PUBLISHED = Path(__file__).with_name("fixtures") / "stripe_fixtures3.json"


def published(name: str) -> dict[str, Any]:
    """A fresh copy of one of Stripe's published example objects (``tests/payments/fixtures``, copied from
    ``openapi/fixtures3.json`` in github.com/stripe/openapi; its ``_source`` says which commit)."""
    return copy.deepcopy(json.loads(PUBLISHED.read_text())[name])


@dataclass
class Request:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


def _nested(form: dict[str, str], prefix: str) -> dict[str, str]:
    """``metadata[instalment_id]=7`` -> {"instalment_id": "7"} for prefix ``metadata``."""
    start = prefix + "["
    return {
        key[len(start) : -1]: value
        for key, value in form.items()
        if key.startswith(start) and key.count("[") == prefix.count("[") + 1
    }


class SessionClosed(Exception):
    """The test tried to pay on a Checkout Session that Stripe no longer takes payments on."""


class StripeError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class StripeStub:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    refuse_reversals: str | None = None  # a message: the next transfer reversals fail with it
    refuse_refunds: str | None = None  # a message: the next refunds fail with it (as Stripe's 400)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the product asks ------------------------------------------------------------------------

    def answer(self, request: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key in self.by_idempotency_key:
                return 200, self.by_idempotency_key[key]  # Stripe replays the first answer
            try:
                body = self._route(request)
            except StripeError as exc:
                error = {"type": "invalid_request_error", "message": exc.message, "code": exc.code}
                return exc.status, {"error": error}
            if key and request.method == "POST":
                self.by_idempotency_key[key] = body
            return 200, body

    def _route(self, request: Request) -> dict[str, Any]:
        form, path = request.form, request.path
        if request.method == "GET":
            # Lists, filtered as Stripe filters them: transfers and charges by transfer group, disputes by
            # charge or PaymentIntent
            filters = {
                "/v1/transfers": ("transfer_group",),
                "/v1/charges": ("transfer_group", "payment_intent"),
                "/v1/disputes": ("charge", "payment_intent"),
            }
            if path in filters:
                wanted = {name: form[name] for name in filters[path] if name in form}
                data = [
                    o
                    for k, o in self.objects.items()
                    if k.count("/") == 3
                    and k.startswith(path + "/")
                    and all(o.get(name) == value for name, value in wanted.items())
                ]
                return {"object": "list", "data": data, "has_more": False, "url": path}
            if path in self.objects:
                return self.objects[path]
            raise StripeError(404, f"No such object: {path.rsplit('/', 1)[-1]}", "resource_missing")
        if path == "/v1/accounts":
            return self._store(
                "/v1/accounts",
                "acct",
                {
                    "object": "account",
                    "type": form.get("type", "express"),
                    "country": form.get("country"),
                    "details_submitted": False,
                    "charges_enabled": False,
                    "payouts_enabled": False,
                    "requirements": {"currently_due": ["external_account"]},
                },
            )
        if path == "/v1/account_links":
            return {
                "object": "account_link",
                "url": f"{self.url}/onboarding/{form.get('account')}",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
            }
        if path == "/v1/checkout/sessions":
            return self._store(
                "/v1/checkout/sessions",
                "cs",
                {
                    "object": "checkout.session",
                    "mode": form.get("mode"),
                    "status": "open",
                    "payment_status": "unpaid",
                    "payment_intent": None,
                    "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                    "currency": form["line_items[0][price_data][currency]"],
                    "metadata": _nested(form, "metadata"),
                    "client_reference_id": form.get("client_reference_id"),
                    "customer_email": form.get("customer_email"),
                    "success_url": form.get("success_url"),
                    "cancel_url": form.get("cancel_url"),
                    "adaptive_pricing": {"enabled": form.get("adaptive_pricing[enabled]") != "false"},
                    "url": None,  # set below, once the id is known
                    "_payment_intent_data": {
                        "transfer_group": form.get("payment_intent_data[transfer_group]"),
                        "metadata": _nested(form, "payment_intent_data[metadata]"),
                        "receipt_email": form.get("payment_intent_data[receipt_email]"),
                    },
                },
                after=lambda s: s.update(url=f"{self.url}/pay/{s['id']}"),
            )
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)/expire", path):
            session = self._get("/v1/checkout/sessions", match[1])
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session is {session['status']}; it cannot be expired.")
            session["status"] = "expired"
            return session
        if path == "/v1/transfers":
            return self._store(
                "/v1/transfers",
                "tr",
                {
                    "object": "transfer",
                    "amount": int(form["amount"]),
                    "currency": form["currency"],
                    "destination": form["destination"],
                    "transfer_group": form.get("transfer_group"),
                    "source_transaction": form.get("source_transaction"),
                    "amount_reversed": 0,
                    "reversed": False,
                    "metadata": _nested(form, "metadata"),
                },
            )
        if match := re.fullmatch(r"/v1/transfers/([^/]+)/reversals", path):
            transfer = self._get("/v1/transfers", match[1])
            if self.refuse_reversals:
                raise StripeError(400, self.refuse_reversals, "insufficient_funds")
            amount = int(form.get("amount") or transfer["amount"] - transfer["amount_reversed"])
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            return self._store(
                f"/v1/transfers/{transfer['id']}/reversals",
                "trr",
                {
                    "object": "transfer_reversal",
                    "amount": amount,
                    "transfer": transfer["id"],
                },
            )
        if path == "/v1/refunds":
            intent = self._get("/v1/payment_intents", form["payment_intent"])
            charge = self._get("/v1/charges", intent["latest_charge"])
            if self.refuse_refunds:
                raise StripeError(400, self.refuse_refunds, "refund_refused")
            disputes = self._all("/v1/disputes")
            if any(d["charge"] == charge["id"] and not d["is_charge_refundable"] for d in disputes):
                message = f"Charge {charge['id']} has been charged back; cannot issue a refund."
                raise StripeError(400, message, "charge_disputed")  # Stripe's own refusal
            if charge["amount_refunded"] >= charge["amount"]:
                raise StripeError(
                    400, f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
                )
            amount = int(form.get("amount") or charge["amount"] - charge["amount_refunded"])
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            return self._store(
                "/v1/refunds",
                "re",
                {
                    "object": "refund",
                    "amount": amount,
                    "currency": charge["currency"],
                    "payment_intent": intent["id"],
                    "charge": charge["id"],
                    "status": "succeeded",
                    "reason": form.get("reason"),
                    "metadata": _nested(form, "metadata"),
                },
            )
        raise StripeError(404, f"Unrecognized request URL (POST: {path})")

    def _store(self, collection: str, prefix: str, body: dict[str, Any], after: Any = None) -> dict[str, Any]:
        body = {"id": f"{prefix}_stub{next(self.ids)}", **body}
        if after:
            after(body)
        self.objects[f"{collection}/{body['id']}"] = body
        return body

    def _all(self, collection: str) -> list[dict[str, Any]]:
        return [o for k, o in self.objects.items() if k.count("/") == 3 and k.startswith(collection + "/")]

    def _get(self, collection: str, object_id: str) -> dict[str, Any]:
        try:
            return self.objects[f"{collection}/{object_id}"]
        except KeyError:
            raise StripeError(404, f"No such object: '{object_id}'", "resource_missing") from None

    # --- what customers, banks and Stripe do ----------------------------------------------------------

    def account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Change a connected account as Stripe would after onboarding (``charges_enabled=True``...)."""
        account = self._get("/v1/accounts", account_id)
        account.update(fields)
        return account

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays on the Checkout page: a succeeded PaymentIntent and its charge."""
        with self.lock:
            session = self._get("/v1/checkout/sessions", session_id)
            if session["status"] != "open":
                raise SessionClosed(f"{session_id} is {session['status']}: Stripe takes no payment on it")
            intent = self._intent(session)
            charge = self._store(
                "/v1/charges",
                "ch",
                {
                    "object": "charge",
                    "amount": intent["amount"],
                    "currency": intent["currency"],
                    "payment_intent": intent["id"],
                    "transfer_group": intent["transfer_group"],
                    "amount_refunded": 0,
                    "refunded": False,
                    "paid": True,
                    "status": "succeeded",
                    "disputed": False,
                    "receipt_url": f"{self.url}/receipts/{intent['id']}",
                },
            )
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
            )
            session.update(status="complete", payment_status="paid")
            return intent

    def second_session(self, session_id: str) -> dict[str, Any]:
        """Another open Checkout Session for the same instalment, which the product never expired (one
        opened from a second tab while the first was being created, or by an older release)."""
        with self.lock:
            session = self._get("/v1/checkout/sessions", session_id)
            data = copy.deepcopy({k: v for k, v in session.items() if k != "id"})
            data.update(status="open", payment_status="unpaid", payment_intent=None)
            return self._store(
                "/v1/checkout/sessions", "cs", data, after=lambda s: s.update(url=f"{self.url}/pay/{s['id']}")
            )

    def decline(self, session_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        """A card is declined on the Checkout page: the PaymentIntent waits for another payment method."""
        with self.lock:
            session = self._get("/v1/checkout/sessions", session_id)
            if session["status"] != "open":
                raise SessionClosed(f"{session_id} is {session['status']}: Stripe takes no payment on it")
            intent = self._intent(session)
            failed = self._store(  # a declined card leaves a failed charge in the deal's transfer group
                "/v1/charges",
                "ch",
                {
                    "object": "charge",
                    "amount": intent["amount"],
                    "currency": intent["currency"],
                    "payment_intent": intent["id"],
                    "transfer_group": intent["transfer_group"],
                    "amount_refunded": 0,
                    "refunded": False,
                    "paid": False,
                    "status": "failed",
                    "disputed": False,
                    "failure_message": message,
                },
            )
            intent.update(
                latest_charge=failed["id"],
                status="requires_payment_method",
                last_payment_error={"type": "card_error", "code": "card_declined", "message": message},
            )
            return intent

    def _intent(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["payment_intent"]:
            return self._get("/v1/payment_intents", session["payment_intent"])
        data = session["_payment_intent_data"]
        intent = self._store(
            "/v1/payment_intents",
            "pi",
            {
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0,
                "currency": session["currency"],
                "status": "requires_payment_method",
                "transfer_group": data["transfer_group"],
                "metadata": data["metadata"],
                "receipt_email": data["receipt_email"],
                "latest_charge": None,
                "last_payment_error": None,
            },
        )
        session["payment_intent"] = intent["id"]
        return intent

    def open_dispute(self, charge_id: str, status: str = "needs_response") -> dict[str, Any]:
        """A bank disputes a charge. A chargeback (``needs_response``, ``under_review``, ``won``, ``lost``)
        withdraws the amount from the balance (one balance transaction; a won one a second, reinstating
        it); an inquiry (``warning_*``) moves no money and the charge can still be refunded."""
        with self.lock:
            charge = self._get("/v1/charges", charge_id)
            inquiry = status.startswith("warning_")
            charge["disputed"] = charge["disputed"] or not inquiry
            dispute = self._store(
                "/v1/disputes",
                "dp",
                {
                    "object": "dispute",
                    "amount": charge["amount"],
                    "currency": charge["currency"],
                    "charge": charge_id,
                    "payment_intent": charge["payment_intent"],
                    "reason": "general" if inquiry else "fraudulent",
                    "status": status,
                    "is_charge_refundable": inquiry,
                    "balance_transactions": [],
                },
            )
            if not inquiry:
                self._move(dispute, -dispute["amount"], "dispute")
            if status == "won":
                self._move(dispute, dispute["amount"], "dispute_reversal")
            return dispute

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """The bank decides: ``won`` reinstates the funds, ``lost`` keeps them withdrawn; an inquiry closes
        as ``warning_closed``; ``needs_response`` turns an inquiry into a chargeback."""
        with self.lock:
            dispute = self._get("/v1/disputes", dispute_id)
            withdrawn = any(bt["amount"] < 0 for bt in dispute["balance_transactions"])
            if status in ("needs_response", "under_review", "won", "lost") and not withdrawn:
                self._move(dispute, -dispute["amount"], "dispute")
                dispute["is_charge_refundable"] = False
                self._get("/v1/charges", dispute["charge"])["disputed"] = True
            if status == "won":
                self._move(dispute, dispute["amount"], "dispute_reversal")
            dispute["status"] = status
            return dispute

    def _move(self, dispute: dict[str, Any], amount: int, category: str) -> None:
        dispute["balance_transactions"].append(
            {
                "id": f"txn_stub{next(self.ids)}",
                "object": "balance_transaction",
                "amount": amount,
                "currency": dispute["currency"],
                "fee": 1500 if amount < 0 else -1500,
                "net": amount - 1500 if amount < 0 else amount + 1500,
                "reporting_category": category,
                "type": "adjustment",
                "source": dispute["id"],
            }
        )

    def get(self, collection: str, object_id: str) -> dict[str, Any]:
        return self._get(collection, object_id)

    def webhook(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        secret: str = WEBHOOK_SECRET,
        timestamp: int | None = None,
    ) -> tuple[bytes, str]:
        """The raw body and ``Stripe-Signature`` header Stripe would send for this event (a snapshot of
        the object as it is now, which the product must not trust for money: it re-reads it)."""
        event = {
            "id": event_id or f"evt_stub{next(self.ids)}",
            "object": "event",
            "type": event_type,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {k: v for k, v in obj.items() if not k.startswith("_")}},
        }
        payload = json.dumps(event).encode()
        return payload, sign(payload, secret, timestamp)


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the endpoint secret>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


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
            data = json.dumps({k: v for k, v in body.items() if not k.startswith("_")}).encode()
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
