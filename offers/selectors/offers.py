"""Reads for offers: who sees which, what each is worth, the producers' comparison and the dashboard.
Invariant 2 (docs/architecture.md): an offer is visible to its two parties and to admins, to nobody else;
who is a party is ``offers.parties``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pycountry
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django_countries import countries as country_names

from accounts.models import Accreditation, AccreditationStatus, Organisation, User
from core.money import NOT_PAYABLE, currency_exponent
from festival.extensions import FilmAction
from festival.models import Film
from festival.policy import films_of_team, may_manage_film
from offers.models import Offer, OfferKind, OfferPolicy, OfferStatus, OfferVersion, Side
from offers.parties import may_make_offer, offeror_q, producer_q, visible_q
from offers.terms import (
    SCHEMAS,
    CompletionFundTerms,
    DistributionTerms,
    PostProductionTerms,
    SalesTerms,
    Terms,
    parse_terms,
)
from offers.terms.common import Money
from offers.terms.labels import titled_schema
from offers.terms.render import GROUP_LABELS
from screening.models import Cut, PlaybackGrant
from screening.selectors import current_cut


def offers_visible_to(*, user: User) -> QuerySet[Offer]:
    """The offers ``user`` is a party to (drafts are the offeror's alone), or every submitted one for
    admins (``offers.parties.visible_q``)."""
    offers = Offer.objects.select_related("film", "organisation").prefetch_related("versions")
    return offers.filter(visible_q(user))


# --- pages: who may offer, what an offer is worth, the producers' comparison ---------------------------

NOT_STANDING = frozenset({"withdrawn", "expired", "declined"})  # offers no longer on the table
SORTS = ("activity", "value", "status")


def may_compare_offers(*, user: User, film: Film) -> bool:
    """The producers' comparison of the offers to ``film``: its team and festival admins."""
    return may_manage_film(user, film.pk)


def watched_share_bp(*, user: User, film: Film) -> tuple[Cut | None, int]:
    """The film's current cut and the share of it ``user`` has watched, in basis points."""
    cut = current_cut(film=film)
    if cut is None or not cut.segment_count:
        return cut, 0
    watched: set[int] = set()
    for segments in PlaybackGrant.objects.filter(viewer=user, cut=cut).values_list(
        "watched_segments", flat=True
    ):
        watched.update(segments)
    return cut, min(10_000, len(watched) * 10_000 // cut.segment_count)


def required_watched_share_bp(*, film: Film) -> int:
    """How much of the screener the film's producers ask offerors to have watched (``OfferPolicy``)."""
    required = OfferPolicy.objects.filter(film=film).values_list("min_watched_share_bp", flat=True).first()
    return required or 0


@dataclass(frozen=True)
class OfferValues:
    """What an offer brings, per currency in minor units: services in kind, and cash to the producers."""

    in_kind: dict[str, int] = field(default_factory=dict)
    cash: dict[str, int] = field(default_factory=dict)

    def headline(self) -> tuple[str, int]:
        """The largest amount (in kind or cash) and its currency; ("", 0) when the offer carries none."""
        amounts = [*self.in_kind.items(), *self.cash.items()]
        if not amounts:
            return "", 0
        return max(amounts, key=lambda item: (item[1], item[0]))

    @property
    def in_kind_by_currency(self) -> list[tuple[str, int]]:
        return sorted(self.in_kind.items())

    @property
    def cash_by_currency(self) -> list[tuple[str, int]]:
        return sorted(self.cash.items())

    @property
    def empty(self) -> bool:
        return not self.in_kind and not self.cash


def _add(totals: dict[str, int], money: Money | None) -> None:
    if money is not None and money.amount_minor > 0:
        totals[money.currency] = totals.get(money.currency, 0) + money.amount_minor


def offer_values(version: OfferVersion) -> OfferValues:
    """The value of one version's terms.

    - post-production: the total value of the service lines, in kind;
    - completion fund: the amount, cash;
    - distribution and sales: the minimum guarantee (an advance paid to the producers), cash.
    Commitments that are not paid to the producers (minimum P&A spend, an expenses cap) count for nothing.
    """
    terms = parse_terms(version.terms)
    values = OfferValues()
    if isinstance(terms, PostProductionTerms):
        _add(values.in_kind, terms.total_value)
    elif isinstance(terms, CompletionFundTerms):
        _add(values.cash, terms.amount)
    elif isinstance(terms, DistributionTerms | SalesTerms):
        _add(values.cash, terms.minimum_guarantee)
    return values


def latest_version(offer: Offer) -> OfferVersion:
    """The offer's current terms (uses the prefetched versions when there are any)."""
    return max(offer.versions.all(), key=lambda version: version.number)


def last_activity(offer: Offer) -> dt.datetime:
    moments = [offer.updated_at, getattr(offer, "last_activity_at", None)]
    return max(moment for moment in moments if moment is not None)


@dataclass(frozen=True)
class OfferRow:
    offer: Offer
    version: OfferVersion
    values: OfferValues
    last_activity: dt.datetime

    @property
    def standing(self) -> bool:
        return self.offer.status not in NOT_STANDING


@dataclass(frozen=True)
class KindSummary:
    kind: str
    label: str
    count: int
    values: OfferValues


@dataclass(frozen=True)
class OfferComparison:
    rows: list[OfferRow]
    by_kind: list[KindSummary]
    totals: OfferValues  # of the standing offers among the rows


def _sum(values: Iterable[OfferValues]) -> OfferValues:
    total = OfferValues()
    for value in values:
        for currency, amount in value.in_kind.items():
            total.in_kind[currency] = total.in_kind.get(currency, 0) + amount
        for currency, amount in value.cash.items():
            total.cash[currency] = total.cash.get(currency, 0) + amount
    return total


def _sort_key(sort: str) -> Callable[[OfferRow], Any]:
    if sort == "value":
        # Amounts in different currencies are not converted: grouped by currency, largest first in each.
        def by_value(row: OfferRow) -> Any:
            currency, amount = row.values.headline()
            return (currency == "", currency, -amount, -row.last_activity.timestamp())

        return by_value
    if sort == "status":
        order = {status: index for index, status in enumerate(OfferStatus.values)}
        return lambda row: (order.get(row.offer.status, len(order)), -row.last_activity.timestamp())
    return lambda row: -row.last_activity.timestamp()


def offer_rows(offers: Iterable[Offer]) -> list[OfferRow]:
    rows = []
    for offer in offers:
        version = latest_version(offer)
        rows.append(OfferRow(offer, version, offer_values(version), last_activity(offer)))
    return rows


def film_offer_comparison(
    *, film: Film, kind: str = "", status: str = "", sort: str = "activity"
) -> OfferComparison:
    """Every non-draft offer to ``film`` (filtered by kind and status when given), sorted by last activity
    (newest first), by value or by status, with totals per type and per currency."""
    offers = (
        Offer.objects.filter(film=film)
        .exclude(status=OfferStatus.DRAFT)
        .select_related("organisation", "watched_cut")
        .prefetch_related("versions")
    )
    if kind:
        offers = offers.filter(kind=kind)
    if status:
        offers = offers.filter(status=status)
    rows = sorted(offer_rows(offers), key=_sort_key(sort if sort in SORTS else "activity"))
    by_kind = [
        KindSummary(
            kind=value,
            label=str(label),
            count=len(of_kind),
            values=_sum(row.values for row in of_kind if row.standing),
        )
        for value, label in OfferKind.choices
        if (of_kind := [row for row in rows if row.offer.kind == value])
    ]
    return OfferComparison(
        rows=rows, by_kind=by_kind, totals=_sum(row.values for row in rows if row.standing)
    )


def film_offer_count(*, film: Film) -> int:
    return Offer.objects.filter(film=film).exclude(status=OfferStatus.DRAFT).count()


def _listed(parties: Q, film_id: int | None) -> QuerySet[Offer]:
    """The offers ``parties`` selects (to one film when given), ready for a list, newest activity first."""
    offers = (
        Offer.objects.filter(parties)
        .select_related("film", "organisation")
        .prefetch_related("versions")
        .order_by("-updated_at")
    )
    return offers.filter(film_id=film_id) if film_id is not None else offers


def offers_of_user(*, user: User, film_id: int | None = None) -> QuerySet[Offer]:
    """Offers on whose offeror side the user is (made by their organisations), drafts included."""
    return _listed(offeror_q(user), film_id)


def offers_received(*, user: User, film_id: int | None = None) -> QuerySet[Offer]:
    """Offers to the films of the user's producer teams, drafts excluded (they are the offeror's alone)."""
    return _listed(producer_q(user), film_id)


def films_of_team_exist(*, user: User) -> bool:
    return films_of_team(user).exists()


def awaits_answer_from(row: OfferRow, side: str) -> bool:
    """An open offer whose latest terms came from the other side: ``side`` is to accept, counter or
    decline (a submitted offer waits for the producers; a producers' counter waits for the offeror)."""
    return row.offer.status == OfferStatus.SUBMITTED and row.version.side != side


@dataclass(frozen=True)
class OffersOverview:
    """What a person's dashboard shows of offers: those to their films (as producers) and those of their
    organisations (as offeror), and in each what waits for their answer."""

    received: list[OfferRow]
    received_awaiting: list[OfferRow]
    made: list[OfferRow]
    made_awaiting: list[OfferRow]
    is_producer: bool
    is_offeror: bool

    @property
    def awaiting_count(self) -> int:
        return len(self.received_awaiting) + len(self.made_awaiting)


def offers_overview(*, user: User) -> OffersOverview:
    received = offer_rows(offers_received(user=user))
    made = offer_rows(offers_of_user(user=user))
    by_activity = _sort_key("activity")
    received.sort(key=by_activity)
    made.sort(key=by_activity)
    return OffersOverview(
        received=received,
        received_awaiting=[row for row in received if awaits_answer_from(row, Side.PRODUCER)],
        made=made,
        made_awaiting=[row for row in made if awaits_answer_from(row, Side.OFFEROR)],
        is_producer=films_of_team_exist(user=user),
        is_offeror=bool(made)
        or Accreditation.objects.filter(user=user, status=AccreditationStatus.APPROVED).exists(),
    )


def film_offer_actions(film: Film, user: User) -> list[FilmAction]:
    """Buttons on the film's page: make an offer; the offeror's own offers; the producers' comparison."""
    actions = []
    if may_make_offer(user=user, film=film):
        actions.append(FilmAction(_("Make an offer"), reverse("offers:new", args=[film.pk]), primary=True))
    own = Offer.objects.filter(offeror_q(user), film=film).count()
    if own:
        actions.append(
            FilmAction(
                _("Your offers (%(count)d)") % {"count": own},
                f"{reverse('offers:mine')}?film={film.pk}",
            )
        )
    if may_compare_offers(user=user, film=film):
        count = film_offer_count(film=film)
        actions.append(
            FilmAction(
                _("Offers (%(count)d)") % {"count": count}, reverse("offers:film-offers", args=[film.pk])
            )
        )
    return actions


def terms_form_schema(kind: str) -> dict[str, Any] | None:
    """The JSON schema of the newest terms schema of ``kind`` (pydantic's ``model_json_schema``), with what
    the terms editor needs to draw it: payable currencies and their minor-unit exponents, country names in
    the active language, and the named territory groups; every field titled by its label in the active
    language (the label an error names it by, offers.terms.labels). None for an unknown kind."""
    versions = SCHEMAS.get(kind)
    if not versions:
        return None
    schema = titled_schema(versions[max(versions)].model_json_schema())
    currencies = sorted(
        currency.alpha_3 for currency in pycountry.currencies if currency.alpha_3 not in NOT_PAYABLE
    )
    schema["x-currencies"] = currencies
    schema["x-currency-exponents"] = {
        code: currency_exponent(code) for code in currencies if currency_exponent(code) != 2
    }
    schema["x-countries"] = sorted(
        ([code, str(name)] for code, name in country_names), key=lambda item: item[1]
    )
    schema["x-territory-groups"] = [[code, str(label)] for code, label in GROUP_LABELS.items()]
    return schema


def terms_organisation_names(*terms_list: Terms) -> dict[int, str]:
    """The names of the organisations that terms name by id (a post-production offer's provider), for
    render_terms."""
    ids = {t.provider_organisation_id for t in terms_list if isinstance(t, PostProductionTerms)}
    if not ids:
        return {}
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
