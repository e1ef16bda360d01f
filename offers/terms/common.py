"""Value types shared by every offer type: money, territories, languages, percentages, dates.

Conventions:
- Money is an integer amount in minor units plus an ISO 4217 currency (docs/architecture.md, invariant
  5); its exponents, the payable currencies and the formatter are ``core.money``'s. Amounts stop at
  2**53 - 1 so that every JSON parser reads them exactly (I-JSON, RFC 8785).
- Percentages are integer basis points, 0..10000 (7500 = 75 %), in fields whose names end in `_bp`.
  No floats: shares must add up to exactly 100 % and split money exactly, and the canonical JSON that
  an agreement hashes must not depend on how a float is printed.
- Set-like fields (territories, languages, media) are stored sorted and de-duplicated, so equal terms
  have one canonical form and one hash. Lists whose order means something keep their order.
- Codes are accepted in any case and stored in their standard case (FR, EUR, es).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self, TypeVar

import pycountry
from django.utils import formats
from django.utils.translation import gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic.fields import FieldInfo

from core.money import NOT_PAYABLE, currency_exponent, minor_to_major
from offers.terms.errors import Problem, fail, invalid
from offers.terms.territory_groups import TERRITORY_GROUPS

MAX_SAFE_INTEGER = 2**53 - 1


class TermsModel(BaseModel):
    """Base of every terms model: immutable, and unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Unordered:
    """Marks a tuple field as a set: diffs compare it as one value rather than item by item."""

    def __repr__(self) -> str:
        return "UNORDERED"


UNORDERED = _Unordered()


def is_unordered(field: FieldInfo) -> bool:
    return any(isinstance(item, _Unordered) for item in field.metadata)


_T = TypeVar("_T", bound=str)


def sorted_unique(values: tuple[_T, ...]) -> tuple[_T, ...]:
    return tuple(sorted(set(values)))


def _shown(value: object) -> str:
    """A value a person typed, quoted as they typed it, in an error message."""
    return repr(value)


def end_before_start(start: dt.date, end: dt.date) -> str:
    message = gettext("The end (%(end)s) is before the start (%(start)s).")
    return message % {"end": end.isoformat(), "start": start.isoformat()}


# --- text ---------------------------------------------------------------------------------------------

ShortText = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Clause = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=4000)]


# --- dates --------------------------------------------------------------------------------------------


def _iso_date(value: object) -> object:
    """A date object, or a string in exactly the form YYYY-MM-DD; never a datetime or a timestamp."""
    if isinstance(value, dt.datetime):
        raise invalid(gettext("Give a date (YYYY-MM-DD), not a date and time."))
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise invalid(gettext("%(value)s is not a date in the form YYYY-MM-DD.") % {"value": _shown(value)})
    raise invalid(gettext("Give a date in the form YYYY-MM-DD."))


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), Strict()]


class DateRange(TermsModel):
    start: IsoDate
    end: IsoDate

    @model_validator(mode="after")
    def _start_not_after_end(self) -> Self:
        if self.start > self.end:
            raise fail([(("end",), end_before_start(self.start, self.end))])
        return self


# --- percentages --------------------------------------------------------------------------------------

BasisPoints = Annotated[StrictInt, Field(ge=0, le=10_000)]
PositiveBasisPoints = Annotated[StrictInt, Field(ge=1, le=10_000)]
HUNDRED_PERCENT = 10_000


def basis_points_to_decimal(basis_points: int) -> Decimal:
    """1250 -> Decimal("12.5"), 7500 -> Decimal("75"), 1234 -> Decimal("12.34")."""
    places = 0 if basis_points % 100 == 0 else 1 if basis_points % 10 == 0 else 2
    return (Decimal(basis_points) / 100).quantize(Decimal(1).scaleb(-places))


def format_percent(basis_points: int) -> str:
    """Basis points as the reader writes a percentage: "12.5 %", "12,5 %" (terms, errors and memos)."""
    number = formats.number_format(basis_points_to_decimal(basis_points))
    return gettext("%(percent)s %%") % {"percent": number}


# --- money --------------------------------------------------------------------------------------------


def _currency_code(value: str) -> str:
    code = value.upper()
    well_formed = len(code) == 3 and code.isascii() and code.isalpha()
    if not well_formed or pycountry.currencies.get(alpha_3=code) is None:
        raise invalid(gettext("%(value)s is not an ISO 4217 currency code.") % {"value": _shown(value)})
    if code in NOT_PAYABLE:
        raise invalid(gettext("%(code)s is not a currency an offer can be paid in.") % {"code": code})
    return code


CurrencyCode = Annotated[StrictStr, AfterValidator(_currency_code)]


def _whole_minor_units(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        message = gettext("Give the amount as a whole number of minor units (cents), not %(value)s.")
        raise invalid(message % {"value": _shown(value)})
    return value


MinorUnits = Annotated[StrictInt, BeforeValidator(_whole_minor_units), Field(ge=0, le=MAX_SAFE_INTEGER)]


class Money(TermsModel):
    amount_minor: MinorUnits
    currency: CurrencyCode

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact: EUR 430000 minor -> Decimal("4300.00")."""
        return minor_to_major(self.amount_minor, self.currency)

    @classmethod
    def total(cls, amounts: Iterable[Money]) -> Money:
        items = list(amounts)
        currencies = {item.currency for item in items}
        if len(currencies) != 1:
            raise ValueError(f"Cannot add money in {len(currencies)} currencies: {sorted(currencies)}")
        return cls(amount_minor=sum(item.amount_minor for item in items), currency=items[0].currency)


def split_by_shares(total: Money, shares_bp: Sequence[int]) -> tuple[Money, ...]:
    """Split `total` by shares that add up to 100 % into amounts that add up to `total` exactly.

    Largest remainder: every part gets the floor of its exact share, and the minor units left over go
    one each to the parts with the largest remainders (the earlier part first on a tie).
    """
    if sum(shares_bp) != HUNDRED_PERCENT or any(share < 0 for share in shares_bp):
        raise ValueError(f"Shares must be non-negative and add up to {HUNDRED_PERCENT} basis points")
    floors = [total.amount_minor * share // HUNDRED_PERCENT for share in shares_bp]
    remainders = [total.amount_minor * share % HUNDRED_PERCENT for share in shares_bp]
    left_over = total.amount_minor - sum(floors)
    for index in sorted(range(len(shares_bp)), key=lambda i: (-remainders[i], i))[:left_over]:
        floors[index] += 1
    return tuple(Money(amount_minor=amount, currency=total.currency) for amount in floors)


# --- payment steps (completion fund tranches, distribution MG instalments) ---------------------------


class Trigger(StrEnum):
    ON_SIGNATURE = "on_signature"
    ON_DATE = "on_date"
    ON_DELIVERY = "on_delivery"


class Instalment(TermsModel):
    """A share of an amount and what makes it payable: signature, a date, or a delivery (described)."""

    share_bp: PositiveBasisPoints
    trigger: Trigger
    date: IsoDate | None = None  # with on_date only
    description: ShortText | None = None  # with on_delivery only: "delivery with proof of expenses"

    @model_validator(mode="after")
    def _trigger_details(self) -> Self:
        problems: list[Problem] = []
        on_date, on_delivery = self.trigger is Trigger.ON_DATE, self.trigger is Trigger.ON_DELIVERY
        if on_date and self.date is None:
            problems.append((("date",), gettext("A payment on a date needs the date.")))
        if not on_date and self.date is not None:
            message = gettext("A date goes only with a payment on a date, not %(trigger)s.")
            problems.append((("date",), message % {"trigger": self.trigger.value}))
        if on_delivery and self.description is None:
            message = gettext("A payment on delivery needs a description of the delivery.")
            problems.append((("description",), message))
        if not on_delivery and self.description is not None:
            message = gettext("A description goes only with a payment on delivery, not %(trigger)s.") % {
                "trigger": self.trigger.value
            }
            problems.append((("description",), message))
        if problems:
            raise fail(problems)
        return self


def schedule_problems(schedule: Sequence[Instalment], field: str) -> list[Problem]:
    total = sum(step.share_bp for step in schedule)
    if total != HUNDRED_PERCENT:
        message = gettext("The shares add up to %(total)s; they must add up to 100 %%.")
        return [((field,), message % {"total": format_percent(total)})]
    return []


# --- territories ----------------------------------------------------------------------------------------


def _country_code(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or not code.isascii() or pycountry.countries.get(alpha_2=code) is None:
        raise invalid(
            gettext("%(value)s is not an ISO 3166-1 alpha-2 country code.") % {"value": _shown(value)}
        )
    return code


def _territory_code(value: str) -> str:
    name = value.upper()
    if name in TERRITORY_GROUPS:
        return name
    if len(name) != 2:
        groups = ", ".join(TERRITORY_GROUPS)
        message = gettext("%(value)s is neither an ISO 3166-1 alpha-2 country code nor a group (%(groups)s).")
        raise invalid(message % {"value": _shown(value), "groups": groups})
    return _country_code(value)


CountryCode = Annotated[StrictStr, AfterValidator(_country_code)]
TerritoryCode = Annotated[StrictStr, AfterValidator(_territory_code)]
TerritoryCodes = Annotated[tuple[TerritoryCode, ...], AfterValidator(sorted_unique), UNORDERED]


def resolve(codes: Iterable[str]) -> frozenset[str]:
    """Country codes and group names -> the set of country codes they cover."""
    countries: set[str] = set()
    for code in codes:
        countries |= TERRITORY_GROUPS.get(code, {code})
    return frozenset(countries)


class Territories(TermsModel):
    """Countries and named groups, minus exclusions: {"include": ["WORLDWIDE"], "exclude": ["FR", "ES"]}."""

    include: TerritoryCodes
    exclude: TerritoryCodes = ()

    @model_validator(mode="after")
    def _resolvable(self) -> Self:
        if not self.include:
            raise fail([(("include",), gettext("Name at least one country or group."))])
        included = resolve(self.include)
        outside = [code for code in self.exclude if not resolve([code]) <= included]
        if outside:
            message = gettext("Excluded but not included: %(codes)s.") % {"codes": ", ".join(outside)}
            raise fail([(("exclude",), message)])
        if not included - resolve(self.exclude):
            raise fail([((), gettext("The exclusions leave no country."))])
        return self

    def countries(self) -> frozenset[str]:
        return resolve(self.include) - resolve(self.exclude)


# --- languages ------------------------------------------------------------------------------------------


def _language_code(value: str) -> str:
    """ISO 639-1 or 639-3; a 639-3 code that has a 639-1 equivalent is stored as that ("spa" -> "es")."""
    code = value.lower()
    language: Any = None
    if code.isascii() and code.isalpha():
        if len(code) == 2:
            language = pycountry.languages.get(alpha_2=code)
        elif len(code) == 3:
            language = pycountry.languages.get(alpha_3=code)
    if language is None:
        raise invalid(
            gettext("%(value)s is not an ISO 639-1 or ISO 639-3 language code.") % {"value": _shown(value)}
        )
    return str(getattr(language, "alpha_2", None) or language.alpha_3)


LanguageCode = Annotated[StrictStr, AfterValidator(_language_code)]
Languages = Annotated[tuple[LanguageCode, ...], AfterValidator(sorted_unique), UNORDERED]
