"""Stripe's webhook endpoint."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.middleware import raw_body_allowed
from payments import gateway
from payments.services.webhooks import receive_webhook


@csrf_exempt
@raw_body_allowed
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe's deliveries: no session, no CSRF token; the signature of the raw body is the credential.
    The body reaches ``receive_webhook`` untouched (``raw_body_allowed``): it is stored byte for byte
    and judged there, after its signature holds."""
    try:
        reply = receive_webhook(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except gateway.PaymentsNotConfigured:
        return JsonResponse({"detail": "payments are not configured"}, status=503)
    return JsonResponse({"detail": reply.detail}, status=reply.status)
