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
from tests.conftest import PASSWORD, TOTP_SECRET, make_user, totp_code

pytestmark = pytest.mark.django_db


def test_signup_sends_a_verification_email_and_blocks_login_until_verified() -> None:
    client = Client()
    response = client.post(
        reverse("account_signup"),
        {"email": "new@distrib.example", "password1": PASSWORD, "password2": PASSWORD,
         "full_name": "Nora Vidal", "language": "fr"},
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
        {"email": "weak@distrib.example", "password1": password, "password2": password,
         "full_name": "W", "language": "en"},
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
    assert ok.status_code == 302 and ok["Location"] == reverse("dashboard")
    assert client.session["_auth_user_id"]

    again = Client()
    again.post(reverse("account_login"), {"login": "pro@example.org", "password": PASSWORD})
    replay = again.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200 and "_auth_user_id" not in again.session


def test_totp_enrolment_creates_an_authenticator() -> None:
    user = make_user("enrol@example.org", mfa=False)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_login_failures_are_rate_limited_per_account(settings: Any) -> None:
    make_user("target@example.org")
    client = Client()
    statuses = [
        client.post(reverse("account_login"), {"login": "target@example.org", "password": "wrong password!"},
                    REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(7)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[-1] == 429
    # Even the right password is refused while the account's limit holds.
    blocked = client.post(reverse("account_login"), {"login": "target@example.org", "password": PASSWORD},
                          REMOTE_ADDR="10.0.0.99")
    assert blocked.status_code == 429


def test_demo_secret_matches_the_test_secret() -> None:
    from festival import demo_data

    assert demo_data.DEMO_TOTP_SECRET == TOTP_SECRET
