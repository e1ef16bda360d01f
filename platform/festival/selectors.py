"""Reads: which sessions and films a person may see, and a film's financing figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Accreditation, AccreditationStatus, User
from accounts.policy import is_festival_admin
from festival.models import Film, PostProductionNeed


def films_visible_to(*, user: User) -> QuerySet[Film]:
    """Films of the sessions ``user`` holds an approved accreditation for, plus their own team's films.

    Admins see every film. Anyone else gets nothing (their refusals are 404s, not 403s).
    """
    films = Film.objects.select_related("session", "session__edition").prefetch_related("needs")
    if is_festival_admin(user):
        return films.all()
    approved = Accreditation.objects.filter(user=user, status=AccreditationStatus.APPROVED).values(
        "session_id"
    )
    return films.filter(Q(session_id__in=approved) | Q(team_members__user=user)).distinct()


def film_for_viewer(*, user: User, film_id: int) -> Film | None:
    return films_visible_to(user=user).filter(pk=film_id).first()


def is_film_team_member(*, user: User, film: Film) -> bool:
    return film.team_members.filter(user=user).exists()


def films_of_team(*, user: User) -> QuerySet[Film]:
    return Film.objects.filter(team_members__user=user).select_related("session").distinct()


@dataclass(frozen=True)
class MoneyLine:
    currency: str
    estimated_minor: int
    secured_minor: int

    @property
    def gap_minor(self) -> int:
        return self.estimated_minor - self.secured_minor


def film_financing(*, film: Film) -> list[MoneyLine]:
    """Needs, secured amounts and the financing gap, per currency (never summed across currencies)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    needs: list[PostProductionNeed] = list(film.needs.all())
    for need in needs:
        totals[need.currency][0] += need.estimated_cost_minor
        totals[need.currency][1] += need.secured_minor
    return [MoneyLine(currency, est, sec) for currency, (est, sec) in sorted(totals.items())]
