"""Each shared rule has one home, written for the ORM and, where a lean path needs it, as SQL; these tests
prove that the two forms agree on the same data (docs/architecture.md, "Rules and their homes")."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import User
from accounts.policy import account_readiness, email_verified_sql, mfa_sql
from festival.models import Film
from festival.policy import film_team_q, film_team_sql, films_of_team, is_film_team
from tests.conftest import World, make_user

pytestmark = pytest.mark.django_db


def _sql_readiness(user: User) -> tuple[bool, bool]:
    table = User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {email_verified_sql('u')}, {mfa_sql('u')} FROM {table} u WHERE u.id = %s",  # noqa: S608
            [user.pk],
        )
        verified, mfa = cursor.fetchone()
    return bool(verified), bool(mfa)


def _readiness_cases(world: World) -> list[User]:
    changed_email = make_user("changed@cinesur.example")
    changed_email.email = "new-address@cinesur.example"  # verified the old address, not this one
    changed_email.save(update_fields=["email"])
    case_differs = make_user("Case@CineSur.example")
    EmailAddress.objects.filter(user=case_differs).update(email="case@cinesur.example")
    people = [world.pro, world.unverified, world.no_mfa, world.admin, world.producer]
    return [*people, changed_email, case_differs]


def test_the_readiness_sql_agrees_with_the_orm_rule(world: World) -> None:
    cases = _readiness_cases(world)
    answers = {}
    for user in cases:
        user = User.objects.get(pk=user.pk)  # no memoised readiness
        readiness = account_readiness(user)
        assert _sql_readiness(user) == (readiness.email_verified, readiness.mfa_enabled), user.email
        answers[user.email] = readiness.ready
    # the data covers both answers of both facts, so agreement is not vacuous
    assert answers["pro@cinesur.example"] and not answers["unverified@cinesur.example"]
    assert not answers["nomfa@cinesur.example"] and not answers["new-address@cinesur.example"]


def _sql_team(user: User, film: Film) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {film_team_sql(film='%s', user='%s')}", [film.pk, user.pk])  # noqa: S608
        (answer,) = cursor.fetchone()
    return bool(answer)


def test_the_film_team_sql_agrees_with_the_orm_rule(world: World) -> None:
    people: list[Any] = [world.producer, world.pro, world.admin, world.unverified]
    seen = set()
    for film in (world.film, world.other_film):
        for user in people:
            orm = is_film_team(user, film.pk)
            assert _sql_team(user, film) == orm, (user.email, film.title)
            assert Film.objects.filter(film_team_q(user), pk=film.pk).exists() == orm
            assert films_of_team(user).filter(pk=film.pk).exists() == orm
            seen.add(orm)
    assert seen == {True, False}
