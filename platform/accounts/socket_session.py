"""WebSockets bound to the session they opened with.

An HTTP request is checked against its session at every request; a socket lives for hours, so it is bound
to its session here and the same rules reach it (docs/thread-protocol.md, "Sessions"):

- ``SocketAuthMiddleware`` finds who the socket speaks for: the session named by the session cookie, or by
  allauth's ``X-Session-Token`` header (app clients; the token is the session key), checked as Django's
  ``get_user`` checks it, plus the idle and absolute limits.
- ``session_state`` re-reads everything a session's validity depends on: the session still in the store
  (logout flushes it), the same auth hash (a password change ends the other sessions), not idle for longer
  than ``SESSION_IDLE_TIMEOUT_SECONDS``, not older than its absolute lifetime since its login, the account
  active and still ready (verified email, TOTP enrolled). Consumers call it at connect, before writes and
  every ``SOCKET_SESSION_CHECK_SECONDS`` (``accounts.live.LiveConsumer``).
- Signals push the news at once: a deleted session (logout, by any route) closes its sockets, and a change
  to an account, its authenticators, memberships, team seats or accreditations makes that user's sockets
  re-check at once. The periodic check is the safety net for whatever changes without a signal.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

from allauth.mfa.models import Authenticator
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare

from accounts.middleware import (
    ACTIVITY_GRANULARITY_SECONDS,
    ALLAUTH_METHODS_KEY,
    IDLE_KEY,
    session_absolute_limit,
    session_idle_expired,
    session_started_at,
)
from accounts.models import Accreditation, Membership, User
from accounts.policy import account_readiness
from core.hmacs import session_auth_hashes
from festival.models import FilmTeamMember

log = logging.getLogger(__name__)

SESSION_ENDED = 4401  # close code: the session this socket opened with has ended (sign in again)
LOGIN_RECORDS_KEY = ALLAUTH_METHODS_KEY  # allauth's record of how (and when) a session signed in


def check_seconds() -> float:
    """How often an open socket re-reads its session even when no signal said anything changed."""
    return float(settings.SOCKET_SESSION_CHECK_SECONDS)


def write_check_seconds() -> float:
    """How stale the last full check may be when a plain message is written (the thread's hot path; the
    statement itself re-checks the session row and the account, ``offers.services.thread.MESSAGE_SQL``)."""
    return float(settings.SOCKET_SESSION_WRITE_CHECK_SECONDS)


def _store(session_key: str | None = None) -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return store


def _digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:40]


def session_group(session_key: str) -> str:
    """The channel-layer group of one session's sockets (named by a digest: no session key in Redis names)."""
    return f"socket-session-{_digest(session_key)}"


def user_group(user_id: int) -> str:
    return f"socket-user-{user_id}"


@dataclass(frozen=True)
class SessionState:
    """One reading of a session: ``user`` when it is still good, with the time (epoch seconds) at which it
    ends by itself if nothing happens (idle or absolute limit) and the time its activity stamp is due."""

    user: User | None
    ends_at: float = float("inf")
    touch_due_at: float = float("inf")

    @property
    def alive(self) -> bool:
        return self.user is not None and time.time() < self.ends_at


ENDED = SessionState(user=None)


def _verified_user(data: dict[str, Any], user_id: int | None) -> User | None:
    """Django's ``get_user`` on already-read session data, read afresh: the backend, the user, the session
    hash (the current or a fallback secret's), an active account."""
    raw_id, backend = data.get(SESSION_KEY), data.get(BACKEND_SESSION_KEY)
    if raw_id is None or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    if user_id is not None and str(raw_id) != str(user_id):
        return None
    user = User.objects.filter(pk=raw_id, is_active=True).first()
    session_hash = data.get(HASH_SESSION_KEY)
    if user is None or not session_hash:
        return None
    if not any(constant_time_compare(session_hash, h) for h in session_auth_hashes(user.password)):
        return None
    return user


def session_state(
    session_key: str | None, *, user_id: int | None = None, touch: bool = False
) -> SessionState:
    """Re-read ``session_key`` from the store and every rule it depends on. ``touch``: the socket's user
    just acted, which counts as activity for the idle limit (written at most once a minute, as
    ``SessionIdleTimeoutMiddleware`` does)."""
    if not session_key:
        return ENDED
    store = _store(session_key)
    data = store.load()  # {} when the store has no such session or it has expired
    user = _verified_user(data, user_id)
    if user is None:
        return ENDED
    now = time.time()
    if session_idle_expired(store, int(now)):
        return ENDED
    started = session_started_at(store)  # the same rules as every HTTP door (accounts.middleware)
    ends_at = float("inf") if started is None else started + session_absolute_limit()
    if now >= ends_at:
        return ENDED
    if not account_readiness(user).ready:  # TOTP removed, email no longer verified
        return ENDED
    last = data.get(IDLE_KEY)
    if last is not None and touch and now - int(last) >= ACTIVITY_GRANULARITY_SECONDS:
        store[IDLE_KEY] = last = int(now)
        try:
            store.save()  # an update: a session deleted meanwhile raises, it is never re-created
        except UpdateError:
            return ENDED
    if last is not None:
        ends_at = min(ends_at, int(last) + settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
        touch_due = float(int(last) + ACTIVITY_GRANULARITY_SECONDS)
    else:
        touch_due = float("inf")
    return SessionState(user=user, ends_at=ends_at, touch_due_at=touch_due)


def user_state(user_id: int) -> SessionState:
    """For a socket whose scope came with a user and no session (Channels' test communicator builds such
    scopes; no server does): the account rules alone."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not account_readiness(user).ready:
        return ENDED
    return SessionState(user=user)


def bound_state(scope: dict[str, Any], user: User, *, touch: bool = False) -> SessionState:
    """The state of the session ``scope``'s socket is bound to (see ``SocketAuthMiddleware``)."""
    if not user.is_authenticated:
        return ENDED
    session_key = scope.get("session_key")
    if session_key is None and scope.get("session_bound") is False:
        return user_state(user.pk)
    return session_state(session_key, user_id=user.pk, touch=touch)


# --- who a socket speaks for -----------------------------------------------------------------------


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}


def scope_cookies(scope: dict[str, Any]) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(_headers(scope).get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}


def _authenticate(session_key: str | None) -> tuple[Any, str | None]:
    if not session_key or not _store()._validate_session_key(session_key):  # type: ignore[attr-defined]
        return AnonymousUser(), None
    state = session_state(session_key)
    if not state.alive:
        return AnonymousUser(), None
    return state.user, session_key


class SocketAuthMiddleware:
    """Puts ``user`` and ``session_key`` in a WebSocket's scope (replaces Channels' AuthMiddlewareStack).

    The session comes from the session cookie (browsers) or from allauth's ``X-Session-Token`` header (app
    clients, whose token is the session key). A scope that already holds a user (built by a test
    harness, never by a server) keeps it and is bound to that account alone (``session_bound`` False)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        cookies = scope_cookies(scope)
        scope["cookies"] = cookies
        if "user" in scope:
            scope.setdefault("session_key", None)
            scope["session_bound"] = scope["session_key"] is not None
        else:
            token = cookies.get(settings.SESSION_COOKIE_NAME) or _headers(scope).get("x-session-token")
            scope["user"], scope["session_key"] = await database_sync_to_async(_authenticate)(token)
            scope["session_bound"] = True
        return await self.inner(scope, receive, send)


# --- news that reaches open sockets at once ----------------------------------------------------------


def _tell(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the periodic check still closes the socket within seconds
        log.warning("could not tell the sockets of %s", group, exc_info=True)


def sockets_end_session(session_key: str) -> None:
    transaction.on_commit(lambda: _tell(session_group(session_key), {"type": "socket.session_ended"}))


def sockets_recheck_user(user_id: int | None) -> None:
    if user_id is not None:
        transaction.on_commit(lambda: _tell(user_group(user_id), {"type": "socket.recheck"}))


def connect_signals() -> None:
    """Called once by ``AccountsConfig.ready``, in every process (web, worker, shell): a change made
    anywhere reaches the sockets."""

    def session_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
        sockets_end_session(instance.session_key)

    def user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        sockets_recheck_user(instance.pk)

    def related_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        sockets_recheck_user(getattr(instance, "user_id", None))

    # weak=False: the receivers are local functions, which a weak reference would drop at once.
    post_delete.connect(session_deleted, sender=Session, weak=False, dispatch_uid="socket_session_deleted")
    post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="socket_user_saved")
    post_delete.connect(user_changed, sender=User, weak=False, dispatch_uid="socket_user_deleted")
    for model in (Authenticator, Accreditation, Membership, FilmTeamMember):
        for signal in (post_save, post_delete):
            signal.connect(
                related_changed,
                sender=model,
                weak=False,
                dispatch_uid=f"socket_{model.__name__}_{id(signal)}",
            )
