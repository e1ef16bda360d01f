"""Every kind of session obeys the same idle timeout and absolute lifetime: the browser's cookie session and
the headless session of allauth's app API (``X-Session-Token``), on the REST API and on allauth's own
endpoints (issue 11, item 4)."""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from accounts.middleware import IDLE_KEY, STARTED_KEY
from tests.conftest import PASSWORD, World, logged_in_client, totp_code

pytestmark = pytest.mark.django_db

SESSION_URL = "/_allauth/app/v1/auth/session"


def headless_login(email: str) -> str:
    """Sign in through allauth's app API (password, then TOTP) and return the X-Session-Token."""
    client = Client()
    start = client.post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": PASSWORD}, content_type="application/json"
    )
    assert start.status_code == 401, start.content
    token = start.json()["meta"]["session_token"]
    done = client.post(
        "/_allauth/app/v1/auth/2fa/authenticate",
        {"code": totp_code()},
        content_type="application/json",
        headers={"X-Session-Token": token},
    )
    assert done.status_code == 200, done.content
    return str(done.json()["meta"]["session_token"])


def stored_session(key: str) -> SessionBase:
    engine = import_module(django_settings.SESSION_ENGINE)
    session: SessionBase = engine.SessionStore(session_key=key)
    return session


def age_session(key: str, **stamps: int) -> None:
    session = stored_session(key)
    for name, value in stamps.items():
        session[name] = value
    session.save()


def api_me(token: str) -> Any:
    return Client().get("/api/me/", headers={"X-Session-Token": token})


def headless_session(token: str) -> Any:
    return Client().get(SESSION_URL, headers={"X-Session-Token": token})


@pytest.fixture
def token(world: World) -> str:
    return headless_login(world.pro.email)


def test_a_fresh_token_works_on_the_api_and_on_allauth(world: World, token: str) -> None:
    me = api_me(token)
    assert me.status_code == 200 and me.json()["email"] == world.pro.email
    session = headless_session(token)
    assert session.status_code == 200
    assert session.json()["meta"]["is_authenticated"] is True


def test_a_token_in_use_is_not_idle(world: World, token: str, settings: Any) -> None:
    """Activity on the token counts: a request within the timeout moves the last activity forward."""
    recent = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS + 30
    age_session(token, **{IDLE_KEY: recent})
    assert api_me(token).status_code == 200
    assert stored_session(token)[IDLE_KEY] > recent
    assert headless_session(token).status_code == 200


@pytest.mark.parametrize("door", ["api", "allauth"])
def test_a_token_idle_longer_than_the_timeout_is_signed_out(
    world: World, token: str, settings: Any, door: str
) -> None:
    assert api_me(token).status_code == 200
    age_session(token, **{IDLE_KEY: int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5})
    if door == "api":
        refused = api_me(token)
        assert refused.status_code == 401, refused.content
        assert refused["WWW-Authenticate"]
    else:
        refused = headless_session(token)
        assert refused.status_code == 401, refused.content
        assert refused.json()["meta"]["is_authenticated"] is False
    # And it stays ended: the next request through the other door is refused too.
    assert api_me(token).status_code == 401
    assert headless_session(token).status_code == 401


@pytest.mark.parametrize("door", ["api", "allauth"])
def test_a_token_past_the_absolute_lifetime_is_signed_out_however_active(
    world: World, token: str, settings: Any, door: str
) -> None:
    now = int(time.time())
    age_session(token, **{STARTED_KEY: now - settings.SESSION_COOKIE_AGE - 5, IDLE_KEY: now})
    refused = api_me(token) if door == "api" else headless_session(token)
    assert refused.status_code == 401, refused.content
    assert api_me(token).status_code == 401


def test_a_token_session_is_stamped_with_its_start_from_allauths_login_record(
    world: World, token: str
) -> None:
    before = int(time.time())
    assert api_me(token).status_code == 200
    started = stored_session(token)[STARTED_KEY]
    assert before - 60 <= started <= int(time.time())


def test_a_cookie_session_past_the_absolute_lifetime_is_ended(world: World, settings: Any) -> None:
    client = logged_in_client(world.pro)
    assert client.get("/films/").status_code == 200
    session = client.session
    assert session[STARTED_KEY]  # stamped on first use
    session[STARTED_KEY] = int(time.time()) - settings.SESSION_COOKIE_AGE - 5
    session[IDLE_KEY] = int(time.time())
    session.save()
    response = client.get("/films/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/me/").status_code == 401


def test_a_cookie_session_idle_too_long_is_refused_by_the_api(world: World, settings: Any) -> None:
    client = logged_in_client(world.pro)
    assert client.get("/api/me/").status_code == 200
    session = client.session
    session[IDLE_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    assert client.get("/api/me/").status_code == 401


def test_a_login_through_the_form_starts_the_absolute_clock(world: World) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": world.pro.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert response.status_code == 302
    assert abs(client.session[STARTED_KEY] - int(time.time())) <= 60


def test_a_token_that_names_no_session_is_not_an_error(world: World) -> None:
    assert api_me("not-a-session-key").status_code == 401
    assert api_me("x" * 32).status_code == 401
