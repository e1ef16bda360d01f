"""What the payment pages share: a service's refusal as an answer, the Stripe form targets, absolute
URLs for Stripe to send the browser back to."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core.errors import DomainError, NotFound
from payments import gateway

log = logging.getLogger("payments.views")

NOT_CONFIGURED = gettext_lazy("Payments are not configured on this server.")
STRIPE_FAILED = gettext_lazy("Stripe could not complete the request. Try again in a moment.")
SERVICE_FAILURES = (DomainError, gateway.PaymentsNotConfigured, stripe.StripeError)
# Where our pay and onboarding forms send the browser (by redirect): CSP's form-action must allow them.
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://connect.stripe.com")


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def refused(request: HttpRequest, error: Exception, back: str) -> HttpResponse:
    """A service's refusal (or Stripe's absence or failure) as a message on the page it came from; the
    refusal's own status and reason for clients that ask for JSON. Nothing was changed."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, DomainError):
        message, status, code = error.message, error.status_code, error.code
    elif isinstance(error, gateway.PaymentsNotConfigured):
        message, status, code = str(NOT_CONFIGURED), 503, "payments_not_configured"
    else:
        log.warning("Stripe call failed for %s: %s", request.path, error)
        message, status, code = str(STRIPE_FAILED), 502, "stripe_failed"
    if _wants_json(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    messages.error(request, message)
    return redirect(back)


def allow_stripe_forms(response: HttpResponse) -> HttpResponse:
    """Let this page's forms redirect to Stripe's Checkout and Connect (``SecurityHeadersMiddleware``)."""
    targets = list(STRIPE_FORM_TARGETS)
    if settings.STRIPE_API_BASE:  # a Stripe-shaped test server, whose pages stand in for Stripe's
        parts = urlsplit(settings.STRIPE_API_BASE)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    response.csp_form_action = targets  # type: ignore[attr-defined]
    return response


def absolute_url(request: HttpRequest, name: str, *args: Any, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name, args=args) + (f"?{query}" if query else ""))
