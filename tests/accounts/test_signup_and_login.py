"""Journey 1: sign up, verify the email, enrol TOTP, log in with the second factor; login is rate limited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from festival import demo_data
from tests.conftest import PASSWORD, TOTP_SECRET, make_user, totp_code

pytestmark = pytest.mark.django_db


def test_signup_sends_a_verification_email_and_blocks_login_until_verified() -> None:
    client = Client()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@distrib.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "full_name": "Nora Vidal",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@distrib.example")
    assert (user.full_name, user.language) == ("Nora Vidal", "fr")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    assert link is not None

    client.logout()
    refused = client.post(reverse("account_login"), {"login": "new@distrib.example", "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == reverse("account_email_verification_sent")

    client.post(link.group(1))
    assert user.emailaddress_set.get().verified


@pytest.mark.parametrize("password", ["short-pass", "password1234", "123456789012"])
def test_signup_refuses_weak_passwords(password: str) -> None:
    response = Client().post(
        reverse("account_signup"),
        {
            "email": "weak@distrib.example",
            "password1": password,
            "password2": password,
            "full_name": "W",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="weak@distrib.example").exists()


def test_login_with_totp_second_step_and_code_works_once() -> None:
    make_user("pro@example.org")
    client = Client()
    first = client.post(reverse("account_login"), {"login": "pro@example.org", "password": PASSWORD})
    assert first["Location"] == reverse("mfa_authenticate")
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    code = totp_code()
    ok = client.post(reverse("mfa_authenticate"), {"code": code})
    assert ok.status_code == 302 and ok["Location"] == reverse("accounts:dashboard")
    assert client.session["_auth_user_id"]

    again = Client()
    again.post(reverse("account_login"), {"login": "pro@example.org", "password": PASSWORD})
    replay = again.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200 and "_auth_user_id" not in again.session


def test_totp_enrolment_creates_an_authenticator() -> None:
    user = make_user("enrol@example.org", mfa=False)
    client = Client()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    # allauth asks for the password again before a security change.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # Recovery codes come with the first authenticator, for the day the phone is lost.
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()


def _login(client: Client, email: str, password: str, ip: str) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_login_failures_are_rate_limited_per_account() -> None:
    make_user("target@example.org")
    client = Client()
    for i in range(5):
        response = _login(client, "target@example.org", "wrong password!", f"10.0.0.{i}")
        assert "too many" not in response.content.decode().lower()
    # Even the right password is refused while the account's limit holds, from a fresh address.
    blocked = _login(client, "target@example.org", PASSWORD, "10.0.0.99")
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_failures_are_rate_limited_per_ip() -> None:
    make_user("victim@example.org")
    client = Client()
    for i in range(10):
        _login(client, f"guess{i}@example.org", "wrong password!", "10.9.9.9")
    blocked = _login(client, "victim@example.org", PASSWORD, "10.9.9.9")
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    elsewhere = _login(Client(), "victim@example.org", PASSWORD, "10.9.9.10")
    assert elsewhere.status_code == 302


def test_demo_secret_matches_the_test_secret() -> None:
    assert demo_data.DEMO_TOTP_SECRET == TOTP_SECRET
