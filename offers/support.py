"""A film's committed support: what its recorded agreements bring, per offer type, in kind and in cash,
by currency. Shown on the film's page to everyone who may see the film (totals only, no parties).

It is also half of what the platform calls *secured* (festival.selectors: recorded by the producers plus
committed by agreements): ``committed_by_film`` is registered with the core for the film page, the film
list, the financing gap and the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from accounts.models import User
from festival.extensions import FilmSection
from festival.models import Film
from festival.selectors import register_committed_support
from offers.models import Agreement, OfferKind
from offers.selectors.offers import offer_values


@dataclass
class KindSupport:
    kind: str
    label: str
    agreements: int = 0
    in_kind: dict[str, int] = field(default_factory=dict)
    cash: dict[str, int] = field(default_factory=dict)


@dataclass
class CommittedSupport:
    kinds: list[KindSupport]
    in_kind: dict[str, int]
    cash: dict[str, int]

    @property
    def empty(self) -> bool:
        return not self.kinds


def _add(totals: dict[str, int], amounts: dict[str, int]) -> None:
    for currency, amount in amounts.items():
        totals[currency] = totals.get(currency, 0) + amount


def _sorted(totals: dict[str, int]) -> dict[str, int]:
    return dict(sorted(totals.items()))


def film_committed_support(*, film: Film) -> CommittedSupport:
    by_kind = {kind: KindSupport(kind, str(label)) for kind, label in OfferKind.choices}
    for agreement in Agreement.objects.filter(film=film).select_related("version"):
        support, values = by_kind[agreement.kind], offer_values(agreement.version)
        support.agreements += 1
        _add(support.in_kind, values.in_kind)
        _add(support.cash, values.cash)
    kinds = [s for s in by_kind.values() if s.agreements]  # in OfferKind's order
    in_kind: dict[str, int] = {}
    cash: dict[str, int] = {}
    for support in kinds:
        _add(in_kind, support.in_kind)
        _add(cash, support.cash)
        support.in_kind, support.cash = _sorted(support.in_kind), _sorted(support.cash)
    return CommittedSupport(kinds=kinds, in_kind=_sorted(in_kind), cash=_sorted(cash))


def committed_by_film(films: Sequence[Film]) -> dict[int, dict[str, int]]:
    """{film id: {currency: minor units}} committed by the films' recorded agreements, in kind and cash."""
    committed: dict[int, dict[str, int]] = {}
    agreements = Agreement.objects.filter(film__in=[film.pk for film in films]).select_related("version")
    for agreement in agreements:
        values = offer_values(agreement.version)
        totals = committed.setdefault(agreement.film_id, {})
        _add(totals, values.in_kind)
        _add(totals, values.cash)
    return committed


# The core learns of agreements through this hook (offers.apps imports this module in ready()).
register_committed_support(committed_by_film)


def committed_support_section(film: Film, user: User) -> list[FilmSection]:
    support = film_committed_support(film=film)
    html = render_to_string("offers/_committed_support.html", {"support": support})
    return [FilmSection(title=_("Committed support"), html=html)]
