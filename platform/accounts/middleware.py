"""Session hygiene and security headers (docs/architecture.md, security baseline)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse

IDLE_KEY = "_last_activity"
STARTED_KEY = "_session_started"
ACTIVITY_GRANULARITY_SECONDS = 60
# allauth records each authentication of the session with its time ("at"), at login and reauthentication
ALLAUTH_METHODS_KEY = "account_authentication_methods"
SESSION_TOKEN_HEADER = "HTTP_X_SESSION_TOKEN"  # noqa: S105 (a header name, not a secret)
# Django's session keys: 32 characters of [a-z0-9]; anything else is no session of ours.
_SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{8,64}")


def session_absolute_limit() -> int:
    """Seconds a signed-in session lives at most, whatever its activity (12 hours by default)."""
    return int(settings.SESSION_ABSOLUTE_LIFETIME_SECONDS)


def session_idle_expired(session: SessionBase, now: int) -> bool:
    """True when a signed-in session has been idle longer than SESSION_IDLE_TIMEOUT_SECONDS."""
    last = session.get(IDLE_KEY)
    return last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT_SECONDS


def session_started_at(session: SessionBase) -> int | None:
    """When this session was signed in: our own stamp, else allauth's first authentication record."""
    started = session.get(STARTED_KEY)
    if started is not None:
        return int(started)
    records = session.get(ALLAUTH_METHODS_KEY) or []
    times = [int(record["at"]) for record in records if isinstance(record, dict) and "at" in record]
    return min(times) if times else None


def session_expired(session: SessionBase, now: int) -> bool:
    """True when a signed-in session is past its idle timeout or its absolute lifetime.

    Every door that accepts a session asks this one question: pages and the API with the cookie, the API
    and allauth's headless API with an ``X-Session-Token``, the playback front (``screening.asgi``), and
    the sockets.
    """
    if session_idle_expired(session, now):
        return True
    started = session_started_at(session)
    return started is not None and now - started > session_absolute_limit()


def session_touch(session: SessionBase, now: int) -> None:
    """Record activity (once a minute at most: a session write on every request, every playlist and key
    of a playing screener, would cost a database write per request) and the start of the session."""
    last = session.get(IDLE_KEY)
    if last is None or now - int(last) >= ACTIVITY_GRANULARITY_SECONDS:
        session[IDLE_KEY] = now
    if session.get(STARTED_KEY) is None:
        session[STARTED_KEY] = session_started_at(session) or now


def _token_session(token: str) -> SessionBase | None:
    """The session an ``X-Session-Token`` names (allauth's session token strategy: the token is the
    session key), or None for a token that names no stored session."""
    if not _SESSION_KEY_SHAPE.fullmatch(token):
        return None
    engine = import_module(settings.SESSION_ENGINE)
    session: SessionBase = engine.SessionStore(session_key=token)
    session.get(SESSION_KEY)  # loads it; a missing or expired session clears its key
    return session if session.session_key else None


class SessionIdleTimeoutMiddleware:
    """Ends a signed-in session idle for longer than SESSION_IDLE_TIMEOUT_SECONDS (15 minutes by default)
    or older than its absolute lifetime (SESSION_COOKIE_AGE, 12 hours, from sign-in; never extended by
    activity).

    Both kinds of session obey the same limits: the browser's cookie session, and the headless session
    that allauth's app API and the REST API load from the ``X-Session-Token`` header. A token session
    past a limit is emptied (signed out) and saved under the same key, so allauth then answers it as a
    session that is not signed in (401) and the REST API as a request without credentials (401).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = int(time.time())
        session = request.session
        if session.get(SESSION_KEY):
            if session_expired(session, now):
                logout(request)
            else:
                session_touch(session, now)
        token = request.META.get(SESSION_TOKEN_HEADER)
        if token:
            self.check_token_session(token, now)
        response = self.get_response(request)
        if request.session.get(SESSION_KEY) and request.session.get(STARTED_KEY) is None:
            # Signed in by this very request (the login form): the lifetime counts from now.
            session_touch(request.session, now)
        return response

    def check_token_session(self, token: str, now: int) -> None:
        session = _token_session(token)
        if session is None or not session.get(SESSION_KEY):
            return
        if session_expired(session, now):
            session.clear()
        else:
            session_touch(session, now)
        if session.modified:
            session.save()


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
