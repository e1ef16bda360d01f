"""One terms schema per offer type, each with a `kind` and a `schema_version`, and `parse_terms`.

A schema version is never changed once terms were written with it: a new field or rule is a new
version (a new class registered in SCHEMAS), so stored terms always parse, and hash, as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal, Self

from django.utils.translation import gettext
from pydantic import AfterValidator, Field, StrictBool, StrictInt, ValidationError, model_validator

from offers.terms.common import (
    UNORDERED,
    BasisPoints,
    Clause,
    CountryCode,
    DateRange,
    Instalment,
    IsoDate,
    Languages,
    LongText,
    Money,
    ShortText,
    TermsModel,
    Territories,
    end_before_start,
    schedule_problems,
    sorted_unique,
    split_by_shares,
)
from offers.terms.errors import Problem, TermsInvalid, fail, field_error

# --- post-production services in kind -----------------------------------------------------------------


class ServiceCategory(StrEnum):
    COLOUR_GRADING = "colour_grading"
    SOUND_EDITING = "sound_editing"
    SOUND_MIX_51 = "sound_mix_51"
    SOUND_MIX_ATMOS = "sound_mix_atmos"
    VFX = "vfx"
    MUSIC = "music"
    SUBTITLING = "subtitling"
    DCP_DELIVERABLES = "dcp_deliverables"
    FESTIVAL_COPIES = "festival_copies"
    EDITING = "editing"
    OTHER = "other"


class ServiceUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    HOUR = "hour"
    LUMP_SUM = "lump_sum"
    COPY = "copy"
    REEL = "reel"


class ServiceLine(TermsModel):
    """One service: `value` is the value of the whole line (not a unit price)."""

    category: ServiceCategory
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    unit: ServiceUnit
    value: Money
    languages: Languages = ()  # subtitling only, and required there
    description: ShortText | None = None  # required for "other"

    @model_validator(mode="after")
    def _category_details(self) -> Self:
        problems: list[Problem] = []
        subtitling = self.category is ServiceCategory.SUBTITLING
        if subtitling and not self.languages:
            problems.append((("languages",), gettext("Subtitling needs at least one language.")))
        if not subtitling and self.languages:
            message = gettext("Languages go only with subtitling, not %(category)s.")
            problems.append((("languages",), message % {"category": self.category.value}))
        if self.category is ServiceCategory.OTHER and self.description is None:
            message = gettext("A service of category other needs a description.")
            problems.append((("description",), message))
        if problems:
            raise fail(problems)
        return self


class FacilityLocation(TermsModel):
    country: CountryCode
    city: ShortText


class Consideration(TermsModel):
    """What the provider asks in return."""

    credit: StrictBool
    logo: StrictBool
    co_production_share_bp: BasisPoints | None = None
    rights_territories: Territories | None = None


class PostProductionTerms(TermsModel):
    kind: Literal["post_production"] = "post_production"
    schema_version: Literal[1] = 1
    provider_organisation_id: Annotated[StrictInt, Field(ge=1)]
    service_lines: tuple[ServiceLine, ...]
    facility: FacilityLocation
    time_window: DateRange
    deliverables: tuple[ShortText, ...] = ()
    consideration: Consideration
    signature_deadline: IsoDate

    @model_validator(mode="after")
    def _lines(self) -> Self:
        if not self.service_lines:
            raise fail([(("service_lines",), gettext("Offer at least one service."))])
        currency = self.service_lines[0].value.currency
        problems: list[Problem] = [
            (
                ("service_lines", index, "value", "currency"),
                gettext("All lines must be in one currency: %(here)s here, %(first)s in the first line.")
                % {"here": line.value.currency, "first": currency},
            )
            for index, line in enumerate(self.service_lines)
            if line.value.currency != currency
        ]
        if problems:
            raise fail(problems)
        return self

    @property
    def total_value(self) -> Money:
        return Money.total(line.value for line in self.service_lines)


# --- completion fund ----------------------------------------------------------------------------------


class RecoupmentPosition(StrEnum):
    FIRST = "first"
    PARI_PASSU = "pari_passu"
    AFTER_EQUITY = "after_equity"
    NONE = "none"


class CompletionFundTerms(TermsModel):
    kind: Literal["completion_fund"] = "completion_fund"
    schema_version: Literal[1] = 1
    amount: Money
    tranches: tuple[Instalment, ...]
    conditions: tuple[Clause, ...] = ()
    recoupment_position: RecoupmentPosition
    credit_obligations: LongText = ""
    report_deadlines: tuple[IsoDate, ...] = ()

    @model_validator(mode="after")
    def _amount_and_tranches(self) -> Self:
        problems: list[Problem] = []
        if self.amount.amount_minor == 0:
            message = gettext("A completion fund needs an amount above zero.")
            problems.append((("amount", "amount_minor"), message))
        if not self.tranches:
            problems.append((("tranches",), gettext("Give at least one tranche.")))
        else:
            problems += schedule_problems(self.tranches, "tranches")
        if problems:
            raise fail(problems)
        return self

    @property
    def tranche_amounts(self) -> tuple[Money, ...]:
        """The amount of each tranche, in minor units, adding up to `amount` exactly."""
        return split_by_shares(self.amount, [tranche.share_bp for tranche in self.tranches])


# --- distribution -------------------------------------------------------------------------------------


class Medium(StrEnum):
    THEATRICAL = "theatrical"
    FREE_TV = "free_tv"
    PAY_TV = "pay_tv"
    SVOD = "svod"
    TVOD = "tvod"
    AVOD = "avod"
    AIRLINE = "airline"
    EDUCATIONAL = "educational"
    HOME_VIDEO = "home_video"


Media = Annotated[tuple[Medium, ...], AfterValidator(sorted_unique), UNORDERED]


class Term(TermsModel):
    """From `start`, for a number of `years` or until an `end` date (one of the two)."""

    start: IsoDate
    years: Annotated[StrictInt, Field(ge=1, le=99)] | None = None
    end: IsoDate | None = None

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.years is None) == (self.end is None):
            raise fail([((), gettext("Give either a number of years or an end date (one of the two)."))])
        if self.end is not None and self.end < self.start:
            raise fail([(("end",), end_before_start(self.start, self.end))])
        return self


class Holdback(TermsModel):
    media: Medium
    days: Annotated[StrictInt, Field(ge=1, le=3650)]


class ReleaseCommitments(TermsModel):
    min_screens: Annotated[StrictInt, Field(ge=0, le=100_000)]
    window: DateRange


class DistributionTerms(TermsModel):
    kind: Literal["distribution"] = "distribution"
    schema_version: Literal[1] = 1
    territories: Territories
    media: Media
    exclusive: StrictBool
    term: Term
    minimum_guarantee: Money
    payment_schedule: tuple[Instalment, ...] = ()  # of the minimum guarantee; empty when it is zero
    distributor_share_bp: BasisPoints  # the distributor's share of revenue
    distribution_fee_bp: BasisPoints
    holdbacks: tuple[Holdback, ...] = ()
    release: ReleaseCommitments | None = None
    minimum_pa_spend: Money

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[Problem] = []
        if not self.media:
            problems.append((("media",), gettext("Name at least one medium.")))
        if self.minimum_guarantee.amount_minor > 0:
            if not self.payment_schedule:
                message = gettext("A minimum guarantee needs a payment schedule.")
                problems.append((("payment_schedule",), message))
            else:
                problems += schedule_problems(self.payment_schedule, "payment_schedule")
        elif self.payment_schedule:
            message = gettext("There is no minimum guarantee to schedule.")
            problems.append((("payment_schedule",), message))
        seen: set[Medium] = set()
        for index, holdback in enumerate(self.holdbacks):
            if holdback.media in seen:
                message = gettext("%(medium)s already has a holdback.") % {"medium": holdback.media.value}
                problems.append((("holdbacks", index, "media"), message))
            seen.add(holdback.media)
        if problems:
            raise fail(problems)
        return self

    @property
    def instalment_amounts(self) -> tuple[Money, ...]:
        if not self.payment_schedule:
            return ()
        return split_by_shares(self.minimum_guarantee, [step.share_bp for step in self.payment_schedule])


# --- sales / representation ---------------------------------------------------------------------------


class MinimumPrice(TermsModel):
    territories: Territories
    price: Money


class SalesTerms(TermsModel):
    kind: Literal["sales"] = "sales"
    schema_version: Literal[1] = 1
    territories: Territories
    commission_bp: BasisPoints
    expenses_cap: Money
    term_years: Annotated[StrictInt, Field(ge=1, le=25)]
    minimum_guarantee: Money | None = None
    minimum_prices: tuple[MinimumPrice, ...] = ()

    @model_validator(mode="after")
    def _prices_inside_territories(self) -> Self:
        problems: list[Problem] = []
        covered = self.territories.countries()
        priced: dict[str, int] = {}
        for index, entry in enumerate(self.minimum_prices):
            countries = entry.territories.countries()
            path = ("minimum_prices", index, "territories")
            if outside := sorted(countries - covered):
                message = gettext("Outside the territories of the deal: %(codes)s.")
                problems.append((path, message % {"codes": _listed(outside)}))
            if twice := sorted(countries & priced.keys()):
                message = gettext("Already priced in minimum price %(number)d: %(codes)s.") % {
                    "number": priced[twice[0]] + 1,
                    "codes": _listed(twice),
                }
                problems.append((path, message))
            priced.update(dict.fromkeys(countries - priced.keys(), index))
        if problems:
            raise fail(problems)
        return self


def _listed(codes: list[str], limit: int = 10) -> str:
    listed = ", ".join(codes[:limit])
    if len(codes) <= limit:
        return listed
    return gettext("%(codes)s and %(count)d more") % {"codes": listed, "count": len(codes) - limit}


# --- dispatch -----------------------------------------------------------------------------------------

Terms = PostProductionTerms | CompletionFundTerms | DistributionTerms | SalesTerms

SCHEMAS: dict[str, dict[int, type[Terms]]] = {
    "post_production": {1: PostProductionTerms},
    "completion_fund": {1: CompletionFundTerms},
    "distribution": {1: DistributionTerms},
    "sales": {1: SalesTerms},
}


def parse_terms(data: Mapping[str, object]) -> Terms:
    """JSON-like data -> typed terms of the schema its `kind` and `schema_version` name.

    Raises TermsInvalid listing every problem with its dotted field path.
    """
    if not isinstance(data, Mapping):
        raise TermsInvalid([field_error((), gettext("Terms must be an object."), "not_an_object")])
    kind = data.get("kind")
    versions = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if versions is None:
        message = gettext("Unknown offer kind %(kind)s; known: %(known)s.")
        problem = message % {"kind": repr(kind), "known": ", ".join(SCHEMAS)}
        raise TermsInvalid([field_error(("kind",), problem, "not_a_choice")])
    version = data.get("schema_version")
    schema = versions.get(version) if isinstance(version, int) and not isinstance(version, bool) else None
    if schema is None:
        known = ", ".join(str(v) for v in versions)
        message = gettext("Unknown schema version %(version)s for %(kind)s; known: %(known)s.")
        problem = message % {"version": repr(version), "kind": kind, "known": known}
        raise TermsInvalid([field_error(("schema_version",), problem, "not_a_choice")])
    try:
        return schema.model_validate(dict(data))
    except ValidationError as exc:
        raise TermsInvalid.from_validation_error(exc) from None
