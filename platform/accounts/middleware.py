"""Session hygiene and security headers (ARCHITECTURE.md security baseline)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse

IDLE_KEY = "_last_activity"
ACTIVITY_GRANULARITY_SECONDS = 60


def session_idle_expired(session: SessionBase, now: int) -> bool:
    """True when a signed-in session has been idle longer than SESSION_IDLE_TIMEOUT_SECONDS."""
    last = session.get(IDLE_KEY)
    return last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT_SECONDS


class SessionIdleTimeoutMiddleware:
    """Ends a session idle for longer than SESSION_IDLE_TIMEOUT_SECONDS (15 minutes by default).

    The absolute lifetime is SESSION_COOKIE_AGE (12 hours), set at login and never extended.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.get("_auth_user_id"):
            now = int(time.time())
            last = session.get(IDLE_KEY)
            if session_idle_expired(session, now):
                logout(request)
            elif last is None or now - int(last) >= ACTIVITY_GRANULARITY_SECONDS:
                # Written once a minute at most: a session write on every request (every playlist and key
                # of a playing screener) would cost a database write per request.
                session[IDLE_KEY] = now
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """CSP with frame-ancestors 'self'; private pages and API answers are never cached.

    A view whose forms redirect off-site (to Stripe's Checkout) names those origins in the response's
    ``csp_form_action`` attribute: browsers apply ``form-action`` to the redirect that follows a POST.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Presigned segment URLs point at the media store (S3 or its CDN): the player must reach it.
        media = " ".join(settings.CSP_MEDIA_ORIGINS)
        self.CSP = (
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self'; worker-src 'self' blob:; "
            f"connect-src 'self' ws: wss: {media}".rstrip()
            + "; "
            "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        extra_form_targets = getattr(response, "csp_form_action", ())
        policy = self.CSP
        if extra_form_targets:
            policy = policy.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(extra_form_targets)
            )
        response.setdefault("Content-Security-Policy", policy)
        if request.user.is_authenticated or request.path.startswith(("/api/", "/_allauth/")):
            response["Cache-Control"] = "no-store"
        return response
