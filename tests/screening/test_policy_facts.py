"""The facts every door reads in one statement (``screening.policy.FACTS_SQL``) agree with the rules'
homes on the same data (docs/architecture.md, "Rules and their homes"): readiness with
``accounts.policy.account_readiness``, the team with ``festival.policy.is_film_team``.

Readiness is built from ``accounts.policy``'s own SQL fragments. The team column is not
``festival.policy.film_team_sql``: that is an EXISTS, and the facts need the organisation the member
produces the film for (a team member watches, and acts on the screener, for it), so ``FACTS_SQL`` keeps
its own subselect of the team table. This test is what ties that subselect to the rule: it must say "on
the team" exactly when ``is_film_team`` and ``film_team_sql`` do, and name the organisation
``film_team_organisation`` names.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import User
from accounts.policy import account_readiness
from festival.models import Film
from festival.policy import film_team_organisation, film_team_sql, is_film_team
from screening.policy import Facts, admission_facts
from tests.conftest import World, make_user

pytestmark = pytest.mark.django_db


def _facts(user: User, film: Film) -> Facts:
    facts = admission_facts(user=user, film=film)
    assert facts is not None
    return facts


def test_the_facts_readiness_agrees_with_account_readiness(world: World) -> None:
    changed_email = make_user("changed@cinesur.example")
    changed_email.email = "new-address@cinesur.example"  # verified the old address, not this one
    changed_email.save(update_fields=["email"])
    case_differs = make_user("Case@CineSur.example")
    EmailAddress.objects.filter(user=case_differs).update(email="case@cinesur.example")
    people = [
        world.pro,
        world.unverified,
        world.no_mfa,
        world.admin,
        world.producer,
        changed_email,
        case_differs,
    ]
    seen = set()
    for person in people:
        user = User.objects.get(pk=person.pk)  # no memoised readiness
        readiness = account_readiness(user)
        facts = _facts(user, world.film)
        assert (facts.email_verified, facts.mfa) == (readiness.email_verified, readiness.mfa_enabled), (
            user.email
        )
        seen.add((readiness.email_verified, readiness.mfa_enabled))
    # verified with TOTP, unverified, verified without TOTP: the agreement is not vacuous
    assert {(True, True), (False, True), (True, False)} <= seen


def _sql_team(user: User, film: Film) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {film_team_sql(film='%s', user='%s')}", [film.pk, user.pk])  # noqa: S608
        (answer,) = cursor.fetchone()
    return bool(answer)


def test_the_facts_team_agrees_with_is_film_team(world: World) -> None:
    people: list[Any] = [world.producer, world.other_producer, world.pro, world.admin, world.unverified]
    teams = {
        (world.producer.pk, world.film.pk): world.producer_org.pk,
        (world.other_producer.pk, world.other_film.pk): world.other_producer_org.pk,
    }
    seen = set()
    for film in (world.film, world.other_film):
        for user in people:
            on_team = is_film_team(user, film.pk)
            facts = _facts(user, film)
            assert (facts.team_org is not None) == on_team == _sql_team(user, film), (user.email, film.title)
            assert facts.team_org == teams.get((user.pk, film.pk)), (user.email, film.title)
            organisation = film_team_organisation(film_id=film.pk, user_id=user.pk)
            assert (organisation.pk if organisation else None) == facts.team_org
            seen.add(on_team)
    assert seen == {True, False}
