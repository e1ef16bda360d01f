"""A film's committed support: what its recorded agreements bring, per offer type, in kind and in cash,
by currency. Shown on the film's page to everyone who may see the film (totals only, no parties)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from accounts.models import User
from festival.extensions import FilmSection
from festival.models import Film
from offers.models import Agreement, OfferKind
from offers.selectors import offer_values


@dataclass
class KindSupport:
    kind: str
    label: str
    agreements: int = 0
    in_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cash: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class CommittedSupport:
    kinds: list[KindSupport]
    in_kind: dict[str, int]
    cash: dict[str, int]

    @property
    def empty(self) -> bool:
        return not self.kinds


def film_committed_support(*, film: Film) -> CommittedSupport:
    by_kind: dict[str, KindSupport] = {}
    in_kind: dict[str, int] = defaultdict(int)
    cash: dict[str, int] = defaultdict(int)
    for agreement in Agreement.objects.filter(film=film).select_related("version"):
        support = by_kind.setdefault(
            agreement.kind, KindSupport(agreement.kind, str(OfferKind(agreement.kind).label))
        )
        support.agreements += 1
        values = offer_values(agreement.version)
        for currency, amount in values.in_kind.items():
            support.in_kind[currency] += amount
            in_kind[currency] += amount
        for currency, amount in values.cash.items():
            support.cash[currency] += amount
            cash[currency] += amount
    for support in by_kind.values():  # plain dicts: a template looking up .items in a defaultdict gets 0
        support.in_kind, support.cash = (
            dict(sorted(support.in_kind.items())),
            dict(sorted(support.cash.items())),
        )
    order = list(OfferKind.values)
    kinds = sorted(by_kind.values(), key=lambda s: order.index(s.kind))
    return CommittedSupport(
        kinds=kinds, in_kind=dict(sorted(in_kind.items())), cash=dict(sorted(cash.items()))
    )


def committed_support_section(film: Film, user: User) -> list[FilmSection]:
    support = film_committed_support(film=film)
    html = render_to_string("offers/_committed_support.html", {"support": support})
    return [FilmSection(title=_("Committed support"), html=html)]
