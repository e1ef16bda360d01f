"""Reads: the sessions, which films a person may see, whom a producer acts for, and a film's financing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Accreditation, AccreditationStatus, User
from accounts.policy import is_festival_admin
from festival.models import Film, PostProductionNeed, Session
from festival.policy import film_team_q


def sessions_listed() -> QuerySet[Session]:
    """Every session with its edition, in date order."""
    return Session.objects.select_related("edition")


def sessions_open() -> QuerySet[Session]:
    """Sessions that have not ended yet: those one may still apply to."""
    return sessions_listed().filter(ends_on__gte=timezone.now().date())


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
    return films.filter(Q(session_id__in=approved) | film_team_q(user)).distinct()


def film_for_viewer(*, user: User, film_id: int) -> Film | None:
    return films_visible_to(user=user).filter(pk=film_id).first()


# --- what is secured --------------------------------------------------------------------------------
#
# One definition, used by the film page, the film list, the financing gap and the API:
#   secured = what the producers recorded as already secured on their needs (support found outside the
#             platform) + what agreements recorded on the platform commit (services in kind at their
#             agreed value, and cash: funds and minimum guarantees),
# per currency, never converted or summed across currencies. The gap is what the needs still lack.
# The core knows nothing of offers (docs/architecture.md, layers): the offers app registers
# the function that reads its agreements (offers.support).

CommittedSupportProvider = Callable[[Sequence[Film]], dict[int, dict[str, int]]]
_committed_providers: list[CommittedSupportProvider] = []


def register_committed_support(provider: CommittedSupportProvider) -> None:
    """``provider(films)`` -> {film id: {currency: minor units committed}} for those films."""
    if provider not in _committed_providers:
        _committed_providers.append(provider)


def films_committed_support(*, films: Sequence[Film]) -> dict[int, dict[str, int]]:
    committed: dict[int, dict[str, int]] = {film.pk: {} for film in films}
    if not films:
        return committed
    for provider in _committed_providers:
        for film_id, amounts in provider(films).items():
            totals = committed.setdefault(film_id, {})
            for currency, amount in amounts.items():
                totals[currency] = totals.get(currency, 0) + amount
    return committed


@dataclass(frozen=True)
class MoneyLine:
    currency: str
    estimated_minor: int  # the needs' estimated cost
    recorded_minor: int  # secured outside the platform, as the producers recorded it on their needs
    committed_minor: int = 0  # committed by agreements recorded on the platform

    @property
    def secured_minor(self) -> int:
        return self.recorded_minor + self.committed_minor

    @property
    def gap_minor(self) -> int:
        """What the needs still lack; never negative (support beyond the needs is ``surplus_minor``)."""
        return max(self.estimated_minor - self.secured_minor, 0)

    @property
    def surplus_minor(self) -> int:
        return max(self.secured_minor - self.estimated_minor, 0)

    @property
    def secured_percent(self) -> int:
        """The share of the needs secured, 0..100, for the bar."""
        if self.estimated_minor <= 0:
            return 100 if self.secured_minor else 0
        return min(100, self.secured_minor * 100 // self.estimated_minor)


def _lines(needs: Iterable[PostProductionNeed], committed: dict[str, int]) -> list[MoneyLine]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for need in needs:
        totals[need.currency][0] += need.estimated_cost_minor
        totals[need.currency][1] += need.secured_minor
    currencies = sorted(set(totals) | {c for c, amount in committed.items() if amount})
    return [
        MoneyLine(currency, totals[currency][0], totals[currency][1], committed.get(currency, 0))
        for currency in currencies
    ]


def film_financing(*, film: Film) -> list[MoneyLine]:
    """Needs, secured amounts and the financing gap, per currency (never summed across currencies).
    Secured is the one definition above: recorded by the producers plus committed by agreements."""
    return _lines(film.needs.all(), films_committed_support(films=[film])[film.pk])


def films_financing(*, films: Sequence[Film]) -> dict[int, list[MoneyLine]]:
    """``film_financing`` of several films with one read of the committed support (the film list)."""
    committed = films_committed_support(films=films)
    return {film.pk: _lines(film.needs.all(), committed.get(film.pk, {})) for film in films}
