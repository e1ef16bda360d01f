"""The demo edition: two sessions of six films, an account per role, an intact audit chain; idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Accreditation, AccreditationStatus, User
from accounts.policy import account_readiness
from festival import demo_data
from festival.demo import seed_demo
from festival.models import Film, Session

pytestmark = pytest.mark.django_db


def test_seed_builds_the_demo_and_is_idempotent() -> None:
    created, edition = seed_demo(with_posters=False)
    assert created
    assert [s.films.count() for s in Session.objects.filter(edition=edition)] == [6, 6]
    assert Film.objects.filter(team_members__isnull=False).distinct().count() == 12
    assert all(film.needs.exists() for film in Film.objects.all())
    admin = User.objects.get(is_staff=True)
    assert account_readiness(admin).ready
    applicant = next(p for p in demo_data.PEOPLE if p["role"] == "applicant")
    assert Accreditation.objects.get(user__email=applicant["email"]).status == AccreditationStatus.PENDING
    assert Accreditation.objects.filter(status=AccreditationStatus.APPROVED).count() >= 6

    again, same = seed_demo(with_posters=False)
    assert not again and same == edition
    assert Film.objects.count() == 12

    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_demo_accounts_command_prints_credentials() -> None:
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert demo_data.DEMO_PASSWORD in out.getvalue()
    assert demo_data.PEOPLE[0]["email"] in out.getvalue()
    code = StringIO()
    call_command("demo_accounts", "--code", stdout=code)
    assert code.getvalue().strip().isdigit() and len(code.getvalue().strip()) == 6


def test_demo_accounts_say_which_film_each_producer_produces() -> None:
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    lines = out.getvalue().splitlines()
    for film in demo_data.FILMS:
        for key in film["producers"]:
            email = next(p["email"] for p in demo_data.PEOPLE if p["key"] == key)
            line = next(line for line in lines if email in line)
            assert f'"{film["title"]}"' in line, line


def test_every_demo_account_signs_in_with_the_demo_password() -> None:
    seed_demo(with_posters=False)
    users = list(User.objects.filter(email__in=[p["email"] for p in demo_data.PEOPLE]))
    assert len(users) == len(demo_data.PEOPLE)
    assert all(user.check_password(demo_data.DEMO_PASSWORD) for user in users)
    assert not any(user.check_password("another-password-entirely") for user in users)
