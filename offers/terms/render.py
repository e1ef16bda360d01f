"""Terms as human-readable (label, value) lines in Spanish, French or English, for pages and deal memos.

Every label goes through Django's gettext so `make messages` collects it; numbers and dates use the
language's formats (EUR 4,300.00 / 4.300,00 / 4 300,00), country names come from django-countries and
language names from pycountry's ISO 639-3 catalogues, both already translated.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as python_gettext
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pycountry
from django.utils import formats, translation
from django.utils.translation import gettext, gettext_lazy, ngettext, ngettext_lazy
from django_countries import countries as country_names

from core.money import format_money as format_minor_units
from offers.terms.common import (
    Instalment,
    Money,
    Territories,
    Trigger,
    format_percent,
)
from offers.terms.types import (
    CompletionFundTerms,
    DistributionTerms,
    Medium,
    PostProductionTerms,
    RecoupmentPosition,
    SalesTerms,
    ServiceCategory,
    ServiceLine,
    ServiceUnit,
    Terms,
)

SUPPORTED_LANGUAGES = ("es", "fr", "en")
Line = tuple[str, str]

KIND_LABELS = {
    "post_production": gettext_lazy("Post-production services in kind"),
    "completion_fund": gettext_lazy("Completion fund"),
    "distribution": gettext_lazy("Distribution"),
    "sales": gettext_lazy("Sales and representation"),
}
GROUP_LABELS = {
    "WORLDWIDE": gettext_lazy("Worldwide"),
    "LATIN_AMERICA": gettext_lazy("Latin America"),
    "EUROPE": gettext_lazy("Europe"),
    "NORTH_AMERICA": gettext_lazy("North America"),
    "EU": gettext_lazy("European Union"),
}
CATEGORY_LABELS = {
    ServiceCategory.COLOUR_GRADING: gettext_lazy("Colour grading"),
    ServiceCategory.SOUND_EDITING: gettext_lazy("Sound editing"),
    ServiceCategory.SOUND_MIX_51: gettext_lazy("5.1 sound mix"),
    ServiceCategory.SOUND_MIX_ATMOS: gettext_lazy("Dolby Atmos sound mix"),
    ServiceCategory.VFX: gettext_lazy("Visual effects"),
    ServiceCategory.MUSIC: gettext_lazy("Music"),
    ServiceCategory.SUBTITLING: gettext_lazy("Subtitling"),
    ServiceCategory.DCP_DELIVERABLES: gettext_lazy("DCP and deliverables"),
    ServiceCategory.FESTIVAL_COPIES: gettext_lazy("Festival copies"),
    ServiceCategory.EDITING: gettext_lazy("Editing"),
    ServiceCategory.OTHER: gettext_lazy("Other service"),
}
UNIT_QUANTITIES = {
    ServiceUnit.DAY: ngettext_lazy("%(count)d day", "%(count)d days", "count"),
    ServiceUnit.WEEK: ngettext_lazy("%(count)d week", "%(count)d weeks", "count"),
    ServiceUnit.HOUR: ngettext_lazy("%(count)d hour", "%(count)d hours", "count"),
    ServiceUnit.LUMP_SUM: ngettext_lazy("%(count)d lump sum", "%(count)d lump sums", "count"),
    ServiceUnit.COPY: ngettext_lazy("%(count)d copy", "%(count)d copies", "count"),
    ServiceUnit.REEL: ngettext_lazy("%(count)d reel", "%(count)d reels", "count"),
}
RECOUPMENT_LABELS = {
    RecoupmentPosition.FIRST: gettext_lazy("First position"),
    RecoupmentPosition.PARI_PASSU: gettext_lazy("Pari passu"),
    RecoupmentPosition.AFTER_EQUITY: gettext_lazy("After equity"),
    RecoupmentPosition.NONE: gettext_lazy("No recoupment"),
}
MEDIUM_LABELS = {
    Medium.THEATRICAL: gettext_lazy("Theatrical"),
    Medium.FREE_TV: gettext_lazy("Free TV"),
    Medium.PAY_TV: gettext_lazy("Pay TV"),
    Medium.SVOD: gettext_lazy("SVOD"),
    Medium.TVOD: gettext_lazy("TVOD"),
    Medium.AVOD: gettext_lazy("AVOD"),
    Medium.AIRLINE: gettext_lazy("Airline"),
    Medium.EDUCATIONAL: gettext_lazy("Educational"),
    Medium.HOME_VIDEO: gettext_lazy("Home video"),
}


def render_terms(
    terms: Terms, language: str, *, organisation_names: Mapping[int, str] | None = None
) -> list[Line]:
    """(label, value) lines, in the order a reader expects them, in `language` (es, fr or en).

    Terms name organisations by id; `organisation_names` (from the database, see
    offers.selectors.terms_organisation_names) lets the lines show their names instead.
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"Terms render in {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    with translation.override(language):
        head = (gettext("Offer type"), str(KIND_LABELS[terms.kind]))
        if isinstance(terms, PostProductionTerms):
            return [head, *_post_production(terms, organisation_names or {})]
        renderers: dict[type[Any], Callable[[Any], list[Line]]] = {
            CompletionFundTerms: _completion_fund,
            DistributionTerms: _distribution,
            SalesTerms: _sales,
        }
        return [head, *renderers[type(terms)](terms)]


# --- one renderer per type ----------------------------------------------------------------------------


def _post_production(terms: PostProductionTerms, names: Mapping[int, str]) -> list[Line]:
    consideration = terms.consideration
    provider = names.get(terms.provider_organisation_id) or gettext("Organisation #%(id)d") % {
        "id": terms.provider_organisation_id
    }
    lines = [(gettext("Provider organisation"), provider)]
    lines += [
        (gettext("Service %(number)d") % {"number": number}, _service_line(line))
        for number, line in enumerate(terms.service_lines, start=1)
    ]
    lines += [
        (gettext("Total value"), format_money(terms.total_value)),
        (
            gettext("Facility"),
            gettext("%(city)s, %(country)s")
            % {"city": terms.facility.city, "country": country_name(terms.facility.country)},
        ),
        (gettext("Time window"), _period(terms.time_window.start, terms.time_window.end)),
        (gettext("Deliverables"), "; ".join(terms.deliverables) or gettext("None")),
        (gettext("Credit"), _yes_no(consideration.credit)),
        (gettext("Logo"), _yes_no(consideration.logo)),
    ]
    if consideration.co_production_share_bp is not None:
        lines.append((gettext("Co-production share"), format_percent(consideration.co_production_share_bp)))
    if consideration.rights_territories is not None:
        lines.append((gettext("Rights in territories"), format_territories(consideration.rights_territories)))
    lines.append((gettext("Signature deadline"), format_date(terms.signature_deadline)))
    return lines


def _completion_fund(terms: CompletionFundTerms) -> list[Line]:
    lines = [(gettext("Amount"), format_money(terms.amount))]
    lines += _schedule(gettext("Tranche %(number)d"), terms.tranches, terms.tranche_amounts)
    lines += [
        (gettext("Condition %(number)d") % {"number": number}, condition)
        for number, condition in enumerate(terms.conditions, start=1)
    ]
    lines.append((gettext("Recoupment position"), str(RECOUPMENT_LABELS[terms.recoupment_position])))
    if terms.credit_obligations:
        lines.append((gettext("Credit obligations"), terms.credit_obligations))
    if terms.report_deadlines:
        deadlines = "; ".join(format_date(deadline) for deadline in terms.report_deadlines)
        lines.append((gettext("Report deadlines"), deadlines))
    return lines


def _distribution(terms: DistributionTerms) -> list[Line]:
    term = terms.term
    if term.end is not None:
        term_text = _period(term.start, term.end)
    else:  # Term's validator guarantees years when there is no end
        count = term.years or 0
        years = ngettext("%(count)d year from %(start)s", "%(count)d years from %(start)s", count)
        term_text = years % {"count": count, "start": format_date(term.start)}
    media = ", ".join(str(label) for medium, label in MEDIUM_LABELS.items() if medium in terms.media)
    lines = [
        (gettext("Territories"), format_territories(terms.territories)),
        (gettext("Media and rights"), media),
        (gettext("Exclusivity"), gettext("Exclusive") if terms.exclusive else gettext("Non-exclusive")),
        (gettext("Term"), term_text),
        (gettext("Minimum guarantee"), format_money(terms.minimum_guarantee)),
    ]
    lines += _schedule(gettext("Instalment %(number)d"), terms.payment_schedule, terms.instalment_amounts)
    lines += [
        (gettext("Distributor's share of revenue"), format_percent(terms.distributor_share_bp)),
        (gettext("Distribution fee"), format_percent(terms.distribution_fee_bp)),
    ]
    lines += [
        (
            gettext("Holdback %(number)d") % {"number": number},
            gettext("%(media)s: %(days)s")
            % {"media": MEDIUM_LABELS[holdback.media], "days": _quantity(holdback.days, ServiceUnit.DAY)},
        )
        for number, holdback in enumerate(terms.holdbacks, start=1)
    ]
    if terms.release is not None:
        lines += [
            (
                gettext("Minimum screens"),
                formats.number_format(terms.release.min_screens, force_grouping=True),
            ),
            (gettext("Release window"), _period(terms.release.window.start, terms.release.window.end)),
        ]
    lines.append((gettext("Minimum P&A spend"), format_money(terms.minimum_pa_spend)))
    return lines


def _sales(terms: SalesTerms) -> list[Line]:
    years = ngettext("%(count)d year", "%(count)d years", terms.term_years) % {"count": terms.term_years}
    lines = [
        (gettext("Territories"), format_territories(terms.territories)),
        (gettext("Commission"), format_percent(terms.commission_bp)),
        (gettext("Expenses cap"), format_money(terms.expenses_cap)),
        (gettext("Term"), years),
    ]
    if terms.minimum_guarantee is not None:
        lines.append((gettext("Minimum guarantee"), format_money(terms.minimum_guarantee)))
    lines += [
        (
            gettext("Minimum price %(number)d") % {"number": number},
            gettext("%(territories)s: %(price)s")
            % {"territories": format_territories(entry.territories), "price": format_money(entry.price)},
        )
        for number, entry in enumerate(terms.minimum_prices, start=1)
    ]
    return lines


# --- values -------------------------------------------------------------------------------------------


def format_money(money: Money) -> str:
    """The platform's one money formatter (``core.money.format_money``), for terms."""
    return format_minor_units(money.amount_minor, money.currency)


def format_date(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def format_territories(territories: Territories) -> str:
    """Groups first, then countries by name: "Worldwide, excluding France, Spain"."""
    included = _territory_names(territories.include)
    if not territories.exclude:
        return included
    excluded = _territory_names(territories.exclude)
    return gettext("%(included)s, excluding %(excluded)s") % {"included": included, "excluded": excluded}


def country_name(code: str) -> str:
    return str(country_names.name(code)) or code


def language_name(code: str) -> str:
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    if found is None:
        return code
    return _iso_639_catalogue(translation.get_language() or "en").gettext(str(found.name))


@functools.cache
def _iso_639_catalogue(language: str) -> python_gettext.NullTranslations:
    return python_gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _territory_names(codes: Sequence[str]) -> str:
    groups = [str(label) for code, label in GROUP_LABELS.items() if code in codes]
    names = sorted(country_name(code) for code in codes if code not in GROUP_LABELS)
    return ", ".join(groups + names)


def _service_line(line: ServiceLine) -> str:
    service = str(CATEGORY_LABELS[line.category])
    if line.languages:
        languages = ", ".join(sorted(language_name(code) for code in line.languages))
        service = gettext("%(service)s (%(languages)s)") % {"service": service, "languages": languages}
    if line.description:
        service = gettext("%(service)s: %(description)s") % {
            "service": service,
            "description": line.description,
        }
    return f"{service} — {_quantity(line.quantity, line.unit)} — {format_money(line.value)}"


def _quantity(count: int, unit: ServiceUnit) -> str:
    return str(UNIT_QUANTITIES[unit] % {"count": count})


def _schedule(label: str, steps: Sequence[Instalment], amounts: Sequence[Money]) -> list[Line]:
    return [
        (
            label % {"number": number},
            gettext("%(share)s (%(amount)s) %(trigger)s")
            % {
                "share": format_percent(step.share_bp),
                "amount": format_money(amount),
                "trigger": _trigger(step),
            },
        )
        for number, (step, amount) in enumerate(zip(steps, amounts, strict=True), start=1)
    ]


def _trigger(step: Instalment) -> str:
    if step.trigger is Trigger.ON_DATE and step.date is not None:
        return gettext("on %(date)s") % {"date": format_date(step.date)}
    if step.trigger is Trigger.ON_DELIVERY:
        return gettext("on delivery: %(description)s") % {"description": step.description}
    return gettext("on signature")


def _period(start: dt.date, end: dt.date) -> str:
    return gettext("From %(start)s to %(end)s") % {"start": format_date(start), "end": format_date(end)}


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")
